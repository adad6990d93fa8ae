public import Foundation
public import LedgerArtifacts
public import LedgerCore
import LedgerPostgres
import LedgerPostgresConnection
public import LedgerProjections
import LedgerS3
import LedgerSQLite
public import LedgerStore

/// A ModelLedger workspace: a folder with `ledger.json`, the log database and the key files.
///
/// `ledger.json` holds no secret: the log id, the trust anchor (the genesis leaf hash), the
/// log and artifact URLs, and the paths of the key files `ledger init` created, one per role.
public struct Workspace: Sendable {
    public static let configName = "ledger.json"
    /// The head record (``HeadRecord``): the size and root of the log as this workspace last committed it, in a
    /// file of its own so that a log database that lost its tail is refused.
    public static let headRecordName = "ledger.head"

    /// What every command says about a PostgreSQL URL bound for ledger.json that holds a password.
    public static let noPasswordInConfig =
        "ledger.json holds no secrets: leave the password out of the URL and set PGPASSWORD instead"

    public let root: URL
    public let logID: String
    public var genesis: Hash256
    /// `sqlite:<path>`, relative to the workspace, or `postgres://USER@HOST[:PORT]/DATABASE[?schema=NAME]` (the
    /// password from `PGPASSWORD`).
    public let logURL: String
    /// `file:<path>`, relative to the workspace, or `s3://BUCKET/PREFIX?endpoint=…&region=…`.
    public let artifactsURL: String
    /// The key file `ledger init` made for each role, relative to the workspace.
    public let keyPaths: [Role: String]
    /// What `ledger extract` does with rows that break the Audit DB contract: `refuse` or `quarantine`.
    public var qualityPolicy = "refuse"
    /// The model the pipeline trains, judges and registers (the `"model"` member).
    public var model = ModelSettings()
    /// Where runs read from, their windows, schedule and retries (the `"pipeline"` member).
    public var pipeline = PipelineConfig()

    public var adminKeyPath: String { keyPaths[.admin] ?? "keys/admin.key" }
    public var logKeyPath: String { keyPaths[.log] ?? "keys/log.key" }

    /// The workspace's own key file for `role`, as an absolute path.
    public func keyFile(for role: Role) throws(LedgerError) -> String {
        guard let relative = keyPaths[role] else {
            throw LedgerError(.key, "\(Self.configName) names no \(role.rawValue) key file")
        }
        return path(relative)
    }

    public func path(_ relative: String) -> String {
        relative.hasPrefix("/") ? relative : root.appendingPathComponent(relative).path
    }

    /// The log URL with any password replaced, for messages.
    public var redactedLogURL: String { PostgresLocation.redacted(logURL) }

    /// Where the log lives: `log` in ledger.json.
    public enum LogLocation {
        /// A SQLite file (absolute), with the projections in a file beside it.
        case sqlite(path: String)
        /// A PostgreSQL database and schema, with the projections in the same schema.
        case postgres(url: String)
    }

    public var logLocation: LogLocation {
        get throws(LedgerError) {
            if logURL.hasPrefix("sqlite:") { return .sqlite(path: path(String(logURL.dropFirst("sqlite:".count)))) }
            if PostgresLocation.isPostgresURL(logURL) { return .postgres(url: logURL) }
            throw LedgerError(
                .invalidArgument,
                "\(Self.configName): unsupported log URL \(PostgresLocation.redacted(logURL)) (sqlite:PATH or postgres://…)"
            )
        }
    }

    /// Finds the workspace at `explicit`, or in the current folder or its nearest parent.
    public static func locate(_ explicit: String?) throws(LedgerError) -> Workspace {
        if let explicit {
            let url = URL(fileURLWithPath: explicit).standardizedFileURL
            guard Files.exists(url.appendingPathComponent(configName).path) else {
                throw LedgerError(
                    .noWorkspace,
                    "\(url.path) is not a ModelLedger workspace (no \(configName)); run: ledger init \(explicit)"
                )
            }
            return try load(url)
        }
        let start = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL
        var folder = start
        while true {
            if Files.exists(folder.appendingPathComponent(configName).path) { return try load(folder) }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
        }
        throw LedgerError(
            .noWorkspace,
            "no ModelLedger workspace in \(start.path) or its parents; run `ledger init` or pass --workspace DIR"
        )
    }

