import ArgumentParser
import Foundation
import LedgerCore
import LedgerSQLite
import LedgerStore
import LedgerTransparency
import LedgerWorkspace

struct ProveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print RFC 9162 inclusion and consistency proofs, or check one.",
        discussion: """
            Proof hashes are hex, in RFC 9162 order (bottom-up). `--json` output is a proof file that `ledger prove verify` and other RFC 9162 tools can check.

            `ledger prove inclusion SEQ --format tlog-proof` writes a c2sp.org/tlog-proof@v1 file instead: the entry, its inclusion proof and the latest kept checkpoint that covers it with its witnesses' cosignatures, which an auditor checks offline with the log's vkey and a witness policy alone.

            Examples:
              ledger prove inclusion 42 --size 100 --json > proof.json
              ledger prove consistency 50 100 --json
              ledger prove verify proof.json
              ledger prove inclusion 42 --format tlog-proof --out entry-42.tlog-proof
              ledger prove verify entry-42.tlog-proof --policy witnesses.policy
            """,
        subcommands: [ProveInclusionCommand.self, ProveConsistencyCommand.self, ProveVerifyCommand.self]
    )
}

struct ProveInclusionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inclusion",
        abstract: "Prove that entry SEQ is in the tree of the first N entries.",
        discussion: """
            With --format tlog-proof it writes a c2sp.org/tlog-proof@v1 file: the tree is that of the latest kept checkpoint covering SEQ (with --policy, the latest that meets the policy's quorum), carried with its cosignatures, and the entry's leaf bytes are its extra data (up to 64 KiB). Check it with `ledger prove verify FILE --policy POLICY`.

            Examples:
              ledger prove inclusion 42 --size 100 --json
              ledger prove inclusion 42 --format tlog-proof --policy witnesses.policy \\
                --out entry-42.tlog-proof
            """
    )

    /// The proof formats `prove inclusion` writes.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
        case tlogProof = "tlog-proof"
    }

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The entry's seq.")
    var seq: UInt64

    @Option(help: ArgumentHelp("The tree size (default: the log's current size).", valueName: "N"))
    var size: UInt64?

    @Flag(help: "Print the proof as JSON.")
    var json = false

    @Option(help: ArgumentHelp("text, json or tlog-proof (a c2sp.org/tlog-proof@v1 file).", valueName: "FORMAT"))
    var format: Format?

    @Option(
        help: ArgumentHelp(
            "With tlog-proof: use only checkpoints that meet this tlog-policy's quorum.",
            valueName: "FILE"
        )
    )
    var policy: String?

    @Option(help: ArgumentHelp("With tlog-proof: write the proof to FILE (atomically) instead.", valueName: "FILE"))
    var out: String?

    func validate() throws {
        if format == .tlogProof {
            guard size == nil else {
                throw ValidationError("--size does not apply to tlog-proof: the tree is the kept checkpoint's")
            }
            guard !json else { throw ValidationError("--json and --format tlog-proof go separately") }
        } else {
            guard policy == nil, out == nil else {
                throw ValidationError("--policy and --out apply to --format tlog-proof")
            }
            if format == .text, json { throw ValidationError("--json contradicts --format text") }
        }
    }

    func run() async throws {
        if format == .tlogProof {
            let session = try await workspace.open(readingOnly: true)
            let witnessPolicy = try policy.map { (path) throws(LedgerError) in
                try WitnessPolicy(bytes: Files.read(path, .policy))
            }
            let state = await session.ledger.state
            let proof = try await TlogProofs.make(store: session.store, state: state, seq: seq, policy: witnessPolicy)
            let bytes = Array(proof.serialized.utf8)
            if let out {
                try Files.writeAtomically(bytes, to: out)
                let size = (try? Checkpoint(text: proof.checkpoint.text).size).map(String.init) ?? "?"
                Console.current.err("wrote \(out): seq \(seq) in the checkpoint of size \(size)")
            } else {
                Console.current.writeOut(bytes)
            }
            return
        }
        let workspace = try workspace.locate()
        let store = try await workspace.openStore()
        let document = try await LogProofs.inclusion(store: store, seq: seq, size: size, logID: workspace.logID)
        printProof(document, json: json || format == .json)
    }
}

