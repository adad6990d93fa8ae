import Foundation
import LedgerCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File helpers with the guarantees the CLI promises: no half-written files, private keys 0600.
enum Files {
    /// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsynced, then
    /// renamed over `path`. A crash leaves the old file or the new one, never a mix.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(LedgerError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        do {
            try writeNew(bytes, to: temporary, mode: mode)
        } catch {
            throw LedgerError(
                .file,
                "cannot write \(path): \(error.reason.components(separatedBy: ": ").last ?? error.reason)"
            )
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw LedgerError(.file, "cannot write \(path): \(reason)")
        }
        try syncDirectory(containing: path)
    }

    /// Makes a create or rename in the folder holding `path` durable.
    static func syncDirectory(containing path: String) throws(LedgerError) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw LedgerError(.file, "cannot open folder \(folder) to sync it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw LedgerError(.file, "cannot sync folder \(folder): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates `path` with `mode` and writes `bytes`, fsynced. Refuses to replace an existing file.
    static func writeNew(_ bytes: [UInt8], to path: String, mode: mode_t) throws(LedgerError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            let reason = errno == EEXIST ? "it already exists" : String(cString: strerror(errno))
            throw LedgerError(.file, "cannot create \(path): \(reason)")
        }
        defer { close(descriptor) }
        // The umask must not widen or narrow what we asked for.
        fchmod(descriptor, mode)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress?.advanced(by: written), buffer.count - written)
            }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else {
                let reason = String(cString: strerror(errno))
                unlink(path)
                throw LedgerError(.file, "cannot write \(path): \(reason)")
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            unlink(path)
            throw LedgerError(.file, "cannot sync \(path): \(String(cString: strerror(errno)))")
        }
        try syncDirectory(containing: path)
    }

    static func read(_ path: String, what: String = "file") throws(LedgerError) -> [UInt8] {
        if path == "-" {
            return Array(FileHandle.standardInput.readDataToEndOfFile())
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "it is not readable" : "no such file"
            throw LedgerError(.file, "cannot read \(what) \(path): \(reason)")
        }
        return Array(data)
    }

    static func readText(_ path: String, what: String = "file") throws(LedgerError) -> String {
        String(decoding: try read(path, what: what), as: UTF8.self)
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    static func createDirectory(_ path: String) throws(LedgerError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw LedgerError(.file, "cannot create folder \(path)")
        }
    }
}

/// Private and public key files.
enum KeyFiles {
    /// Reads a PKCS#8 PEM private key. Refuses a file that others can read, as ssh does.
    static func loadPrivateKey(_ path: String) throws(LedgerError) -> SigningKey {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw LedgerError(.key, "cannot read key file \(path): no such file")
        }
        let text = try Files.readText(path, what: "key file")
        let key: SigningKey
        do {
            key = try SigningKey(pemRepresentation: text)
        } catch {
            let hint = text.contains("PUBLIC KEY") ? " (it is a public key; pass the private key file)" : ""
            throw LedgerError(.key, "key file \(path) is not an Ed25519 PKCS#8 private key\(hint): \(error.reason)")
        }
        if status.st_mode & 0o077 != 0 {
            throw LedgerError(
                .key,
                "key file \(path) is readable by others (mode \(String(status.st_mode & 0o777, radix: 8))); run: chmod 600 \(path)"
            )
        }
        return key
    }

    /// Writes a new private key (mode 0600) and its public key beside it (`<path>.pub`, SPKI PEM).
    /// Refuses to replace either file, and leaves neither behind if it fails.
    static func write(_ key: SigningKey, to path: String) throws(LedgerError) {
        for file in [path, path + ".pub"] where Files.exists(file) {
            throw LedgerError(.file, "key file \(file) already exists; refusing to overwrite it")
        }
        try Files.writeNew(Array(key.pemRepresentation.utf8), to: path, mode: 0o600)
        do {
            try Files.writeNew(Array(key.publicKey.pemRepresentation.utf8), to: path + ".pub", mode: 0o644)
        } catch {
            unlink(path)
            throw error
        }
    }

    /// Reads a public key from 64 hex characters or a file holding hex or an SPKI PEM.
    static func loadPublicKey(_ argument: String) throws(LedgerError) -> PublicKey {
        if let raw = Hex.decode(argument), raw.count == 32 { return try PublicKey(rawRepresentation: raw) }
        let text = try Files.readText(argument, what: "public key")
        return try PublicKey(text: text)
    }
}
