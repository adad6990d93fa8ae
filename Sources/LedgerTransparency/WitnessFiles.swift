import Foundation
public import LedgerCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LedgerError.Code {
    /// A witness's folder (its configuration or a stored checkpoint) is missing, unreadable, torn or tampered with.
    /// The witness refuses to cosign rather than start again from nothing.
    public static let witnessState = Self(rawValue: "witness.state")
    /// An add-checkpoint request or a witness's response that is not of the form tlog-witness specifies.
    public static let witnessRequest = Self(rawValue: "witness.request")
}

/// The durable file operations of a witness folder: atomic replacement (temporary file, fsync, rename, fsync of the
/// folder), bounded reads and an exclusive lock shared with other processes.
enum WitnessFiles {
    /// Replaces `path` with `bytes` so that a crash leaves the old content or the new, never a mix, and the new
    /// content is on disk when this returns.
    ///
    /// - Throws: `witness.state` naming the path when any step fails; the temporary file is removed.
    static func replace(_ path: String, with bytes: [UInt8], mode: mode_t = 0o644) throws(LedgerError) {
        // A bare file name is in the current folder: its temporary file too, never at the file system's root.
        let parent = (path as NSString).deletingLastPathComponent
        let folder = parent.isEmpty ? "." : parent
        let name = (path as NSString).lastPathComponent
        let temporary = folder + "/." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw failure("cannot create a temporary file beside \(path)") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress?.advanced(by: written), buffer.count - written)
            }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else {
                let error = failure("cannot write \(path)")
                close(descriptor)
                unlink(temporary)
                throw error
            }
            written += result
        }
        fchmod(descriptor, mode)
        guard fsync(descriptor) == 0 else {
            let error = failure("cannot sync \(path)")
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot replace \(path)")
            unlink(temporary)
            throw error
        }
        try syncFolder(folder)
    }

    /// Makes a create or rename in `folder` durable.
    static func syncFolder(_ folder: String) throws(LedgerError) {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot open folder \(folder) to sync it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("cannot sync folder \(folder)") }
    }

    /// Creates `path` (mode 0700) if it is missing; its parent must exist.
    static func createFolder(_ path: String) throws(LedgerError) {
        if mkdir(path, 0o700) == 0 {
            try syncFolder((path as NSString).deletingLastPathComponent)
            return
        }
        var status = stat()
        guard errno == EEXIST, stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw failure("cannot create folder \(path)")
        }
    }

    /// The bytes of `path`, or nil when there is no such file.
    ///
    /// - Throws: `witness.state` for a file larger than `limit`, a folder, or a read that fails.
    static func read(_ path: String, limit: Int) throws(LedgerError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw failure("cannot read \(path)")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw LedgerError(.witnessState, "\(path) is not a regular file")
        }
        guard status.st_size <= limit else {
            throw LedgerError(.witnessState, "\(path) holds \(status.st_size) bytes, more than the \(limit) allowed")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 14)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw failure("cannot read \(path)") }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
            guard bytes.count <= limit else {
                throw LedgerError(.witnessState, "\(path) holds more than the \(limit) bytes allowed")
            }
        }
        return bytes
    }

    /// Runs `body` holding an exclusive `flock` on `path` (created if missing), which excludes every other holder
    /// of that lock, in this process or another, until `body` returns. The kernel drops the lock if the process
    /// dies, so a killed witness never leaves it held.
    static func withExclusiveLock<T>(
        _ path: String,
        _ body: () throws(LedgerError) -> T
    ) throws(LedgerError) -> T {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure("cannot open the lock file \(path)") }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw failure("cannot lock \(path)") }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }

    private static func failure(_ what: String) -> LedgerError {
        LedgerError(.witnessState, "\(what): \(String(cString: strerror(errno)))")
    }
}

/// `read(2)`, under a name that the static ``WitnessFiles/read(_:limit:)`` does not hide.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
