public import LedgerCore

/// What a witness is configured with: its name (the cosigner key name) and the verifier keys of the logs it
/// cosigns, each named by its log's origin.
public struct WitnessConfiguration: Sendable, Hashable {
    /// The witness's key name; SHOULD be a schema-less URL, such as `witness.example/w1`.
    public var name: String
    /// The logs' verifier keys (type 0x01); a log's origin is its key's name. A log may have several keys.
    public var logs: [NoteVerifier]

    /// The most log keys one witness takes.
    public static let maximumLogs = 1000

    /// Creates a configuration.
    public init(name: String, logs: [NoteVerifier] = []) {
        self.name = name
        self.logs = logs
    }

    /// The keys trusted for `origin`: those whose name is the origin, byte for byte.
    public func verifiers(for origin: String) -> [NoteVerifier] {
        logs.filter { $0.name.utf8.elementsEqual(origin.utf8) }
    }

    /// `{"version":1,"name":…,"logs":[vkey…]}` in RFC 8785 form, with a final newline.
    public var fileBytes: [UInt8] {
        let document: JSONValue = [
            "version": 1, "name": .string(name), "logs": .array(logs.map { .string($0.verifierKey) }),
        ]
        return ((try? CanonicalJSON.encode(document)) ?? []) + [0x0a]
    }

    /// Reads a configuration file's bytes.
    ///
    /// - Throws: `witness.state` for anything but version 1 with a valid name and at most ``maximumLogs`` valid
    ///   Ed25519 log verifier keys.
    public init(fileBytes bytes: [UInt8]) throws(LedgerError) {
        let document: JSONValue
        do { document = try CanonicalJSON.parse(bytes) } catch {
            throw LedgerError(.witnessState, "the witness configuration is not JSON: \(error)")
        }
        guard document["version"]?.integerValue == 1, let name = document["name"]?.stringValue,
            let logs = document["logs"]?.arrayValue, logs.count <= Self.maximumLogs
        else {
            throw LedgerError(
                .witnessState,
                "the witness configuration is not {\"version\":1,\"name\":…,\"logs\":[…]} with at most \(Self.maximumLogs) logs"
            )
        }
        var verifiers: [NoteVerifier] = []
        for log in logs {
            guard let text = log.stringValue, let verifier = try? NoteVerifier(verifierKey: text) else {
                throw LedgerError(.witnessState, "the witness configuration holds a log key that is not a vkey")
            }
            verifiers.append(verifier)
        }
        guard noteNameIsValid(name) else {
            throw LedgerError(.witnessState, "the witness configuration's name is not a valid key name")
        }
        self.init(name: name, logs: verifiers)
    }
}

/// Key names are non-empty and hold no Unicode space and no `+` (signed-note).
func noteNameIsValid(_ name: String) -> Bool {
    !name.isEmpty && !name.unicodeScalars.contains { $0.properties.isWhitespace || $0 == "+" }
}

/// A witness's folder, made by `ledger witness init`:
///
/// - `witness.key` (mode 0600) and `witness.key.pub`: its Ed25519 key, PKCS#8 and SPKI PEM;
/// - `witness.json`: its ``WitnessConfiguration``;
/// - `checkpoints/<lowercase hex SHA-256 of the origin>`: per log, the latest checkpoint it cosigned, as a signed
///   note with the log's signatures it verified and its own cosignature. This is the witness's whole state: the size
///   and root it must stay consistent with. A file that does not parse or whose cosignature does not verify with
///   the witness's key is refused, never treated as missing;
/// - `lock`: the file `flock`ed from the check of a request through the durable write of its checkpoint.
///
/// Every write replaces its file atomically (temporary file, fsync, rename, fsync of the folder).
public struct WitnessFolder: Sendable, Hashable {
    /// The folder's path.
    public let path: String

    /// The private key file's name.
    public static let keyFileName = "witness.key"
    /// The configuration file's name.
    public static let configurationFileName = "witness.json"
    /// The folder of the cosigned checkpoints.
    public static let checkpointsFolderName = "checkpoints"
    static let lockFileName = "lock"
    /// The largest stored checkpoint: a signed note of at most 100 signatures.
    static let maximumCheckpointBytes = 64 << 10

    /// A witness folder at `path`; nothing is read yet.
    public init(path: String) {
        self.path = path
    }

    /// The private key's path.
    public var keyPath: String { path + "/" + Self.keyFileName }
    var configurationPath: String { path + "/" + Self.configurationFileName }
    var lockPath: String { path + "/" + Self.lockFileName }

