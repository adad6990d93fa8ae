public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where tests write files: one folder per test process, `modelledger-tests-PID` in the system's temporary folder,
/// removed when the process exits.
///
/// A test that owns a folder still removes it when done, which keeps the suite's peak disk use down; this is the
/// net under it. A full run writes gigabytes (demo Audit DBs, copied workspaces, models), and a suite that leaves
/// them behind fills a CI disk in a few runs, at which point the first thing to break is an unrelated server
/// refusing writes. Folders of test processes that are gone, such as a run killed mid-way, are swept on the next
/// run's first use.
public enum TestScratch {
    /// This process's folder, created on first use.
    public static let root: String = {
        let manager = FileManager.default
        let base = manager.temporaryDirectory.path
        sweepFoldersOfGoneProcesses(in: base)
        let root = base + "/" + prefix + String(getpid())
        try? manager.createDirectory(atPath: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: TestScratch.root) }
        return root
    }()

    /// A fresh path in ``root``, `NAME-UUID` followed by `suffix`; nothing exists there yet.
    public static func path(_ name: String, suffix: String = "") -> String {
        root + "/" + name + "-" + UUID().uuidString + suffix
    }

    /// A fresh, empty folder in ``root``.
    public static func folder(_ name: String) throws -> String {
        let path = path(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private static let prefix = "modelledger-tests-"

    private static func sweepFoldersOfGoneProcesses(in base: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        for name in names where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid != getpid() else { continue }
            // kill(pid, 0) probes without signalling: ESRCH means no such process.
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: base + "/" + name)
            }
        }
    }
}

/// A fresh folder in ``TestScratch``, removed when the last reference to it goes.
public final class TemporaryFolder: Sendable {
    public let path: String
    public var url: URL { URL(fileURLWithPath: path) }

    public init(_ name: String = "folder") throws {
        path = try TestScratch.folder(name)
    }

    /// `name` inside the folder.
    public func path(_ name: String) -> String { path + "/" + name }

    /// Writes `text` to `name` inside the folder and returns its path.
    public func write(_ text: String, to name: String) throws -> String {
        let file = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
