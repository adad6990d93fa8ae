import ArgumentParser
import Foundation
import LedgerCore
import LedgerSQLite
import LedgerStore

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a workspace: config, SQLite log, admin and log keys, and the genesis event.",
        discussion: """
            Writes DIR/ledger.json, DIR/ledger.db, DIR/keys/admin.key and DIR/keys/log.key (PKCS#8 PEM, mode 0600, with .pub files beside them), then signs the genesis event `ledger.created` with the admin key. It prints the trust anchor: the genesis leaf hash. Keep it somewhere safe; `ledger verify --trust HASH` proves a log is the one you created.

            Example:
              ledger init ./ws --log-id example.org/fraud-models
            """
    )

    @Argument(help: "The folder to create the workspace in.")
    var directory: String = "."

    @Option(help: ArgumentHelp("The log's origin: a short, URL-like name with no spaces or '+'.", valueName: "ORIGIN"))
    var logID: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
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
        let relativeAdmin = "keys/admin.key"
        let relativeLog = "keys/log.key"
        let paths =
            [
                configPath, root.appendingPathComponent("ledger.db").path,
            ]
            + [relativeAdmin, relativeLog].flatMap {
                [root.appendingPathComponent($0).path, root.appendingPathComponent($0 + ".pub").path]
            }
        for existing in paths where Files.exists(existing) {
            throw LedgerError(
                .invalidArgument,
                "\(existing) already exists; \(root.path) already holds a workspace (or what is left of one)"
            )
        }
        try Files.createDirectory(keysFolder.path)

        let admin = SigningKey()
        let logKey = SigningKey()
        let genesis: Hash256
        let workspace: Workspace
        do {
            // Until ledger.json is written last, a failure removes everything written so far.
            try KeyFiles.write(admin, to: root.appendingPathComponent(relativeAdmin).path)
            try KeyFiles.write(logKey, to: root.appendingPathComponent(relativeLog).path)
            let store = try SQLiteEventStore(path: root.appendingPathComponent("ledger.db").path, create: true)
            let ledger = try await Ledger.create(
                store: store,
                clock: SystemClock(),
                logID: logID,
                keys: [
                    KeyRecord(publicKey: admin.publicKey, name: "admin", roles: [.admin]),
                    KeyRecord(publicKey: logKey.publicKey, name: "log", roles: [.log]),
                ],
                signedBy: admin
            )
            guard let genesisHash = await ledger.state.genesisLeafHash else {
                throw LedgerError(.storage, "the genesis event was not recorded")
            }
            genesis = genesisHash
            workspace = Workspace(
                root: root,
                logID: logID,
                genesis: genesis,
                logURL: "sqlite:ledger.db",
                adminKeyPath: relativeAdmin,
                logKeyPath: relativeLog
            )
            try Files.writeAtomically(try CanonicalJSON.encode(workspace.configJSON) + [0x0a], to: configPath)
        } catch {
            for path in paths + ["-wal", "-shm"].map({ root.appendingPathComponent("ledger.db").path + $0 }) {
                try? FileManager.default.removeItem(atPath: path)
            }
            throw error
        }

        let console = Console.current
        if json {
            console.json([
                "workspace": .string(root.path), "logId": .string(logID), "genesis": .string(genesis.hex),
                "adminKeyId": .string(admin.keyID), "adminKeyFile": .string(workspace.path(relativeAdmin)),
                "logKeyId": .string(logKey.keyID), "logKeyFile": .string(workspace.path(relativeLog)),
            ])
        } else {
            console.out("Created workspace \(root.path)")
            console.out("  log id     \(logID)")
            console.out("  genesis    \(genesis.hex)")
            console.out("  admin key  \(relativeAdmin)  keyid \(admin.keyID)")
            console.out("  log key    \(relativeLog)  keyid \(logKey.keyID)")
            console.out("")
            console.out("The genesis hash is your trust anchor. Keep a copy outside this folder; anyone can then")
            console.out("check this log with: ledger verify --trust \(genesis.hex)")
        }
    }
}
