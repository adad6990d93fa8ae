import ArgumentParser
import LedgerCore
import LedgerStore
import LedgerWorkspace

struct CheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign a C2SP checkpoint of the log's current size with the log key, and keep it.",
        discussion: """
            The checkpoint is a signed note: the log id, the tree size and the base64 RFC 9162 root, signed by the log key under the log id as key name. Hand copies to auditors or witnesses: a later log that was truncated or rewritten fails `ledger verify --checkpoint`.

            Examples:
              ledger checkpoint --out cp.txt
              ledger checkpoint verify cp.txt
            """,
        subcommands: [CheckpointSignCommand.self, CheckpointVerifyCommand.self],
        defaultSubcommand: CheckpointSignCommand.self
    )
}

struct CheckpointSignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a checkpoint of the current size (the default subcommand).",
        discussion: """
            Example:
              ledger checkpoint --out cp.txt
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("Also write the checkpoint to this file.", valueName: "FILE"))
    var out: String?

    @Option(help: ArgumentHelp("The log key file (default: the workspace's keys/log.key).", valueName: "FILE"))
    var key: String?

    @Flag(help: "Print {\"logId\",\"size\",\"root\",\"note\",\"file\"} as JSON instead of the note.")
    var json = false

    func run() async throws {
        let session = try await workspace.open()
        let signer = try KeyFiles.loadPrivateKey(key ?? session.workspace.path(session.workspace.logKeyPath))
        let checkpoint = try await session.signCheckpoint(signer: signer)
        let note = checkpoint["note"]?.stringValue ?? ""
        if let out { try Files.writeAtomically(Array(note.utf8), to: out) }
        if json {
            var document = checkpoint.objectValue ?? [:]
            document["file"] = out.map { .string($0) } ?? .null
            Console.current.json(.object(document))
        } else if let out {
            Console.current.err(
                "checkpoint of size \(checkpoint["size"]?.integerValue ?? 0) written to \(out) and kept"
            )
        } else {
            Console.current.writeOut(Array(note.utf8))
        }
    }
}

struct CheckpointVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a checkpoint's signature with the log's keys and its root against the log.",
        discussion: """
            Exits with status 3 if the signature fails or the log is not consistent with it.

            Example:
              ledger checkpoint verify cp.txt --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The checkpoint file.")
    var file: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let ledger = try await workspace.open().ledger
        let state = await ledger.state
        let text = try Files.readText(file, .checkpoint)
        let (checkpoint, signers): (Checkpoint, [NoteVerifier])
        do {
            (checkpoint, signers) = try Verifier.authenticate(checkpoint: text, state: state)
        } catch {
            try failVerification(error, json: json)
        }
        guard checkpoint.size <= state.size else {
            try failVerification(
                VerificationFailure(
                    seq: state.size,
                    code: .checkpoint,
                    reason:
                        "the checkpoint signs \(checkpoint.size) entries but the log has \(state.size): it was truncated"
                ),
                json: json
            )
        }
        let leaves = try await ledger.store.leaves(upTo: checkpoint.size)
        guard MerkleTree.root(of: leaves.map { MerkleTree.leafHash($0) }) == checkpoint.root else {
            try failVerification(
                VerificationFailure(
                    seq: nil,
                    code: .checkpoint,
                    reason:
                        "the log's first \(checkpoint.size) entries do not match the checkpoint's root: history was rewritten"
                ),
                json: json
            )
        }
        if json {
            Console.current.json([
                "ok": true, "logId": .string(checkpoint.origin), "size": .int(checkpoint.size),
                "root": .string(checkpoint.root.hex), "signedBy": .array(signers.map { .string($0.name) }),
                "logSize": .int(state.size),
            ])
        } else {
            Console.current.out(
                "checkpoint verified: size \(checkpoint.size), root \(checkpoint.root.hex), consistent with the log (size \(state.size))"
            )
        }
    }
}
