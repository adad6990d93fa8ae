import ArgumentParser
import LedgerCore
import LedgerStore
import LedgerTransparency
import LedgerWorkspace

struct CheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign a C2SP checkpoint of the log's current size with the log key, and keep it.",
        discussion: """
            The checkpoint is a signed note: the log id, the tree size and the base64 RFC 9162 root, signed by the log key under the log id as key name. Hand copies to auditors or witnesses: a later log that was truncated or rewritten fails `ledger verify --checkpoint`.

            With --witness, each witness (C2SP tlog-witness) is asked to cosign it, and the checkpoint is kept with the cosignatures obtained; see `ledger checkpoint sign --help` and docs/witness.md.

            Examples:
              ledger checkpoint --out cp.txt
              ledger checkpoint --witness http://witness.example:7380=witness.example/w1+ff1fd60d+BDiw…
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
            --witness URL[=VKEY] POSTs a tlog-witness add-checkpoint request to URL/add-checkpoint, with a consistency proof from the size that witness last cosigned (remembered in the workspace's witnesses.json; on a 409 the request is made again from the size the witness names). With =VKEY (what `ledger witness vkey` prints) the cosignature must verify with that key, otherwise it is refused; without, it is added unchecked and the output says so.

            --witness FILE=VKEY is for a witness with no network: when FILE does not exist, the request is written there, to carry to `ledger witness cosign DIR --request FILE --out RESPONSE`; then `ledger checkpoint --witness RESPONSE=VKEY`, before the log grows, adds the cosignature from the response.

            The checkpoint is kept (where `ledger publish`, `ledger prove` and `ledger verify` find it) only once a witness cosigned it, and only if no checkpoint of the same size was kept before: the store keeps the first note of each size, so ask the witnesses before a plain `ledger checkpoint` of that size. Exits 1 if any witness refused or could not be reached; what the others cosigned is kept.

            Examples:
              ledger checkpoint --out cp.txt
              ledger checkpoint --witness http://127.0.0.1:7380=witness.example/w1+ff1fd60d+BDiw… --json
              ledger checkpoint --witness request.txt=witness.example/w2+0a1b2c3d+BEx5…
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("Also write the checkpoint to this file.", valueName: "FILE"))
    var out: String?

    @Option(help: ArgumentHelp("The log key file (default: the workspace's keys/log.key).", valueName: "FILE"))
    var key: String?

    @Option(
        help: ArgumentHelp(
            "A witness to cosign the checkpoint: its URL, or a file for an air-gapped one, with =VKEY (repeatable).",
            valueName: "URL|FILE[=VKEY]"
        )
    )
    var witness: [String] = []

    @Flag(help: "Print {\"logId\",\"size\",\"root\",\"note\",\"file\"} as JSON instead of the note.")
    var json = false

    func validate() throws {
        for argument in witness {
            do { _ = try WitnessTarget(argument: argument) } catch { throw ValidationError(error.reason) }
        }
    }

    func run() async throws {
        let session = try await workspace.open()
        let signer = try KeyFiles.loadPrivateKey(key ?? session.workspace.path(session.workspace.logKeyPath))
        guard witness.isEmpty else {
            try await runWithWitnesses(session, signer: signer)
            return
        }
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

extension CheckpointSignCommand {
    func runWithWitnesses(_ session: WorkspaceSession, signer: SigningKey) async throws {
        var targets: [WitnessTarget] = []
        for argument in witness { targets.append(try WitnessTarget(argument: argument)) }
        let result = try await session.witnessCheckpoint(signer: signer, witnesses: targets)
        let note = result.note.serialized
        if let out { try Files.writeAtomically(Array(note.utf8), to: out) }
        let console = Console.current
        if json {
            console.json([
                "logId": .string(result.checkpoint.origin), "size": .int(result.checkpoint.size),
                "root": .string(result.checkpoint.root.hex), "note": .string(note),
                "file": out.map { .string($0) } ?? .null, "kept": .bool(result.kept),
                "notKeptReason": result.notKeptReason.map { .string($0) } ?? .null,
                "witnesses": .array(
                    result.witnesses.map { report in
                        [
                            "witness": .string(report.witness), "outcome": .string(report.outcome.rawValue),
                            "cosignatures": .int(report.cosignatures), "verified": .bool(report.verified),
                            "oldSize": .int(report.oldSize), "detail": report.detail.map { .string($0) } ?? .null,
                        ]
                    }
                ),
            ])
        } else {
            for report in result.witnesses {
                switch report.outcome {
                case .cosigned:
                    console.err(
                        "\(report.witness): cosigned (\(report.verified ? "verified with its vkey" : "NOT verified: no vkey given"))"
                    )
                case .requestWritten:
                    console.err(
                        "\(report.witness): request written; run `ledger witness cosign DIR --request \(report.witness) --out RESPONSE` at the witness, then `ledger checkpoint --witness RESPONSE=VKEY`"
                    )
                case .refused, .unreachable:
                    console.err("\(report.witness): \(report.outcome.rawValue): \(report.detail ?? "")")
                }
            }
            if let reason = result.notKeptReason { console.err("not kept: \(reason)") }
            if out == nil { console.writeOut(Array(note.utf8)) }
        }
        let failed = result.witnesses.filter { $0.outcome == .refused || $0.outcome == .unreachable }
        if !failed.isEmpty {
            throw LedgerError(
                .witnessRequest,
                "\(failed.count) of \(result.witnesses.count) witnesses did not cosign: \(failed.map(\.witness).joined(separator: ", "))"
            )
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
