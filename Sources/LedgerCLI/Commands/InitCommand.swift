import ArgumentParser
import Foundation
import LedgerArtifacts
import LedgerAudit
import LedgerCore
import LedgerPostgres
import LedgerPostgresConnection
import LedgerSQLite
import LedgerStore
import LedgerWorkspace

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a workspace: config, log (SQLite or PostgreSQL), a key per role, and the genesis event.",
        discussion: """
            Writes DIR/ledger.json, the log (DIR/ledger.db by default) and one key per role in DIR/keys/ (admin, log, pipeline, approver and deployer; PKCS#8 PEM, mode 0600, with .pub files beside them; DIR and DIR/keys/ are set to mode 0700 whatever the umask), then signs the genesis event `ledger.created`, which registers each key with its role, with the admin key. It prints the trust anchor: the genesis leaf hash. Keep it somewhere safe; `ledger verify --trust HASH` proves a log is the one you created. ledger.json holds the defaults of every setting, to edit; --source sets the pipeline's Audit DB.

            --store puts the log in PostgreSQL instead: one shared log for many processes and hosts, with its projections in the same schema (the password comes from PGPASSWORD, never from ledger.json). --artifacts puts the data lake in S3-compatible storage (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY). To work on the same log from another machine, copy ledger.json and the key files it needs.

            Example:
              ledger init ./ws --log-id example.org/fraud-models
              ledger init ./ws --store 'postgres://ledger@db/ledger?schema=fraud' \\
                               --artifacts 's3://lake/ledger?region=eu-west-1'
              ledger init ./ws --source sqlite:/data/audit.db
              ledger init ./ws --source postgres://ledger@db.example.org/audit
            """
    )

    @Argument(help: "The folder to create the workspace in.")
    var directory: String = "."

    @Option(help: ArgumentHelp("The log's origin: a short, URL-like name with no spaces or '+'.", valueName: "ORIGIN"))
    var logID: String?

    @Option(
        help: ArgumentHelp(
            "The Audit DB that `ledger run` and `ledger schedule` read: sqlite:PATH (a relative path is from DIR) or postgres://USER@HOST[:PORT]/DATABASE (the password from PGPASSWORD).",
            valueName: "SOURCE"
        )
    )
    var source: String?

    @Option(
        help: ArgumentHelp(
            "Where the log lives: sqlite:PATH (default sqlite:ledger.db, relative to DIR) or postgres://USER@HOST[:PORT]/DATABASE[?schema=NAME] (the password from PGPASSWORD).",
            valueName: "URL"
        )
    )
    var store = "sqlite:ledger.db"

    @Option(
        help: ArgumentHelp(
            "Where artifacts live: file:PATH (default file:artifacts, relative to DIR) or s3://BUCKET/PREFIX?endpoint=URL&region=REGION.",
            valueName: "URL"
        )
    )
    var artifacts = "file:artifacts"

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        if PostgresLocation.isPostgresURL(store) {
            _ = try PostgresLocation(store, environment: [:])
            if PostgresLocation.holdsPassword(store) {
                throw ValidationError("--store: \(Workspace.noPasswordInConfig)")
            }
        } else if !store.hasPrefix("sqlite:") || store.count == "sqlite:".count {
            throw ValidationError("--store must be sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE[?schema=NAME]")
        }
        guard artifacts.hasPrefix("s3://") || (artifacts.hasPrefix("file:") && artifacts.count > "file:".count) else {
            throw ValidationError("--artifacts must be file:PATH or s3://BUCKET/PREFIX?endpoint=URL&region=REGION")
        }
        if let source, try AuditSourceOption.validate(source).holdsPassword {
            throw ValidationError("--source: \(Workspace.noPasswordInConfig)")
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
        let created = try await Workspace.create(
            at: URL(fileURLWithPath: directory).standardizedFileURL,
            logID: logID,
            log: store,
            artifacts: artifacts,
            source: source
        )
        let (workspace, keys) = (created.workspace, created.keyIDs)
        let (root, logID, genesis, keyPaths) = (workspace.root, workspace.logID, workspace.genesis, workspace.keyPaths)
        let console = Console.current
        if json {
            var object: [String: JSONValue] = [
                "workspace": .string(root.path), "logId": .string(logID), "genesis": .string(genesis.hex),
            ]
            for role in Role.allCases {
                object["\(role.rawValue)KeyId"] = keys[role].map { .string($0) } ?? .null
                object["\(role.rawValue)KeyFile"] = keyPaths[role].map { .string(workspace.path($0)) } ?? .null
            }
            console.json(.object(object))
        } else {
            console.out("Created workspace \(root.path)")
            console.out("  log id     \(logID)")
            console.out("  genesis    \(genesis.hex)")
            for role in Role.allCases {
                let label = (role.rawValue + " key").padded(to: 13)
                console.out("  \(label)\(keyPaths[role] ?? "")  keyid \(keys[role] ?? "")")
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
