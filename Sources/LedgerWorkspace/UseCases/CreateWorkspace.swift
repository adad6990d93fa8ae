public import Foundation
import LedgerArtifacts
public import LedgerCore
import LedgerPostgres
import LedgerPostgresConnection
import LedgerSQLite
import LedgerStore

/// A workspace `ledger init` just made, and the keyid of each role's key.
public struct CreatedWorkspace: Sendable {
    public let workspace: Workspace
    public let keyIDs: [Role: String]
}

extension Workspace {
    /// Makes a workspace in `root`: a key per role (mode 0600, in a 0700 `keys/`), the log with its signed genesis
    /// naming those keys, the head record, and `ledger.json` last. Everything written is removed again if any step
    /// fails, so a failed init leaves no half-made workspace.
    ///
    /// - Parameters:
    ///   - logID: the log's origin (default: `modelledger.local/` and 8 random hex digits).
    ///   - log: `sqlite:PATH` (relative to `root`) or a PostgreSQL URL without a password, whose database holds no log.
    ///   - artifacts: `file:PATH` or `s3://BUCKET/PREFIX?…`; checked reachable now rather than at the first run.
    ///   - source: the Audit DB for `pipeline.source`, if known.
    public static func create(
        at root: URL,
        logID: String?,
        log: String,
        artifacts: String,
        source: String?
    ) async throws -> CreatedWorkspace {
        let logID = logID ?? "modelledger.local/\(Hex.encode((0..<4).map { _ in UInt8.random(in: 0...255) }))"
        let configPath = root.appendingPathComponent(Workspace.configName).path
        let keysFolder = root.appendingPathComponent("keys")
        // One key per role, each registered in the genesis event with that role alone.
        let keyPaths = Dictionary(uniqueKeysWithValues: Role.allCases.map { ($0, "keys/\($0.rawValue).key") })
        let sqlitePath = log.hasPrefix("sqlite:") ? root.appendingPathComponent(String(log.dropFirst(7))).path : nil
        let headPath = root.appendingPathComponent(Workspace.headRecordName).path
        let paths =
            [configPath, headPath] + (sqlitePath.map { [$0] } ?? [])
            + keyPaths.values.sorted().flatMap {
                [root.appendingPathComponent($0).path, root.appendingPathComponent($0 + ".pub").path]
            }
        for existing in paths where Files.exists(existing) {
            throw LedgerError(
                .invalidArgument,
                "\(existing) already exists; \(root.path) already holds a workspace (or what is left of one)"
            )
        }
        // The workspace and keys/ are 0700 whatever the umask: they hold the private keys, and whoever may write to
        // the workspace folder may swap keys/ for another.
        try Files.createPrivateDirectory(root.path)
        try Files.createPrivateDirectory(keysFolder.path)

        let keys = Dictionary(uniqueKeysWithValues: Role.allCases.map { ($0, SigningKey()) })
        let genesis: Hash256
        let workspace: Workspace
        do {
            // Until ledger.json is written last, a failure removes everything written so far.
            for role in Role.allCases {
                if let key = keys[role], let path = keyPaths[role] {
                    try KeyFiles.write(key, to: root.appendingPathComponent(path).path)
                }
            }
            var created = Workspace(
                root: root,
                logID: logID,
                genesis: Hash256.sha256([]),
                logURL: log,
                artifactsURL: artifacts,
                keyPaths: keyPaths
            )
            // Refuse unreachable or misconfigured artifact storage now, not at the first run.
            _ = try await created.openArtifacts().contains(ArtifactDigest.of([]))
            let store: any EventStore
            if let sqlitePath {
                store = try SQLiteEventStore(path: sqlitePath, create: true)
            } else {
                store = try await PostgresEventStore.open(log, create: true)
                guard try await store.size() == 0 else {
                    throw LedgerError(
                        .invalidArgument,
                        "\(PostgresLocation.redacted(log)) already holds a log; to use it from here, copy its workspace's ledger.json and keys"
                    )
                }
            }
            let records = Role.allCases.compactMap { role in
                keys[role].map { KeyRecord(publicKey: $0.publicKey, name: role.rawValue, roles: [role]) }
            }
            guard let admin = keys[.admin] else { throw LedgerError(.key, "no admin key was generated") }
            let ledger = try await Ledger.create(
                store: store,
                clock: SystemClock(),
                logID: logID,
                keys: records,
                signedBy: admin,
                headRecord: HeadRecordFile(path: headPath)
            )
            guard let genesisHash = await ledger.state.genesisLeafHash else {
                throw LedgerError(.storage, "the genesis event was not recorded")
            }
            genesis = genesisHash
            created.genesis = genesis
            created.pipeline.source = source
            workspace = created
            try Files.writeAtomically(try CanonicalJSON.encode(workspace.configJSON) + [0x0a], to: configPath)
        } catch {
            let sidecars = sqlitePath.map { log in ["-wal", "-shm"].map { log + $0 } } ?? []
            for path in paths + sidecars {
                try? FileManager.default.removeItem(atPath: path)
            }
            throw error
        }
        return CreatedWorkspace(workspace: workspace, keyIDs: keys.mapValues(\.keyID))

    }
}
