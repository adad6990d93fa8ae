public import LedgerCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a pipeline, held by at most one process of this machine at a time: an advisory `flock`
/// on a file. The kernel releases it when the process exits, however it exits (a SIGKILL included), so a crash
/// never leaves a stale lock behind.
///
/// The file holds the holder's process id and purpose, so that a refused caller can say who holds it.
///
/// A log that several machines share adds a ``SharedLock``, taken once the file lock is held: the log's database
/// keeps it, so that the machines take turns too.
public final class RunLock: Sendable {
    /// A lock beyond this machine, such as a PostgreSQL advisory lock in the log's own database.
    public struct SharedLock: Sendable {
        /// Takes the lock if it is free; false if somebody else holds it.
        public var tryTake: @Sendable () async throws(LedgerError) -> Bool
        /// Who holds it, if that can be told.
        public var holder: @Sendable () async -> String?
        /// Lets go of it.
        public var release: @Sendable () -> Void

        public init(
            tryTake: @escaping @Sendable () async throws(LedgerError) -> Bool,
            holder: @escaping @Sendable () async -> String?,
            release: @escaping @Sendable () -> Void
        ) {
            self.tryTake = tryTake
            self.holder = holder
            self.release = release
        }
    }

    public let path: String
    private let descriptor: Int32
    private let shared: SharedLock?
    private let released = Atomic<Bool>(false)

    private init(path: String, descriptor: Int32, shared: SharedLock?) {
        self.path = path
        self.descriptor = descriptor
        self.shared = shared
    }

    deinit {
        release()
        close(descriptor)
    }

    /// Takes the lock at `path`, creating the file if needed.
    ///
    /// - Parameters:
    ///   - purpose: a short text such as `ledger run`, written into the file for whoever is refused.
    ///   - waitSeconds: how long to wait for a holder to let go; 0 refuses at once.
    ///   - stop: gives up waiting as soon as it stops.
    ///   - shared: a lock beyond this machine to take as well, within the same wait; released with this one.
    /// - Throws: `run.locked`, naming the holder, if either lock is still held after `waitSeconds` or `stop`
    ///   stopped; `store.failure` if the file cannot be opened; whatever `shared` throws.
    public static func acquire(
        at path: String,
        purpose: String,
        waitSeconds: Double = 0,
        stop: StopSignal? = nil,
        shared: SharedLock? = nil
    ) async throws(LedgerError) -> RunLock {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw LedgerError(.storage, "cannot open the run lock \(path): \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(max(0, waitSeconds) * 1000))
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline, stop?.isStopped != true else {
                let holder = Self.holder(descriptor)
                close(descriptor)
                throw LedgerError(
                    .runLocked,
                    "another process holds the pipeline's run lock (\(holder)); wait for it to finish, or pass "
                        + "--wait SECONDS to wait for it"
                )
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        let note = Array("pid \(getpid()): \(purpose)\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = note.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        let lock = RunLock(path: path, descriptor: descriptor, shared: shared)
        guard let shared else { return lock }
        // The file lock is held from here on, and dropping `lock` lets go of both.
        while try await !shared.tryTake() {
            guard ContinuousClock.now < deadline, stop?.isStopped != true else {
                let holder = await shared.holder() ?? "a process that does not say who it is"
                throw LedgerError(
                    .runLocked,
                    "another workspace on the same log holds the pipeline's run lock in the log's database "
                        + "(\(holder)); wait for it to finish, or pass --wait SECONDS to wait for it"
                )
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return lock
    }

    /// Lets go of the lock, and of the shared lock if it holds one; releasing the object does the same.
    public func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shared?.release()
        _ = ftruncate(descriptor, 0)
        _ = flock(descriptor, LOCK_UN)
    }

    private static func holder(_ descriptor: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        let text = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "unknown process"
    }
}

extension LedgerError.Code {
    /// Another process is running the pipeline.
    public static let runLocked = Self(rawValue: "run.locked")
    /// A pipeline run gave up at a step.
    public static let runFailed = Self(rawValue: "run.failed")
    /// An open run that started with another configuration or code version than the runner has now.
    public static let runChanged = Self(rawValue: "run.changed")
}
