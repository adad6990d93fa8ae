import ArgumentParser
import Foundation
import LedgerArtifacts
import LedgerCore
import LedgerPostgres
import LedgerPostgresConnection
import LedgerProjections
import LedgerS3
import LedgerSQLite
import LedgerStore

/// A ModelLedger workspace: a folder with `ledger.json`, the log database and the key files.
///
/// `ledger.json` holds no secret: the log id, the trust anchor (the genesis leaf hash), the
/// log and artifact URLs, and the paths of the key files `ledger init` created, one per role.
struct Workspace {
    static let configName = "ledger.json"
    /// The head record (``HeadRecord``): the size and root of the log as this workspace last committed it, in a
    /// file of its own so that a log database that lost its tail is refused.
    static let headRecordName = "ledger.head"

    /// What every command says about a PostgreSQL URL bound for ledger.json that holds a password.
    static let noPasswordInConfig =
        "ledger.json holds no secrets: leave the password out of the URL and set PGPASSWORD instead"

    let root: URL
    let logID: String
    var genesis: Hash256
    /// `sqlite:<path>`, relative to the workspace, or `postgres://USER@HOST[:PORT]/DATABASE[?schema=NAME]` (the
    /// password from `PGPASSWORD`).
    let logURL: String
    /// `file:<path>`, relative to the workspace, or `s3://BUCKET/PREFIX?endpoint=…&region=…`.
    let artifactsURL: String
    /// The key file `ledger init` made for each role, relative to the workspace.
    let keyPaths: [Role: String]
    /// What `ledger extract` does with rows that break the Audit DB contract: `refuse` or `quarantine`.
    var qualityPolicy = "refuse"
    /// The model the pipeline trains, judges and registers (the `"model"` member).
    var model = ModelSettings()
    /// Where runs read from, their windows, schedule and retries (the `"pipeline"` member).
    var pipeline = PipelineConfig()

    var adminKeyPath: String { keyPaths[.admin] ?? "keys/admin.key" }
    var logKeyPath: String { keyPaths[.log] ?? "keys/log.key" }

    /// The workspace's own key file for `role`, as an absolute path.
    func keyFile(for role: Role) throws(LedgerError) -> String {
        guard let relative = keyPaths[role] else {
            throw LedgerError(.key, "\(Self.configName) names no \(role.rawValue) key file")
        }
        return path(relative)
    }

    func path(_ relative: String) -> String {
        relative.hasPrefix("/") ? relative : root.appendingPathComponent(relative).path
    }

    /// Where the log lives: `log` in ledger.json.
    enum LogLocation {
        /// A SQLite file (absolute), with the projections in a file beside it.
        case sqlite(path: String)
        /// A PostgreSQL database and schema, with the projections in the same schema.
        case postgres(url: String)
    }

    var logLocation: LogLocation {
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
    static func locate(_ explicit: String?) throws(LedgerError) -> Workspace {
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

    static func load(_ root: URL) throws(LedgerError) -> Workspace {
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

    var configJSON: JSONValue {
        .object([
            "version": 1, "logId": .string(logID), "genesis": .string(genesis.hex), "log": .string(logURL),
            "artifacts": .string(artifactsURL), "quality": .string(qualityPolicy), "model": model.jsonValue,
            "pipeline": pipeline.jsonValue,
            "keys": .object(Dictionary(uniqueKeysWithValues: keyPaths.map { ($0.key.rawValue, .string($0.value)) })),
        ])
    }

    /// SHA-256 of the RFC 8785 form of what decides a run's result: the `quality`, `model` and `pipeline` members.
    /// `run.started` records it.
    var runConfigDigest: Hash256 {
        let config: JSONValue = [
            "quality": .string(qualityPolicy), "model": model.jsonValue, "pipeline": pipeline.jsonValue,
        ]
        // Settings are strings and finite numbers, which always encode.
        return Hash256.sha256((try? CanonicalJSON.encode(config)) ?? [])
    }

    /// The workspace's head record file.
    var headRecord: HeadRecordFile { HeadRecordFile(path: root.appendingPathComponent(Self.headRecordName).path) }

    /// Opens the log that `log` names.
    ///
    /// - Parameter create: make an empty log where there is none (`ledger restore` into a workspace whose log
    ///   database was lost); otherwise a missing log is an error.
    func openStore(create: Bool = false) async throws(LedgerError) -> any EventStore {
        switch try logLocation {
        case .sqlite(let path): return try SQLiteEventStore(path: path, create: create)
        case .postgres(let url): return try await PostgresEventStore.open(url, create: create)
        }
    }

    /// The projections' read tables: for a SQLite log, a file beside it (`ledger.db` → `ledger.projections.db`);
    /// for a PostgreSQL log, tables in its schema.
    ///
    /// - Parameter create: make them if they do not exist yet; without it, nil when there are none.
    func openProjections(
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
    func openProjections(beside store: any EventStore) async throws(LedgerError) -> any ProjectionStore {
        guard let tables = try await openProjections(beside: store, create: true) else {
            throw LedgerError(.storage, "cannot open the projections")
        }
        return tables
    }

    /// The artifact store that `artifacts` names: `file:PATH` (relative to the workspace) or
    /// `s3://bucket/prefix?endpoint=…&region=…` with credentials from the AWS environment variables.
    func openArtifacts() throws(LedgerError) -> any ArtifactStore {
        if artifactsURL.hasPrefix("s3://") { return try S3ArtifactStore.url(artifactsURL) }
        return try FileArtifactStore.url(artifactsURL, relativeTo: root.path)
    }

    /// The projections, brought up to the log's head first.
    func projections() async throws(LedgerError) -> Projections {
        let store = try await openStore()
        return try await ProjectionUpdater.catchUp(log: store, into: try await openProjections(beside: store))
    }

    /// Opens the log, refusing one that is not the log this workspace's config was made for. Every append through
    /// the returned ledger also updates the projections; if that fails, the event still stands and the next query
    /// catches up.
    ///
    /// - Parameter readingOnly: for commands that never append (`log`, `events`, `export`): the read tables are not
    ///   checked first. Otherwise read tables that applied entries the log no longer holds, the last local evidence
    ///   of a deletion when the head record went with it, refuse the open.
    func openLedger(readingOnly: Bool = false) async throws(LedgerError) -> Ledger {
        let store = try await openStore()
        let ledger = try await Ledger.open(store: store, clock: SystemClock(), headRecord: headRecord)
        for warning in ledger.openWarnings { Console.current.err("warning: \(warning)") }
        let state = await ledger.state
        guard state.logID == logID, state.genesisLeafHash == genesis else {
            throw LedgerError(
                .trustAnchor,
                "\(Self.configName) does not match the log at \(PostgresLocation.redacted(logURL)): its log id or genesis hash differs"
            )
        }
        let follower = ProjectionFollower(log: store, store: try await openProjections(beside: store))
        if !readingOnly { try await follower.catchUp() }
        await ledger.onAppend { batch in
            do {
                try await follower.apply(batch)
            } catch {
                Console.current.err("warning: the projections did not update (\(error)); the next query catches up")
            }
        }
        return ledger
    }
}

/// `--workspace DIR`, shared by every command that works in a workspace.
struct WorkspaceOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The workspace folder (default: the current folder or its nearest parent with ledger.json).",
            valueName: "DIR"
        )
    )
    var workspace: String?

    func locate() throws(LedgerError) -> Workspace { try Workspace.locate(workspace) }
}
