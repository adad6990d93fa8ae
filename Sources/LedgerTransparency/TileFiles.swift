// The POSIX file operations of the tile reader and publisher: bounded reads, durable writes, folders, a lock.

import LedgerCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File operations that fail with `store.failure` naming the path; each retries on `EINTR` and leaves no descriptor
/// open when it throws.
enum TileFiles {
    /// Mode of the folders and files a publisher creates: readable by a web server running as another user.
    static let folderMode: mode_t = 0o755
    static let fileMode: mode_t = 0o644

    static func failure(_ action: String, _ path: String, _ code: Int32 = errno) -> LedgerError {
        LedgerError(.storage, "cannot \(action) \(path): \(String(cString: strerror(code)))")
    }

    /// The bytes of the regular file at `path`, nil if nothing is there.
    ///
    /// - Throws: `tile.malformed` if it is longer than `limit` bytes or not a regular file; `store.failure` if reading
    ///   fails.
    static func readFile(_ path: String, limit: Int) throws(LedgerError) -> [UInt8]? {
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw failure("open", path)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("inspect", path) }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw LedgerError(.tileMalformed, "\(path) is not a regular file")
        }
        guard status.st_size <= limit else {
            throw LedgerError(.tileMalformed, "\(path) has \(status.st_size) bytes, more than the \(limit) allowed")
        }
        // Read one byte past the limit so that a file that grew after fstat is still refused.
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count < bytes.count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress?.advanced(by: count), buffer.count - count)
            }
            if result < 0, errno == EINTR { continue }
            guard result >= 0 else { throw failure("read", path) }
            if result == 0 { break }
            count += result
        }
        guard count <= limit else {
            throw LedgerError(.tileMalformed, "\(path) has more than the \(limit) bytes allowed")
        }
        return Array(bytes.prefix(count))
    }

    /// Whether anything is at `path`.
    static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }

    /// Creates `path` and any missing parents; returns the folders it created (so their parents can be synced).
    static func createDirectories(_ path: String) throws(LedgerError) -> [String] {
        var created: [String] = []
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += prefix.isEmpty || prefix.hasSuffix("/") ? String(component) : "/" + component
            if mkdir(prefix, folderMode) == 0 {
                guard chmod(prefix, folderMode) == 0 else { throw failure("set the mode of", prefix) }
                created.append(prefix)
            } else if errno != EEXIST {
                throw failure("create folder", prefix)
            }
        }
        return created
    }

    /// Writes `bytes` to a new file at `path` (nothing may be there) and fsyncs it. The folder is not synced.
    static func writeNew(_ bytes: [UInt8], to path: String) throws(LedgerError) {
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { throw failure("create", path) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress?.advanced(by: written), buffer.count - written)
            }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else {
                let code = errno
                close(descriptor)
                unlink(path)
                throw failure("write", path, code)
            }
            written += result
        }
        guard fchmod(descriptor, fileMode) == 0 else {
            let code = errno
            close(descriptor)
            unlink(path)
            throw failure("set the mode of", path, code)
        }
        var synced: Int32
        repeat { synced = fsync(descriptor) } while synced != 0 && errno == EINTR
        let code = errno
        close(descriptor)
        guard synced == 0 else {
            unlink(path)
            throw failure("sync", path, code)
        }
    }

    /// Renames `source` to `destination`, replacing whatever is there.
    static func renameFile(_ source: String, to destination: String) throws(LedgerError) {
        guard rename(source, destination) == 0 else {
            throw failure("rename \(source) to", destination)
        }
    }

    /// Makes creations and renames in the folder `path` durable.
    static func syncDirectory(_ path: String) throws(LedgerError) {
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { throw failure("open folder", path) }
        var synced: Int32
        repeat { synced = fsync(descriptor) } while synced != 0 && errno == EINTR
        let code = errno
        close(descriptor)
        guard synced == 0 else { throw failure("sync folder", path, code) }
    }

    /// Removes `path` and everything under it; a missing path is not an error.
    static func removeTree(_ path: String) throws(LedgerError) {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return }
            throw failure("inspect", path)
        }
        if status.st_mode & S_IFMT == S_IFDIR {
            guard let folder = opendir(path) else { throw failure("open folder", path) }
            var names: [String] = []
            while let entry = readdir(folder) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(folder)
            for name in names { try removeTree(path + "/" + name) }
            guard rmdir(path) == 0 else { throw failure("remove folder", path) }
        } else {
            guard unlink(path) == 0 || errno == ENOENT else { throw failure("remove", path) }
        }
    }

    /// Takes an exclusive lock on `path` (created if missing) for as long as the returned descriptor is open.
    ///
    /// - Throws: `store.conflict` if another process holds it.
    static func lock(_ path: String) throws(LedgerError) -> Int32 {
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, fileMode)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { throw failure("open", path) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw LedgerError(.conflict, "another publish is writing to this folder (\(path) is locked)")
        }
        return descriptor
    }

    /// Releases a lock that ``lock(_:)`` took.
    static func unlock(_ descriptor: Int32) {
        close(descriptor)
    }
}
