import ArgumentParser
import Foundation
import LedgerCore
import LedgerSQLite
import LedgerStore

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a workspace: config, SQLite log, a key per role, and the genesis event.",
        discussion: """
            Writes DIR/ledger.json, DIR/ledger.db and one key per role in DIR/keys/ (admin, log, pipeline, approver and deployer; PKCS#8 PEM, mode 0600, with .pub files beside them), then signs the genesis event `ledger.created`, which registers each key with its role, with the admin key. It prints the trust anchor: the genesis leaf hash. Keep it somewhere safe; `ledger verify --trust HASH` proves a log is the one you created. ledger.json holds the defaults of every setting, to edit; --source sets the pipeline's Audit DB.

            Example:
              ledger init ./ws --log-id example.org/fraud-models
              ledger init ./ws --source sqlite:/data/audit.db
            """
    )

    @Argument(help: "The folder to create the workspace in.")
    var directory: String = "."

    @Option(help: ArgumentHelp("The log's origin: a short, URL-like name with no spaces or '+'.", valueName: "ORIGIN"))
    var logID: String?

    @Option(
        help: ArgumentHelp(
            "The Audit DB that `ledger run` and `ledger schedule` read (a relative path is from DIR).",
            valueName: "sqlite:PATH"
        )
    )
    var source: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        if let source, AuditSource(source) == nil {
            throw ValidationError("--source must be sqlite:PATH, such as sqlite:/data/audit.db")
        }
        if let logID {
            guard !logID.isEmpty, logID.utf8.count <= 255,
                !logID.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0 == "+" || $0.value < 0x20 })
            else {
                throw ValidationError("--log-id must be 1 to 255 characters with no spaces, control characters or '+'")
            }
        }
    }

    func run() async throws {
        let root = URL(fileURLWithPath: directory).standardizedFileURL
        let logID = logID ?? "modelledger.local/\(Hex.encode((0..<4).map { _ in UInt8.random(in: 0...255) }))"
        let configPath = root.appendingPathComponent(Workspace.configName).path
        let keysFolder = root.appendingPathComponent("keys")
        // One key per role, each registered in the genesis event with that role alone.
        let keyPaths = Dictionary(uniqueKeysWithValues: Role.allCases.map { ($0, "keys/\($0.rawValue).key") })
        let paths =
            [configPath, root.appendingPathComponent("ledger.db").path]
            + keyPaths.values.sorted().flatMap {
                [root.appendingPathComponent($0).path, root.appendingPathComponent($0 + ".pub").path]
            }
        for existing in paths where Files.exists(existing) {
            throw LedgerError(
                .invalidArgument,
                "\(existing) already exists; \(root.path) already holds a workspace (or what is left of one)"
            )
        }
        try Files.createDirectory(keysFolder.path)

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
            let store = try SQLiteEventStore(path: root.appendingPathComponent("ledger.db").path, create: true)
            let records = Role.allCases.compactMap { role in
                keys[role].map { KeyRecord(publicKey: $0.publicKey, name: role.rawValue, roles: [role]) }
            }
            guard let admin = keys[.admin] else { throw LedgerError(.key, "no admin key was generated") }
            let ledger = try await Ledger.create(
                store: store,
                clock: SystemClock(),
                logID: logID,
                keys: records,
                signedBy: admin
            )
            guard let genesisHash = await ledger.state.genesisLeafHash else {
                throw LedgerError(.storage, "the genesis event was not recorded")
            }
            genesis = genesisHash
            var created = Workspace(
                root: root,
                logID: logID,
                genesis: genesis,
                logURL: "sqlite:ledger.db",
                artifactsURL: "file:artifacts",
                keyPaths: keyPaths
            )
            created.pipeline.source = source
            workspace = created
            try Files.writeAtomically(try CanonicalJSON.encode(workspace.configJSON) + [0x0a], to: configPath)
        } catch {
            for path in paths + ["-wal", "-shm"].map({ root.appendingPathComponent("ledger.db").path + $0 }) {
                try? FileManager.default.removeItem(atPath: path)
            }
            throw error
        }

        let console = Console.current
        if json {
            var object: [String: JSONValue] = [
                "workspace": .string(root.path), "logId": .string(logID), "genesis": .string(genesis.hex),
            ]
            for role in Role.allCases {
                object["\(role.rawValue)KeyId"] = keys[role].map { .string($0.keyID) } ?? .null
                object["\(role.rawValue)KeyFile"] = keyPaths[role].map { .string(workspace.path($0)) } ?? .null
            }
            console.json(.object(object))
        } else {
            console.out("Created workspace \(root.path)")
            console.out("  log id     \(logID)")
            console.out("  genesis    \(genesis.hex)")
            for role in Role.allCases {
                let label = (role.rawValue + " key").padded(to: 13)
                console.out("  \(label)\(keyPaths[role] ?? "")  keyid \(keys[role]?.keyID ?? "")")
            }
            console.out("")
            console.out("The genesis hash is your trust anchor. Keep a copy outside this folder; anyone can then")
            console.out("check this log with: ledger verify --trust \(genesis.hex)")
            console.out("Each key holds one role. Give the approver and deployer keys to the people who approve")
            console.out("and deploy, and keep the admin key offline.")
        }
    }
}

extension String {
    fileprivate func padded(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
