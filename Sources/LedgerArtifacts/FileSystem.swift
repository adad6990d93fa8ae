import Crypto
import LedgerCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls the file store needs, each failing with a `store.failure` that names the path.
///
/// Every function retries on `EINTR` and leaves no descriptor open when it throws.
enum FileSystem {
    /// Mode of new folders, set exactly whatever the umask (as files get exactly theirs): under `umask 000` the
    /// folders would otherwise be 0777, and anyone could delete or swap the artifacts in them.
    static let folderMode: mode_t = 0o755
    /// Size of the chunks a file is hashed in.
    static let chunkSize = 1 << 20

    static func failure(_ action: String, _ path: String, _ code: Int32 = errno) -> LedgerError {
        LedgerError(.storage, "cannot \(action) \(path): \(String(cString: strerror(code)))")
    }

    /// Creates `path` and any missing parents, each made durable in its parent folder.
    static func createDirectories(_ path: String) throws(LedgerError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            let parent = prefix.isEmpty ? "." : prefix
            prefix += prefix.isEmpty || prefix.hasSuffix("/") ? String(component) : "/" + component
            if mkdir(prefix, folderMode) == 0 {
                guard chmod(prefix, folderMode) == 0 else { throw failure("set the mode of", prefix) }
                try syncDirectory(parent)
            } else if errno == EEXIST {
                guard try kind(of: prefix) == .folder else {
                    throw LedgerError(.storage, "cannot create folder \(prefix): a file is in the way")
                }
            } else {
                throw failure("create folder", prefix)
            }
        }
    }

    enum Kind: Equatable {
        case missing
        case regularFile
        case folder
        case other
    }

    /// What is at `path`, following symbolic links. A path through a file counts as missing.
    static func kind(of path: String) throws(LedgerError) -> Kind {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return .missing }
            throw failure("inspect", path)
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .regularFile
        case S_IFDIR: return .folder
        default: return .other
        }
    }

    /// Creates a new file at `path` with exactly `mode`, whatever the umask; fails if anything is there.
    static func createNewFile(_ path: String, mode: mode_t) throws(LedgerError) -> Int32 {
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { throw failure("create", path) }
        guard fchmod(descriptor, mode) == 0 else {
            let code = errno
            close(descriptor)
            unlink(path)
            throw failure("set the mode of", path, code)
        }
        return descriptor
    }

    /// Writes all of `bytes` to `descriptor`, the open file at `path`.
    static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(LedgerError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress?.advanced(by: written), buffer.count - written)
            }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { throw failure("write", path) }
            written += result
        }
    }

    /// Flushes the file at `path` to stable storage, then closes `descriptor` whatever happens.
    static func syncAndClose(_ descriptor: Int32, path: String) throws(LedgerError) {
        var synced: Int32
        repeat { synced = fsync(descriptor) } while synced != 0 && errno == EINTR
        let syncError = errno
        let closed = close(descriptor)
        guard synced == 0 else { throw failure("sync", path, syncError) }
        guard closed == 0 else { throw failure("close", path) }
    }

    /// Makes creations, renames and removals in the folder at `path` durable.
    static func syncDirectory(_ path: String) throws(LedgerError) {
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { throw failure("open folder", path) }
        try syncAndClose(descriptor, path: path)
    }

    /// Renames `source` over `destination` atomically; on failure removes `source`.
    static func replace(_ destination: String, with source: String) throws(LedgerError) {
        guard rename(source, destination) == 0 else {
            let code = errno
            unlink(source)
            throw failure("rename \(source) to", destination, code)
        }
    }

    /// Opens `path` for reading, or returns `nil` if nothing is there.
    static func openForReading(_ path: String) throws(LedgerError) -> Int32? {
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw failure("open", path)
        }
        return descriptor
    }

    /// Reads up to `count` bytes into `buffer` at `offset`; returns how many, 0 at the end of the file.
    private static func readSome(
        _ descriptor: Int32,
        into buffer: inout [UInt8],
        at offset: Int,
        path: String
    ) throws(LedgerError) -> Int {
        while true {
            let result = buffer.withUnsafeMutableBytes { raw in
                read(descriptor, raw.baseAddress?.advanced(by: offset), raw.count - offset)
            }
            if result < 0, errno == EINTR { continue }
            guard result >= 0 else { throw failure("read", path) }
            return result
        }
    }

    /// The whole content of the file at `path`, or `nil` if nothing is there.
    static func readFile(_ path: String) throws(LedgerError) -> [UInt8]? {
        guard let descriptor = try openForReading(path) else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("inspect", path) }
        // One spare byte, so that a file of the expected size is read to its end without growing the buffer.
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size) + 1)
        var filled = 0
        while true {
            if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: chunkSize)) }
            let count = try readSome(descriptor, into: &bytes, at: filled, path: path)
            if count == 0 { break }
            filled += count
        }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }

    /// The SHA-256 of the file at `path`, read in chunks, or `nil` if nothing is there.
    static func sha256(ofFileAt path: String) throws(LedgerError) -> Hash256? {
        guard let descriptor = try openForReading(path) else { return nil }
        defer { close(descriptor) }
        var hasher = SHA256()
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = try readSome(descriptor, into: &chunk, at: 0, path: path)
            if count == 0 { break }
            chunk.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        return hash(hasher.finalize())
    }

    /// A finished SHA-256 as a ``Hash256``.
    static func hash(_ digest: SHA256.Digest) -> Hash256 {
        guard let hash = digest.withUnsafeBytes({ Hash256(bytes: $0) }) else {
            preconditionFailure("a SHA-256 digest is 32 bytes")
        }
        return hash
    }

    /// A fresh name for a temporary file: `.tmp-` and 16 random hex digits. No object name starts with a dot.
    static func temporaryName() -> String {
        var generator = SystemRandomNumberGenerator()
        let random = String(generator.next() as UInt64, radix: 16)
        return ".tmp-" + String(repeating: "0", count: 16 - random.count) + random
    }
}
