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
        subcommands: [
            KeysGenerateCommand.self, KeysAddCommand.self, KeysRevokeCommand.self, KeysListCommand.self,
            KeysVkeyCommand.self,
        ]
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

struct KeysVkeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vkey",
        abstract: "Print a key's C2SP verifier key (vkey, name+keyid+base64) for other transparency tools.",
        discussion: """
            A log key's vkey (type 0x01) is named after the log's origin, as its checkpoints are; it goes on the `log` line of a tlog-policy and into Go's golang.org/x/mod/sumdb/note. With --cosigner NAME it prints a witness key's vkey (type 0x04, cosignature/v1) for the policy's `witness` lines. KEY is a public key (64 hex characters, or a file with hex or an SPKI PEM), a private key file, or a keyid (or a unique prefix of 8 or more) in the log's keyring; without KEY it prints the workspace's active log keys.

            Examples:
              ledger keys vkey
              ledger keys vkey keys/log.key.pub --origin example.com/models
              ledger keys vkey witness.key --cosigner witness.example.com/w1 --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: ArgumentHelp("A public key, a private key file, or a keyid in the keyring.", valueName: "KEY"))
    var key: String?

    @Option(
        help: ArgumentHelp(
            "The log's origin, the key name of a log key (default: the workspace's log id).",
            valueName: "ORIGIN"
        )
    )
    var origin: String?

    @Option(help: ArgumentHelp("Print a witness (cosigner) vkey, type 0x04, under this name.", valueName: "NAME"))
    var cosigner: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard origin == nil || cosigner == nil else {
            throw ValidationError("--origin names a log key and --cosigner a witness key; give one of them")
        }
        for name in [origin, cosigner].compactMap(\.self) {
            guard !name.isEmpty, name.utf8.count <= 256, !name.contains("+"),
                !name.unicodeScalars.contains(where: \.properties.isWhitespace)
            else {
                throw ValidationError("a key name is 1 to 256 bytes without spaces or '+'")
            }
        }
    }

    func run() async throws {
        let keys = try await publicKeys()
        let name: String
        if let given = cosigner ?? origin {
            name = given
        } else {
            name = try workspace.locate().logID
        }
        var lines: [JSONValue] = []
        for key in keys {
            let vkey =
                cosigner != nil
                ? try CosignatureVerifier(name: name, publicKey: key.rawRepresentation).verifierKey
                : try NoteVerifier(name: name, publicKey: key.rawRepresentation).verifierKey
            if json {
                lines.append([
                    "vkey": .string(vkey), "name": .string(name), "keyid": .string(key.keyID),
                    "type": .string(cosigner != nil ? "cosignature/v1" : "ed25519"),
                ])
            } else {
                Console.current.out(vkey)
            }
        }
        if json { Console.current.json(.array(lines)) }
    }

    /// The keys KEY names, or the workspace's active log keys.
    private func publicKeys() async throws -> [PublicKey] {
        guard let key else {
            let state = try await workspace.open(readingOnly: true).ledger.state
            let keys = state.keyring.records.filter { $0.isActive && $0.roles.contains(.log) }.map(\.publicKey)
            guard !keys.isEmpty else { throw LedgerError(.key, "the log has no active log key") }
            return keys
        }
        if Files.exists(key) {
            let text = try Files.readText(key, .publicKey)
            return [
                text.contains("PRIVATE KEY") ? try KeyFiles.loadPrivateKey(key).publicKey : try PublicKey(text: text)
            ]
        }
        if key.utf8.count == 64, Hex.decode(key) != nil { return [try KeyFiles.loadPublicKey(key)] }
        guard (8...64).contains(key.utf8.count),
            key.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else {
            throw ValidationError(
                "KEY \(key) is neither a file, 64 hex characters nor a keyid prefix of 8 or more lowercase hex"
            )
        }
        let state = try await workspace.open(readingOnly: true).ledger.state
        let matches = state.keyring.records.filter { $0.keyID.hasPrefix(key) }
        guard matches.count == 1, let record = matches.first else {
            throw LedgerError(
                .key,
                matches.isEmpty
                    ? "no key in the log's keyring has a keyid starting with \(key)"
                    : "\(matches.count) keys in the keyring have a keyid starting with \(key); give more characters"
            )
        }
        return [record.publicKey]
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
