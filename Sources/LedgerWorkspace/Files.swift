public import Foundation
public import LedgerCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File helpers with the guarantees the CLI promises: no half-written files, private keys 0600.
public enum Files {
    /// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsynced, then
    /// renamed over `path`. A crash leaves the old file or the new one, never a mix.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(LedgerError) {
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
    public static func syncDirectory(containing path: String) throws(LedgerError) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw LedgerError(.file, "cannot open folder \(folder) to sync it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw LedgerError(.file, "cannot sync folder \(folder): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates `path` with `mode` and writes `bytes`, fsynced. Refuses to replace an existing file.
    public static func writeNew(_ bytes: [UInt8], to path: String, mode: mode_t) throws(LedgerError) {
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

    /// Reads all of `path` (`-` is standard input) as `input`, in chunks, and fails with `file.io` as soon as it
    /// holds more than `input.limit` bytes (or, for line-based inputs, a line longer than `input.lineLimit`). Never
    /// reads more than the limit and one chunk, so `@/dev/zero` or an endless pipe fails fast, naming the limit.
    ///
    /// A folder is refused as one; a regular file larger than the limit is refused before a byte is read. Other
    /// readable files (pipes, devices, process substitutions such as `<(…)`) are read up to the limit.
    public static func read(_ path: String, _ input: Input) throws(LedgerError) -> [UInt8] {
        let name = path == "-" ? "\(input.what) on standard input" : "\(input.what) \(path)"
        func failure(_ reason: String) -> LedgerError { LedgerError(.file, "cannot read \(name): \(reason)") }
        var descriptor = STDIN_FILENO
        if path != "-" {
            repeat {
                descriptor = open(path, O_RDONLY | O_CLOEXEC)
            } while descriptor < 0 && errno == EINTR
            guard descriptor >= 0 else {
                switch errno {
                case ENOENT, ENOTDIR: throw failure("no such file")
                case EACCES: throw failure("permission denied")
                default: throw failure(String(cString: strerror(errno)))
                }
            }
        }
        defer { if path != "-" { close(descriptor) } }
        var status = stat()
        if fstat(descriptor, &status) == 0 {
            if status.st_mode & S_IFMT == S_IFDIR { throw failure("it is a folder, not a file") }
            if status.st_mode & S_IFMT == S_IFREG, status.st_size > input.limit {
                throw failure("it holds \(status.st_size) bytes, over \(input.limitDescription)")
            }
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var lineNumber = 1
        var lineStart = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { readChunk(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(errno == EISDIR ? "it is a folder, not a file" : String(cString: strerror(errno)))
            }
            if count == 0 { break }
            guard bytes.count + count <= input.limit else {
                throw failure("it is larger than \(input.limitDescription)")
            }
            let chunkStart = bytes.count
            bytes.append(contentsOf: chunk[..<count])
            guard let lineLimit = input.lineLimit else { continue }
            // Find each newline of the chunk with memchr: one C call per line, not a Swift loop per byte.
            var offset = chunkStart
            while offset < bytes.count {
                let newline = bytes.withUnsafeBytes { buffer -> Int? in
                    guard let base = buffer.baseAddress,
                        let found = memchr(base + offset, 0x0a, bytes.count - offset)
                    else { return nil }
                    return base.distance(to: UnsafeRawPointer(found))
                }
                guard let newline else { break }
                guard newline - lineStart <= lineLimit else { break }
                lineNumber += 1
                lineStart = newline + 1
                offset = newline + 1
            }
            if bytes.count - lineStart > lineLimit {
                // A verdict on the input's bytes, not an I/O error: `verify --from` reports it as a failed check.
                throw LedgerError(
                    .malformed,
                    "cannot read \(name): line \(lineNumber) is longer than \(Input.describe(lineLimit)), the most "
                        + "one \(input.line) may be"
                )
            }
        }
        return bytes
    }

    /// Reads `path` as ``read(_:_:)`` does and decodes it as UTF-8. Refuses invalid UTF-8 with `event.malformed`,
    /// naming the file and the offset of the first bad byte: a lossy decode would turn it into U+FFFD, so that a
    /// signature could check over text that is not the file's bytes, which the auditor's script and peers refuse.
    public static func readText(_ path: String, _ input: Input) throws(LedgerError) -> String {
        let bytes = try read(path, input)
        if let offset = firstInvalidUTF8(in: bytes) {
            let name = path == "-" ? "\(input.what) on standard input" : "\(input.what) \(path)"
            throw LedgerError(.malformed, "\(name) is not valid UTF-8: a bad byte at offset \(offset)")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The offset of the first byte of `bytes` that starts no valid UTF-8 sequence, or nil if all of it is valid.
    public static func firstInvalidUTF8(in bytes: some Collection<UInt8>) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    public static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// Creates `path` and any missing parents for a folder that holds private keys: every folder it creates gets
    /// mode 0700, and `path` itself is set to 0700 if it already existed, whatever the umask (a umask of 000
    /// would otherwise leave 0777). Existing parents keep their mode.
    public static func createPrivateDirectory(_ path: String) throws(LedgerError) {
        let components = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        var prefix = ""
        for component in components {
            prefix = prefix.isEmpty ? component : (prefix == "/" ? "/" : prefix + "/") + component
            if prefix == "/" { continue }
            if mkdir(prefix, 0o700) == 0 {
                // mkdir applies the umask, which may only narrow 0700; set it exactly anyway.
                guard chmod(prefix, 0o700) == 0 else {
                    throw LedgerError(.file, "cannot set the mode of \(prefix): \(String(cString: strerror(errno)))")
                }
                try syncDirectory(containing: prefix)
            } else if errno != EEXIST {
                throw LedgerError(.file, "cannot create folder \(prefix): \(String(cString: strerror(errno)))")
            }
        }
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw LedgerError(.file, "cannot create folder \(path): a file is in the way")
        }
        if status.st_mode & 0o777 != 0o700, chmod(path, 0o700) != 0 {
            throw LedgerError(.file, "cannot set the mode of \(path) to 0700: \(String(cString: strerror(errno)))")
        }
    }

    public static func createDirectory(_ path: String) throws(LedgerError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw LedgerError(.file, "cannot create folder \(path)")
        }
    }
}

/// `read(2)`, under a name that the static ``Files/read(_:_:)`` does not hide.
private func readChunk(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

/// Private and public key files.
public enum KeyFiles {
    /// Reads a PKCS#8 PEM private key. Refuses a file that others can read, as ssh does.
    public static func loadPrivateKey(_ path: String) throws(LedgerError) -> SigningKey {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw LedgerError(.key, "cannot read key file \(path): no such file")
        }
        let text = try Files.readText(path, .privateKey)
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
    public static func write(_ key: SigningKey, to path: String) throws(LedgerError) {
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
    public static func loadPublicKey(_ argument: String) throws(LedgerError) -> PublicKey {
        if let raw = Hex.decode(argument), raw.count == 32 { return try PublicKey(rawRepresentation: raw) }
        let text = try Files.readText(argument, .publicKey)
        return try PublicKey(text: text)
    }
}

extension Files {
    /// A kind of input the CLI reads from a file or standard input, and the most bytes it may hold.
    ///
    /// Every read goes through ``Files/read(_:_:)`` with one of these, so no input is unbounded. The limits follow
    /// the data each input carries:
    /// - one event's data (`--data`, a batch line, a proof): 8 MiB, the default body limit of `ledger serve`, the
    ///   other way a signed event comes in;
    /// - one leaf (`--envelope`, an export line): ``Envelope/maximumLeafBytes`` (12 MiB), the 8 MiB of data grown
    ///   by a third in base64, so that every export the ledger writes reads back;
    /// - key files, checkpoints: 64 KiB (a PEM key is under 200 bytes, a checkpoint with cosignatures a few KiB);
    /// - `ledger.json` and policies: 1 MiB;
    /// - a batch file: 1 GiB; an export: 4 GiB, each line at most one event;
    /// - CSV data and model files for `model train|score` and `bench model`: 4 GiB and 1 GiB.
    public struct Input: Sendable {
        /// How an error names the input, such as `envelope`.
        public let what: String
        /// The most bytes the whole input may hold.
        public let limit: Int
        /// For line-based inputs: the most bytes one line may hold, without its newline.
        public var lineLimit: Int? = nil
        /// What one line is, for the error: `entry`, `event`.
        public var line = "line"

        /// The most one event's bytes may be: its data, its envelope, a batch line or an export line.
        public static let eventLimit = 8 << 20

        /// `append --data @FILE` and `@-`: an event's data.
        public static let eventData = Input(what: "event data", limit: eventLimit)
        /// `append --envelope`: one signed envelope.
        public static let envelope = Input(what: "envelope", limit: Envelope.maximumLeafBytes)
        /// `append --batch`: JSON Lines, one event a line.
        public static let batch = Input(what: "batch file", limit: 1 << 30, lineLimit: eventLimit, line: "event")
        /// `verify --from`: an export, one envelope a line.
        public static let export = Input(
            what: "export",
            limit: 4 << 30,
            lineLimit: Envelope.maximumLeafBytes,
            line: "entry"
        )
        public static let privateKey = Input(what: "key file", limit: 64 << 10)
        public static let publicKey = Input(what: "public key", limit: 64 << 10)
        public static let checkpoint = Input(what: "checkpoint", limit: 64 << 10)
        /// A proof file: a checkpoint, hashes and at most one entry.
        public static let proof = Input(what: "proof", limit: eventLimit + (1 << 20))
        public static let workspaceConfig = Input(what: "workspace config", limit: 1 << 20)
        public static let policy = Input(what: "policy file", limit: 1 << 20)
        /// CSV rows for `model train`, `model score` and `bench model`.
        public static let table = Input(what: "data file", limit: 4 << 30)
        /// A serialized model for `model score`.
        public static let model = Input(what: "model file", limit: 1 << 30)

        /// `the limit of 8 MiB (8388608 bytes) for event data`: the limit as an error names it.
        public var limitDescription: String { "the limit of \(Self.describe(limit)) for \(what)" }

        public static func describe(_ bytes: Int) -> String {
            let units = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
            guard let (size, unit) = units.first(where: { bytes >= $0.0 && bytes % $0.0 == 0 }) else {
                return "\(bytes) bytes"
            }
            return "\(bytes / size) \(unit) (\(bytes) bytes)"
        }
    }
}

extension LedgerError.Code {
    /// The current folder and its parents hold no workspace.
    public static let noWorkspace = Self(rawValue: "workspace.missing")
    /// A file could not be read or written.
    public static let file = Self(rawValue: "file.io")
}