    /// Writes the configuration of a new witness into `path`, which must exist (it holds the key), and creates the
    /// checkpoints folder.
    ///
    /// - Throws: `witness.state` when a configuration is already there or a write fails.
    public func create(_ configuration: WitnessConfiguration) throws(LedgerError) {
        try WitnessFiles.withExclusiveLock(lockPath) { () throws(LedgerError) in
            guard try WitnessFiles.read(configurationPath, limit: 1 << 20) == nil else {
                throw LedgerError(.witnessState, "\(configurationPath) already exists; refusing to overwrite it")
            }
            try WitnessFiles.createFolder(path + "/" + Self.checkpointsFolderName)
            try WitnessFiles.replace(configurationPath, with: configuration.fileBytes)
        }
    }

    /// The configuration.
    ///
    /// - Throws: `witness.state` when it is missing, unreadable or invalid.
    public func configuration() throws(LedgerError) -> WitnessConfiguration {
        guard let bytes = try WitnessFiles.read(configurationPath, limit: 1 << 20) else {
            throw LedgerError(
                .witnessState,
                "\(path) is not a witness folder (no \(Self.configurationFileName)); make one with `ledger witness init`"
            )
        }
        return try WitnessConfiguration(fileBytes: bytes)
    }

    /// Adds a log's verifier key to the configuration, under the folder's lock. Returns false when it was already
    /// there.
    ///
    /// - Throws: `witness.state` as ``configuration()``, when the witness already trusts ``WitnessConfiguration/maximumLogs``
    ///   keys, or when the write fails.
    @discardableResult
    public func addLog(_ log: NoteVerifier) throws(LedgerError) -> Bool {
        try WitnessFiles.withExclusiveLock(lockPath) { () throws(LedgerError) in
            var configuration = try configuration()
            guard !configuration.logs.contains(log) else { return false }
            guard configuration.logs.count < WitnessConfiguration.maximumLogs else {
                throw LedgerError(
                    .witnessState,
                    "the witness already trusts \(WitnessConfiguration.maximumLogs) log keys"
                )
            }
            configuration.logs.append(log)
            try WitnessFiles.replace(configurationPath, with: configuration.fileBytes)
            return true
        }
    }

    /// The lowercase hex SHA-256 of an origin: the name of its checkpoint file and of its monitoring URL path.
    public static func originHash(_ origin: String) -> String {
        Hash256.sha256(Array(origin.utf8)).hex
    }

    func checkpointPath(originHash: String) -> String {
        path + "/" + Self.checkpointsFolderName + "/" + originHash
    }

    /// The latest cosigned checkpoint for the origin whose hash is `originHash`, checked: it parses, names that
    /// origin (when `origin` is given) and carries a valid cosignature of `cosigner`. Nil when the witness never
    /// cosigned one.
    ///
    /// - Throws: `witness.state` for a hash that is not 64 lowercase hex digits, or a file that is unreadable, torn
    ///   or tampered with.
    func storedCheckpoint(
        originHash: String,
        origin: String? = nil,
        cosigner: CosignatureVerifier
    ) throws(LedgerError) -> (note: SignedNote, checkpoint: Checkpoint)? {
        guard Hex.isLowercase(originHash, byteCount: 32) else {
            throw LedgerError(.witnessState, "an origin hash is 64 lowercase hex digits")
        }
        let file = checkpointPath(originHash: originHash)
        guard let bytes = try WitnessFiles.read(file, limit: Self.maximumCheckpointBytes) else { return nil }
        let refused = LedgerError(
            .witnessState,
            "the stored checkpoint \(file) is torn or was changed (it does not parse or its cosignature does not verify); the witness refuses to cosign until it is restored from a backup"
        )
        guard let note = try? SignedNote.parse(utf8: bytes), let checkpoint = try? Checkpoint(text: note.text),
            WitnessFolder.originHash(checkpoint.origin) == originHash,
            origin.map({ $0.utf8.elementsEqual(checkpoint.origin.utf8) }) ?? true,
            note.signatures.contains(where: { cosigner.timestamp(of: $0, on: note.text) != nil })
        else { throw refused }
        return (note, checkpoint)
    }

    /// Stores `note` as the latest cosigned checkpoint of its origin, durably.
    func storeCheckpoint(_ note: SignedNote, origin: String) throws(LedgerError) {
        try WitnessFiles.createFolder(path + "/" + Self.checkpointsFolderName)
        try WitnessFiles.replace(
            checkpointPath(originHash: Self.originHash(origin)),
            with: Array(note.serialized.utf8)
        )
    }

    /// Runs `body` under the folder's exclusive lock (shared with every process using this folder).
    func withLock<T>(_ body: () throws(LedgerError) -> T) throws(LedgerError) -> T {
        try WitnessFiles.withExclusiveLock(lockPath, body)
    }
}
