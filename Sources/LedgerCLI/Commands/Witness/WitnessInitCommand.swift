import ArgumentParser
import LedgerCore
import LedgerTransparency
import LedgerWorkspace

struct WitnessInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make a witness: a folder with a new Ed25519 key, its name and the logs it trusts.",
        discussion: """
            Writes DIR/witness.key (mode 0600) and witness.key.pub, DIR/witness.json (the name and the logs' verifier keys) and DIR/checkpoints/. Refuses a folder that already holds a witness. Prints the witness's verifier key (type 0x04), which logs and verifiers are configured with.

            Example:
              ledger witness init ./w1 --name witness.example/w1 \\
                --log example.org/fraud-models+5a1c0e3f+AZ…
            """
    )

    @OptionGroup var witness: WitnessFolderArgument

    @Option(
        help: ArgumentHelp("The witness's name: its key name in cosignatures, a schema-less URL.", valueName: "NAME")
    )
    var name: String

    @Option(help: ArgumentHelp("A log's verifier key to trust (repeatable; more with `add-log`).", valueName: "VKEY"))
    var log: [String] = []

    @Flag(help: "Print {\"folder\",\"name\",\"vkey\",\"logs\"} as JSON.")
    var json = false

    func validate() throws {
        guard (1...255).contains(name.utf8.count),
            !name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0 == "+" || $0.value < 0x20 })
        else {
            throw ValidationError("--name must be 1 to 255 bytes with no spaces and no '+', such as witness.example/w1")
        }
        _ = try parseLogVerifierKeys(log)
    }

    func run() throws {
        let logs = try parseLogVerifierKeys(log)
        let folder = witness.witnessFolder
        if Files.exists(folder.path + "/" + WitnessFolder.configurationFileName) {
            throw LedgerError(.file, "\(folder.path) already holds a witness; refusing to overwrite it")
        }
        try Files.createPrivateDirectory(folder.path)
        let key = SigningKey()
        try KeyFiles.write(key, to: folder.keyPath)
        try folder.create(WitnessConfiguration(name: name, logs: logs))
        let vkey = try CosignatureVerifier(name: name, publicKey: key.publicKey.rawRepresentation).verifierKey
        if json {
            Console.current.json([
                "folder": .string(folder.path), "name": .string(name), "vkey": .string(vkey),
                "logs": .array(logs.map { .string($0.verifierKey) }),
            ])
        } else {
            Console.current.out("Witness \(name) made in \(folder.path) (key \(folder.keyPath), mode 0600)")
            Console.current.out("  vkey  \(vkey)")
            for log in logs { Console.current.out("  trusts \(log.name)") }
            Console.current.out("Serve it with: ledger witness serve \(folder.path) --port 7380")
        }
    }
}

struct WitnessAddLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-log",
        abstract: "Trust one more log key (a running `witness serve` picks it up at its next request).",
        discussion: """
            The log's origin is the key's name. A log may have more than one key; each is added by itself.

            Example:
              ledger witness add-log ./w1 --log example.org/fraud-models+5a1c0e3f+AZ…
            """
    )

    @OptionGroup var witness: WitnessFolderArgument

    @Option(help: ArgumentHelp("A log's verifier key to trust (repeatable).", valueName: "VKEY"))
    var log: [String] = []

    @Flag(help: "Print {\"added\",\"alreadyTrusted\"} as JSON.")
    var json = false

    func validate() throws {
        guard !log.isEmpty else { throw ValidationError("give at least one --log VKEY") }
        _ = try parseLogVerifierKeys(log)
    }

    func run() throws {
        var added: [String] = []
        var already: [String] = []
        for verifier in try parseLogVerifierKeys(log) {
            if try witness.witnessFolder.addLog(verifier) {
                added.append(verifier.verifierKey)
            } else {
                already.append(verifier.verifierKey)
            }
        }
        if json {
            Console.current.json([
                "added": .array(added.map(JSONValue.string)), "alreadyTrusted": .array(already.map(JSONValue.string)),
            ])
        } else {
            for key in added { Console.current.out("trusts \(key)") }
            for key in already { Console.current.out("already trusted: \(key)") }
        }
    }
}

struct WitnessVkeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vkey",
        abstract: "Print the witness's verifier key (C2SP vkey, type 0x04 cosignature/v1).",
        discussion: """
            Reads witness.json and witness.key.pub only; the private key is not needed. Give the vkey to the log's operator (`ledger checkpoint --witness URL=VKEY`) and to verifiers (a tlog-policy `witness` line).

            Example:
              ledger witness vkey ./w1
            """
    )

    @OptionGroup var witness: WitnessFolderArgument

    @Flag(help: "Print {\"name\",\"vkey\",\"keyId\"} as JSON.")
    var json = false

    func run() throws {
        let folder = witness.witnessFolder
        let name = try folder.configuration().name
        let key = try KeyFiles.loadPublicKey(folder.keyPath + ".pub")
        let verifier = try CosignatureVerifier(name: name, publicKey: key.rawRepresentation)
        if json {
            Console.current.json([
                "name": .string(name), "vkey": .string(verifier.verifierKey),
                "keyId": .string(String(verifier.verifierKey.split(separator: "+")[1])),
            ])
        } else {
            Console.current.out(verifier.verifierKey)
        }
    }
}