struct ProveConsistencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consistency",
        abstract: "Prove that the tree of the first OLD entries is a prefix of the tree of the first NEW.",
        discussion: """
            Example:
              ledger prove consistency 50 100 --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The older tree size.")
    var old: UInt64

    @Argument(help: "The newer tree size.")
    var new: UInt64

    @Flag(help: "Print the proof as JSON.")
    var json = false

    func validate() throws {
        guard old <= new else { throw ValidationError("OLD must not exceed NEW") }
    }

    func run() async throws {
        let workspace = try workspace.locate()
        let store = try await workspace.openStore()
        let document = try await LogProofs.consistency(store: store, from: old, to: new, logID: workspace.logID)
        printProof(document, json: json)
    }
}

struct ProveVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a proof file written by `ledger prove … --json`. Needs no workspace.",
        discussion: """
            Checks the proof against the roots it names. On its own that proves only that the file is self-consistent: with --checkpoint and --log-key it also checks that the checkpoint is signed by that log key and that the proof's tree (its size and root) is the one the checkpoint signed. Exits with status 3 if anything fails.

            A c2sp.org/tlog-proof@v1 file (from `ledger prove inclusion --format tlog-proof`) needs --policy: its checkpoint must be signed by the policy's log (or by --log-key when the policy lists none) and cosigned by the policy's quorum of witnesses, and the inclusion proof must lead from the entry it carries (or --leaf-hash) to the checkpoint's root. It proves inclusion only: whether the entry's signer had authority at that seq needs the log before it (`ledger verify`).

            Examples:
              ledger prove verify proof.json
              ledger prove verify proof.json --checkpoint cp.txt --log-key log.key.pub
              ledger prove verify entry-42.tlog-proof --policy witnesses.policy
            """
    )

    @Argument(help: "The proof file (JSON, or a tlog-proof).")
    var file: String

    @Option(
        help: ArgumentHelp("For a tlog-proof: the tlog-policy its checkpoint must meet (required).", valueName: "FILE")
    )
    var policy: String?

    @Option(
        help: ArgumentHelp(
            "For a tlog-proof: the leaf hash of the entry to prove (default: the entry the proof carries).",
            valueName: "HEX"
        )
    )
    var leafHash: String?

    @Option(help: ArgumentHelp("A signed checkpoint whose tree the proof must be about.", valueName: "FILE"))
    var checkpoint: String?

    @Option(
        help: ArgumentHelp("The log's public key (hex or SPKI PEM file) that signed the checkpoint.", valueName: "KEY")
    )
    var logKey: String?

    func validate() throws {
        if let leafHash, Hash256(hex: leafHash) == nil {
            throw ValidationError("--leaf-hash must be 64 hex characters")
        }
        guard policy == nil else {
            guard checkpoint == nil else { throw ValidationError("--checkpoint does not apply with --policy") }
            return
        }
        guard leafHash == nil else { throw ValidationError("--leaf-hash applies to a tlog-proof with --policy") }
        guard (checkpoint == nil) == (logKey == nil) else {
            throw ValidationError("--checkpoint and --log-key go together")
        }
    }

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        if let policy {
            try verifyTlogProof(policy: policy)
            return
        }
        if Files.exists(file), let head = try? Files.read(file, .proof).prefix(TlogProof.header.utf8.count),
            head.elementsEqual(TlogProof.header.utf8)
        {
            throw ValidationError("\(file) is a tlog-proof: give the witness policy with --policy FILE")
        }
        let check: ProofCheck
        do {
            check = try ProofCheck.file(file, checkpoint: checkpoint, logKey: logKey)
        } catch let refused as VerificationRefused {
            try failVerification(refused.failure, json: json)
        }
        var summary: String
        switch check.claim {
        case .inclusion(let seq, let size, _, let root):
            summary = "inclusion proof verified: seq \(seq) is in the tree of size \(size) with root \(root.hex)"
        case .consistency(let from, let to, _, _):
            summary = "consistency proof verified: the tree of size \(from) is a prefix of the tree of size \(to)"
        }
        summary +=
            check.authenticated
            ? "; the checkpoint signed by that log key attests this tree"
            : " (roots not authenticated: add --checkpoint and --log-key)"
        if json {
            Console.current.json(["ok": true, "type": check.type ?? .null, "authenticated": .bool(check.authenticated)])
        } else {
            Console.current.out(summary)
        }
    }
}

extension ProveVerifyCommand {
    /// `prove verify FILE --policy POLICY`: a tlog-proof checked offline.
    private func verifyTlogProof(policy path: String) throws {
        let policy = try WitnessPolicy(bytes: Files.read(path, .policy))
        let key = try logKey.map { (argument) throws(LedgerError) in try KeyFiles.loadPublicKey(argument) }
        let check: TlogProofCheck
        do {
            check = try TlogProofs.check(
                file,
                policy: policy,
                leafHash: leafHash.flatMap(Hash256.init(hex:)),
                logKey: key
            )
        } catch let refused as VerificationRefused {
            try failVerification(refused.failure, json: json)
        }
        let checkpoint = check.verdict.checkpoint
        let cosigners = check.verdict.cosignatures.map(\.witness.name)
        let caveat =
            "it proves inclusion only: whether the entry's signer had authority at seq \(check.proof.index) needs the "
            + "log before it (ledger verify)"
        if json {
            Console.current.json([
                "ok": true, "type": "tlog-proof", "origin": .string(checkpoint.origin),
                "index": .int(check.proof.index),
                "size": .int(checkpoint.size), "root": .string(checkpoint.root.hex),
                "leafHash": .string(check.leafHash.hex),
                "entryIncluded": .bool(check.entry != nil), "witnesses": .array(cosigners.map(JSONValue.string)),
                "inclusionOnly": true, "note": .string(caveat),
            ])
        } else {
            Console.current.out(
                "tlog-proof verified: the entry with leaf hash \(check.leafHash.hex) is at seq \(check.proof.index) of "
                    + "\(Console.printable(checkpoint.origin)), in the checkpoint of size \(checkpoint.size) signed by the log "
                    + "and cosigned by \(cosigners.isEmpty ? "no witness (the policy needs none)" : cosigners.joined(separator: ", ")) (quorum met)"
            )
            Console.current.out("note: \(caveat)")
        }
    }
}

private func printProof(_ document: JSONValue, json: Bool) {
    let console = Console.current
    if json {
        console.json(document)
        return
    }
    for key in ["type", "logId", "seq", "size", "from", "to", "leafHash", "fromRoot", "toRoot", "root"] {
        if let value = document[key] {
            let label = key + String(repeating: " ", count: max(0, 9 - key.count))
            console.out("\(label) \(value.stringValue ?? value.description)")
        }
    }
    console.out("proof")
    for item in document["proof"]?.arrayValue ?? [] { console.out("  \(item.stringValue ?? "")") }
}
