public import ArgumentParser
public import LedgerCore
import LedgerStore
import LedgerWorkspace

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Generate, add, revoke and list signing keys.",
        discussion: """
            Roles: admin (keys, policy), log (checkpoints), pipeline (runs, data, training, registration), approver (approve or reject), deployer (deploy, roll back, retire).

            Example:
              ledger keys generate --name alice --role approver --out alice.key
              ledger keys add --public alice.key.pub --name alice --role approver \\
                --key keys/admin.key
            """,
        subcommands: [KeysGenerateCommand.self, KeysAddCommand.self, KeysRevokeCommand.self, KeysListCommand.self]
    )
}

extension Role: ExpressibleByArgument {}

struct KeysGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a new Ed25519 private key (PKCS#8 PEM, mode 0600) and its public key (FILE.pub).",
        discussion: """
            Needs no workspace. The name and roles are printed for `ledger keys add`; the key is not part of any log until an admin adds it.

            Example:
              ledger keys generate --name alice --role approver --out alice.key --json
            """
    )

    @Option(help: "A human name for the key.")
    var name: String

    @Option(help: ArgumentHelp("A role the key is meant for (repeatable).", valueName: "ROLE"))
    var role: [Role] = []

    @Option(help: ArgumentHelp("The private key file to create; refuses to overwrite.", valueName: "FILE"))
    var out: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard !role.isEmpty else {
            throw ValidationError("give at least one --role (\(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard !name.isEmpty, name.count <= 128 else { throw ValidationError("--name must be 1 to 128 characters") }
    }

    func run() throws {
        let key = SigningKey()
        try KeyFiles.write(key, to: out)
        let publicHex = Hex.encode(key.publicKey.rawRepresentation)
        if json {
            Console.current.json([
                "keyid": .string(key.keyID), "publicKey": .string(publicHex), "name": .string(name),
                "roles": .array(Set(role).sorted().map { .string($0.rawValue) }), "file": .string(out),
            ])
        } else {
            Console.current.out("Wrote \(out) (mode 0600) and \(out).pub")
            Console.current.out("  keyid       \(key.keyID)")
            Console.current.out("  public key  \(publicHex)")
            Console.current.out(
                "Add it with: ledger keys add --public \(out).pub --name \(name) \(Set(role).sorted().map { "--role \($0.rawValue)" }.joined(separator: " ")) --key ADMINKEY"
            )
        }
    }
}

struct KeysAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a public key with its roles to the log (signed by an admin key).",
        discussion: """
            Example:
              ledger keys add --public alice.key.pub --name alice --role approver \\
                --key keys/admin.key
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(
        help: ArgumentHelp(
            "The public key: 64 hex characters, or a file with hex or an SPKI PEM.",
            valueName: "FILE|HEX"
        )
    )
    var `public`: String

    @Option(help: "A human name for the key.")
    var name: String

    @Option(help: ArgumentHelp("A role the key holds (repeatable).", valueName: "ROLE"))
    var role: [Role] = []

    @Option(help: ArgumentHelp("The admin's private key file that signs the event.", valueName: "FILE"))
    var key: String

    @Flag(help: "Print the appended entry as JSON.")
    var json = false

    func validate() throws {
        guard !role.isEmpty else { throw ValidationError("give at least one --role") }
        guard !name.isEmpty, name.count <= 128 else { throw ValidationError("--name must be 1 to 128 characters") }
    }

    func run() async throws {
        let session = try await workspace.open()
        let publicKey = try KeyFiles.loadPublicKey(`public`)
        let signer = try KeyFiles.loadPrivateKey(key)
        printAppended(try await session.addKey(publicKey, name: name, roles: Set(role), signer: signer), json: json)
    }
}

struct KeysRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a key: its earlier events stay valid, later ones are refused.",
        discussion: """
            Example:
              ledger keys revoke 3f5a09c1 --reason "laptop lost" --key keys/admin.key
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The keyid to revoke, or a unique prefix of at least 8 characters (see `ledger keys list`).")
    var keyID: String

    @Option(help: "Why the key is revoked; recorded in the log.")
    var reason: String

    @Option(help: ArgumentHelp("The admin's private key file that signs the event.", valueName: "FILE"))
    var key: String

    @Flag(help: "Print the appended entry as JSON.")
    var json = false

    func validate() throws {
        guard (8...64).contains(keyID.count),
            keyID.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else {
            throw ValidationError("KEYID must be 8 to 64 lowercase hex characters (a keyid or a unique prefix of one)")
        }
        guard !reason.isEmpty else { throw ValidationError("--reason must not be empty") }
    }

    func run() async throws {
        let session = try await workspace.open()
        let signer = try KeyFiles.loadPrivateKey(key)
        printAppended(try await session.revokeKey(matching: keyID, reason: reason, signer: signer), json: json)
    }
}

struct KeysListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the log's keys with their name, roles, status and public key.",
        discussion: """
            Example:
              ledger keys list --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Flag(help: "Print the keys as JSON.")
    var json = false

    func run() async throws {
        let ledger = try await workspace.open().ledger
        let state = await ledger.state
        let console = Console.current
        if json {
            console.json(
                .array(
                    state.keyring.records.map { record in
                        .object([
                            "keyid": .string(record.keyID), "name": .string(record.name),
                            "roles": .array(record.roles.sorted().map { .string($0.rawValue) }),
                            "status": .string(record.isActive ? "active" : "revoked"),
                            "publicKey": .string(Hex.encode(record.publicKey.rawRepresentation)),
                            "addedAt": .int(record.addedAt), "revokedAt": record.revokedAt.map { .int($0) } ?? .null,
                        ])
                    }
                )
            )
            return
        }
        for record in state.keyring.records {
            let status = record.revokedAt.map { "revoked at seq \($0)" } ?? "active"
            let roles = record.roles.sorted().map(\.rawValue).joined(separator: ",")
            // The name comes from the log: a newline or an escape sequence in it is shown, not obeyed.
            console.out("\(record.keyID)  \(Console.printable(record.name))  [\(roles)]  \(status)")
            console.out("    public key \(Hex.encode(record.publicKey.rawRepresentation))")
        }
    }
}

/// Prints what an append wrote: one line per entry, or a JSON array.
func printAppended(_ appended: [SignedEvent], json: Bool) {
    let console = Console.current
    if json {
        console.json(.array(appended.map(entryJSON)))
    } else {
        for signed in appended {
            console.out("appended seq \(signed.event.seq) \(signed.event.type)  leaf \(signed.leafHash.hex)")
        }
    }
}

/// The JSON view of an entry that `log`, `append` and others print.
func entryJSON(_ signed: SignedEvent) -> JSONValue {
    var object = signed.event.jsonValue.objectValue ?? [:]
    object["leafHash"] = .string(signed.leafHash.hex)
    return .object(object)
}
