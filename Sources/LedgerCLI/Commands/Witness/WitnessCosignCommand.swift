import ArgumentParser
import LedgerCore
import LedgerTransparency
import LedgerWorkspace

struct WitnessCosignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cosign",
        abstract: "Cosign a checkpoint from files, for a witness with no network (air-gapped).",
        discussion: """
            The same checks and the same durable state as `witness serve`'s POST /add-checkpoint, with files instead of HTTP. Give either --request FILE, a whole add-checkpoint request body (what `ledger checkpoint --witness FILE` writes), or --checkpoint FILE (the signed checkpoint note) with --proof FILE.

            A proof file is the head of an add-checkpoint request: the line `old <size>` (the size this witness last cosigned for the log, 0 for none) and then one base64 consistency-proof hash per line, each line ending in a newline; a final blank line is allowed. For example:
              old 20
              PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
              jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=

            On success --out receives the response body: the witness's cosignature line(s). Exit codes: 0 cosigned; 1 the old size is not the one last cosigned (the message and --json say which it is: make the proof from there), the log is unknown, or the request is malformed; 3 the log's signature or the consistency proof fails (a fork, a rewrite or a truncation).

            Example:
              ledger witness cosign ./w1 --request request.txt --out response.txt
              ledger witness cosign ./w1 --checkpoint cp.txt --proof proof.txt --out response.txt --json
            """
    )

    @OptionGroup var witness: WitnessFolderArgument

    @Option(help: ArgumentHelp("A whole add-checkpoint request body.", valueName: "FILE"))
    var request: String?

    @Option(help: ArgumentHelp("The checkpoint's signed note (with --proof).", valueName: "FILE"))
    var checkpoint: String?

    @Option(help: ArgumentHelp("The `old <size>` line and the proof lines (with --checkpoint).", valueName: "FILE"))
    var proof: String?

    @Option(help: ArgumentHelp("Where to write the cosignature line(s).", valueName: "FILE"))
    var out: String

    @Flag(help: "Print {\"ok\",\"outcome\",\"reason\",…} as JSON.")
    var json = false

    func validate() throws {
        switch (request, checkpoint, proof) {
        case (.some, nil, nil), (nil, .some, .some): break
        default: throw ValidationError("give either --request FILE or both --checkpoint FILE and --proof FILE")
        }
    }

    func run() async throws {
        let witness = try witness.open()
        let body: [UInt8]
        if let request {
            body = try Files.read(request, .proof)
        } else if let checkpoint, let proof {
            let head = try Files.read(proof, .proof)
            // A final blank line of the proof file is optional: the request needs exactly one.
            let trimmed = head.last == 0x0a && head.dropLast().last == 0x0a ? Array(head.dropLast()) : head
            body = trimmed + [0x0a] + (try Files.read(checkpoint, .checkpoint))
        } else {
            throw ValidationError("give either --request FILE or both --checkpoint FILE and --proof FILE")
        }
        let outcome = try await witness.addCheckpoint(body)
        var document: [String: JSONValue] = [
            "ok": .bool(outcome.name == "cosigned"), "outcome": .string(outcome.name),
            "reason": .string(outcome.reason),
        ]
        switch outcome {
        case .cosigned(let signatures, let checkpoint):
            try Files.writeAtomically(outcome.body, to: out)
            document["origin"] = .string(checkpoint.origin)
            document["size"] = .int(checkpoint.size)
            document["cosignatures"] = .array(signatures.map { .string($0.line) })
            document["file"] = .string(out)
            if json {
                Console.current.json(.object(document))
            } else {
                Console.current.err("\(outcome.reason); the cosignature is in \(out)")
            }
        case .conflict(let size):
            document["latestSize"] = .int(size)
            if json { Console.current.json(.object(document)) }
            throw LedgerError(.witnessRequest, outcome.reason)
        case .forbidden, .unprocessable:
            let failure = VerificationFailure(
                seq: nil,
                code: .checkpoint,
                reason: "the witness refuses: \(outcome.reason)"
            )
            if json { Console.current.json(.object(document)) }
            throw VerificationFailed(failure: failure)
        case .badRequest, .unknownOrigin:
            if json { Console.current.json(.object(document)) }
            throw LedgerError(.witnessRequest, "the witness refuses: \(outcome.reason)")
        }
    }
}
