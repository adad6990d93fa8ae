import Foundation
import LedgerTestSupport
import LedgerTesting
import Testing

/// A fresh, empty ``TemporaryFolder`` for one test, removed when `body` returns.
func withTemporaryFolder<Result>(_ body: (String) async throws -> Result) async throws -> Result {
    let folder = try TemporaryFolder("artifacts")
    defer { withExtendedLifetime(folder) {} }
    return try await body(folder.path)
}

/// Every regular file under `root`, as paths relative to it, sorted.
func filesUnder(_ root: String) throws -> [String] {
    let manager = FileManager.default
    return try manager.subpathsOfDirectory(atPath: root).filter { subpath in
        var isFolder: ObjCBool = false
        return manager.fileExists(atPath: root + "/" + subpath, isDirectory: &isFolder) && !isFolder.boolValue
    }.sorted()
}

func readBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}
