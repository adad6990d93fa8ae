import ArgumentParser
import Foundation
import LedgerCore
import LedgerProjections
import LedgerSQLite
import LedgerStore

/// A ModelLedger workspace: a folder with `ledger.json`, the log database and the key files.
///
/// `ledger.json` holds no secret: the log id, the trust anchor (the genesis leaf hash), the
/// log and artifact URLs, and the paths of the key files `ledger init` created, one per role.
struct Workspace {
    static let configName = "ledger.json"

    let root: URL
    let logID: String
    let genesis: Hash256
    /// `sqlite:<path>`, relative to the workspace.
    let logURL: String
    /// `file:<path>`, relative to the workspace.
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

    var databasePath: String {
        get throws(LedgerError) {
            guard logURL.hasPrefix("sqlite:") else {
                throw LedgerError(.invalidArgument, "unsupported log URL \(logURL) (this build supports sqlite:PATH)")
            }
            return path(String(logURL.dropFirst("sqlite:".count)))
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
            json = try CanonicalJSON.parse(try Files.read(configPath, what: "workspace config"))
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

    func openStore() throws(LedgerError) -> SQLiteEventStore {
        try SQLiteEventStore(path: try databasePath)
    }

    /// The projections' read tables: a SQLite file beside the log's, `ledger.db` → `ledger.projections.db`.
    var projectionsPath: String {
        get throws(LedgerError) {
            let log = URL(fileURLWithPath: try databasePath)
            let stem = log.deletingPathExtension().lastPathComponent
            let suffix = log.pathExtension.isEmpty ? "" : ".\(log.pathExtension)"
            return log.deletingLastPathComponent().appendingPathComponent("\(stem).projections\(suffix)").path
        }
    }

    func openProjections() throws(LedgerError) -> SQLiteProjectionStore {
        try SQLiteProjectionStore(path: try projectionsPath)
    }

    /// The projections, brought up to the log's head first.
    func projections() async throws(LedgerError) -> Projections {
        try await ProjectionUpdater.catchUp(log: try openStore(), into: try openProjections())
    }

    /// Opens the log, refusing one that is not the log this workspace's config was made for. Every append through
    /// the returned ledger also updates the projections; if that fails, the event still stands and the next query
    /// catches up.
    func openLedger() async throws(LedgerError) -> Ledger {
        let store = try openStore()
        let ledger = try await Ledger.open(store: store, clock: SystemClock())
        let state = await ledger.state
        guard state.logID == logID, state.genesisLeafHash == genesis else {
            throw LedgerError(
                .trustAnchor,
                "\(Self.configName) does not match the log in \((try? databasePath) ?? logURL): its log id or genesis hash differs"
            )
        }
        let follower = ProjectionFollower(log: store, store: try openProjections())
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
