import ArgumentParser
import Foundation
import LedgerCore
import LedgerSQLite
import LedgerStore
import LedgerWorkspace

struct ProveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print RFC 9162 inclusion and consistency proofs, or check one.",
        discussion: """
            Proof hashes are hex, in RFC 9162 order (bottom-up). `--json` output is a proof file that `ledger prove verify` and other RFC 9162 tools can check.

            Examples:
              ledger prove inclusion 42 --size 100 --json > proof.json
              ledger prove consistency 50 100 --json
              ledger prove verify proof.json
            """,
        subcommands: [ProveInclusionCommand.self, ProveConsistencyCommand.self, ProveVerifyCommand.self]
    )
}

struct ProveInclusionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inclusion",
        abstract: "Prove that entry SEQ is in the tree of the first N entries.",
        discussion: """
            Example:
              ledger prove inclusion 42 --size 100 --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: "The entry's seq.")
    var seq: UInt64

    @Option(help: ArgumentHelp("The tree size (default: the log's current size).", valueName: "N"))
    var size: UInt64?

    @Flag(help: "Print the proof as JSON.")
    var json = false

    func run() async throws {
        let workspace = try workspace.locate()
        let store = try await workspace.openStore()
        let document = try await LogProofs.inclusion(store: store, seq: seq, size: size, logID: workspace.logID)
        printProof(document, json: json)
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

            Examples:
              ledger prove verify proof.json
              ledger prove verify proof.json --checkpoint cp.txt --log-key log.key.pub
            """
    )

    @Argument(help: "The proof file (JSON).")
    var file: String

    @Option(help: ArgumentHelp("A signed checkpoint whose tree the proof must be about.", valueName: "FILE"))
    var checkpoint: String?

    @Option(
        help: ArgumentHelp("The log's public key (hex or SPKI PEM file) that signed the checkpoint.", valueName: "KEY")
    )
    var logKey: String?

    func validate() throws {
        guard (checkpoint == nil) == (logKey == nil) else {
            throw ValidationError("--checkpoint and --log-key go together")
        }
    }

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
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