    public static func load(_ root: URL) throws(LedgerError) -> Workspace {
        let configPath = root.appendingPathComponent(configName).path
        let json: JSONValue
        do {
            json = try CanonicalJSON.parse(try Files.read(configPath, .workspaceConfig))
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.file, "\(configPath) is not valid JSON: \(error)")
        }
        guard json["version"]?.integerValue == 1, let logID = json["logId"]?.stringValue,
            let genesisHex = json["genesis"]?.stringValue, let genesis = Hash256(hex: genesisHex),
            let logURL = json["log"]?.stringValue, let keys = json["keys"]?.objectValue
        else {
            throw LedgerError(.file, "\(configPath) is not a version 1 workspace config")
        }
        var keyPaths: [Role: String] = [:]
        for (name, value) in keys {
            guard let role = Role(rawValue: name), let path = value.stringValue else {
                throw LedgerError(
                    .file,
                    "\(configPath): \"keys\" maps roles to key file paths; \"\(name)\" is not a role"
                )
            }
            keyPaths[role] = path
        }
        var workspace = Workspace(
            root: root,
            logID: logID,
            genesis: genesis,
            logURL: logURL,
            artifactsURL: json["artifacts"]?.stringValue ?? "file:artifacts",
            keyPaths: keyPaths
        )
        if let quality = json["quality"] {
            guard let policy = quality.stringValue, ["refuse", "quarantine"].contains(policy) else {
                throw LedgerError(.file, "\(configPath): \"quality\" must be \"refuse\" or \"quarantine\"")
            }
            workspace.qualityPolicy = policy
        }
        if let model = json["model"] { workspace.model = try ModelSettings(json: model, configPath: configPath) }
        if let pipeline = json["pipeline"] {
            workspace.pipeline = try PipelineConfig(json: pipeline, configPath: configPath)
        }
        return workspace
    }

    public var configJSON: JSONValue {
        .object([
            "version": 1, "logId": .string(logID), "genesis": .string(genesis.hex), "log": .string(logURL),
            "artifacts": .string(artifactsURL), "quality": .string(qualityPolicy), "model": model.jsonValue,
            "pipeline": pipeline.jsonValue,
            "keys": .object(Dictionary(uniqueKeysWithValues: keyPaths.map { ($0.key.rawValue, .string($0.value)) })),
        ])
    }

    /// Writes `ledger.json` from these settings, atomically.
    public func saveConfig() throws(LedgerError) {
        let bytes: [UInt8]
        do {
            bytes = try CanonicalJSON.encode(configJSON) + [0x0a]
        } catch {
            throw LedgerError(.file, "\(Self.configName) cannot be encoded: \(error)")
        }
        try Files.writeAtomically(bytes, to: root.appendingPathComponent(Self.configName).path)
    }

    /// SHA-256 of the RFC 8785 form of what decides a run's result: the `quality`, `model` and `pipeline` members.
    /// `run.started` records it.
    public var runConfigDigest: Hash256 {
        let config: JSONValue = [
            "quality": .string(qualityPolicy), "model": model.jsonValue, "pipeline": pipeline.jsonValue,
        ]
        // Settings are strings and finite numbers, which always encode.
        return Hash256.sha256((try? CanonicalJSON.encode(config)) ?? [])
    }

    /// The workspace's head record file.
    public var headRecord: HeadRecordFile {
        HeadRecordFile(path: root.appendingPathComponent(Self.headRecordName).path)
    }

    /// Opens the log that `log` names.
    ///
    /// - Parameter create: make an empty log where there is none (`ledger restore` into a workspace whose log
    ///   database was lost); otherwise a missing log is an error.
    public func openStore(create: Bool = false) async throws(LedgerError) -> any EventStore {
        switch try logLocation {
        case .sqlite(let path): return try SQLiteEventStore(path: path, create: create)
        case .postgres(let url): return try await PostgresEventStore.open(url, create: create)
        }
    }

    /// The projections' read tables: for a SQLite log, a file beside it (`ledger.db` → `ledger.projections.db`);
    /// for a PostgreSQL log, tables in its schema.
    ///
    /// - Parameter create: make them if they do not exist yet; without it, nil when there are none.
    public func openProjections(
        beside store: any EventStore,
        create: Bool = true
    ) async throws(LedgerError)
        -> (any ProjectionStore)?
    {
        switch try logLocation {
        case .sqlite(let path):
            let log = URL(fileURLWithPath: path)
            let stem = log.deletingPathExtension().lastPathComponent
            let suffix = log.pathExtension.isEmpty ? "" : ".\(log.pathExtension)"
            let tables = log.deletingLastPathComponent().appendingPathComponent("\(stem).projections\(suffix)").path
            guard create || Files.exists(tables) else { return nil }
            return try SQLiteProjectionStore(path: tables)
        case .postgres:
            guard let store = store as? PostgresEventStore else {
                throw LedgerError(.storage, "the projections of a PostgreSQL log live beside it; open the log first")
            }
            return try await PostgresProjectionStore.open(beside: store)
        }
    }

    /// The projections' read tables beside the log, made if missing.
    public func openProjections(beside store: any EventStore) async throws(LedgerError) -> any ProjectionStore {
        guard let tables = try await openProjections(beside: store, create: true) else {
            throw LedgerError(.storage, "cannot open the projections")
        }
        return tables
    }

    /// The artifact store that `artifacts` names: `file:PATH` (relative to the workspace) or
    /// `s3://bucket/prefix?endpoint=…&region=…` with credentials from the AWS environment variables.
    public func openArtifacts() throws(LedgerError) -> any ArtifactStore {
        if artifactsURL.hasPrefix("s3://") { return try S3ArtifactStore.url(artifactsURL) }
        return try FileArtifactStore.url(artifactsURL, relativeTo: root.path)
    }
}
