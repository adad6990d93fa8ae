import ArgumentParser
import Foundation
import LedgerCore
import LedgerProjections
import LedgerStore
import LedgerWorkspace

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put back entries a log lost, from an export: exactly the missing leaves, each checked first.",
        discussion: """
            When the log database lost its tail (rows deleted, or an older backup of ledger.db put back), `ledger verify` exits 3 and every append is refused, because the workspace's head record (ledger.head) remembers a longer log. `ledger restore --from EXPORT` repairs it from an export made earlier (`ledger export`):

            - the whole export is verified first, as `ledger verify --from` would, against the workspace's trust anchor, its kept checkpoints and its head record, which the export must hold and match;
            - the entries the log still has must be the export's first entries, byte for byte (restore never merges two histories);
            - then the entries the log lacks, up to the head record's size, are appended exactly as the export holds them, in transactions of at most 1,024 entries, and the read tables catch up.

            Entries of the export beyond what this workspace committed (its head record) are not appended unless you pass --all: they verify, but nothing here recorded them. Without a head record the whole export is restored. The head record is never edited here. The same command restores a workspace whose log database was lost altogether: it makes an empty one (only once the export has verified) and appends the export.

            Examples:
              ledger export --out backup.jsonl        # now and then
              ledger restore --from backup.jsonl      # after the log lost entries
              ledger verify
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(
        help: ArgumentHelp("The export (JSON Lines, from `ledger export`) to restore from.", valueName: "FILE.jsonl")
    )
    var from: String

    @Flag(help: "Also append the export's entries beyond the head record's size.")
    var all = false

    @Option(help: ArgumentHelp("Threads for signature checks (default: all cores).", valueName: "N"))
    var threads: Int?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be 1 to 256") }
    }

    func run() async throws {
        let workspace = try workspace.locate()
        let record = try workspace.headRecord.load()
        let leaves = try VerifyCommand.readExport(from, json: json)
        // An existing log's kept checkpoints bind the export too; a missing log is made only once the export verified.
        let existing = try? await workspace.openStore()
        let kept = try await existing?.checkpoints().map(\.note) ?? []
        let heads = record.map {
            [KnownHead(size: $0.size, root: $0.root, source: "the head record \(Workspace.headRecordName)")]
        }
        let report = Verifier(
            trustedGenesis: workspace.genesis,
            checkpoints: kept,
            heads: heads ?? [],
            concurrency: threads ?? ProcessInfo.processInfo.activeProcessorCount
        ).verify(leaves: leaves)
        if let failure = report.failure {
            try failVerification(
                VerificationFailure(
                    seq: failure.seq,
                    code: failure.code,
                    reason: "the export \(from) cannot be restored from: \(failure.reason)"
                ),
                json: json
            )
        }
        let store: any EventStore
        if let existing { store = existing } else { store = try await workspace.openStore(create: true) }
        let size = try await store.size()
        let target = all ? UInt64(leaves.count) : min(UInt64(leaves.count), record?.size ?? UInt64(leaves.count))
        guard size < target else {
            throw LedgerError(
                .invalidArgument,
                "the log already has \(size) entries"
                    + (target < UInt64(leaves.count)
                        ? ", all its head record holds; the export's \(UInt64(leaves.count) - target) later entries "
                            + "are appended only with --all"
                        : " and the export \(leaves.count): there is nothing to restore")
            )
        }
        // The entries the log kept must be the export's own: restore only appends what is missing.
        var cursor: UInt64 = 0
        while cursor < size {
            let page = try await store.entries(in: cursor..<min(size, cursor + 4096))
            guard !page.isEmpty else { break }
            for entry in page where entry.leaf != leaves[Int(entry.seq)] {
                try failVerification(
                    VerificationFailure(
                        seq: entry.seq,
                        code: .checkpoint,
                        reason: "the log's entry at seq \(entry.seq) is not the export's: the two histories differ, "
                            + "and restore never merges them"
                    ),
                    json: json
                )
            }
            cursor += UInt64(page.count)
        }
        var restored: UInt64 = 0
        var next = size
        while next < target {
            let end = min(target, next + 1024)
            var batch: [LogEntry] = []
            batch.reserveCapacity(Int(end - next))
            for seq in next..<end { batch.append(LogEntry(try SignedEvent(leaf: leaves[Int(seq)]))) }
            try await store.append(batch, expecting: next)
            restored += end - next
            next = end
        }
        // The entries are back whatever the read tables say; tables still ahead of the log are reported, not fatal.
        do {
            _ = try await ProjectionUpdater.catchUp(
                log: store,
                into: try await workspace.openProjections(beside: store)
            )
        } catch {
            Console.current.err("warning: the read tables did not catch up: \(error.reason)")
        }
        var frontier = MerkleFrontier()
        for leaf in leaves.prefix(Int(target)) { frontier.append(MerkleTree.leafHash(leaf)) }
        let left = UInt64(leaves.count) - target
        let console = Console.current
        if json {
            console.json([
                "ok": true, "restored": .int(restored), "from": .int(size), "to": .int(target), "size": .int(target),
                "root": .string(frontier.root.hex), "headRecord": record.map { .int($0.size) } ?? .null,
                "notRestored": .int(left),
            ])
        } else {
            console.out("restored \(restored) entries (seq \(size)..<\(target)) from \(from)")
            console.out("  size         \(target)")
            console.out("  root         \(frontier.root.hex)")
            if let record {
                console.out("  head record  size \(record.size), which the export matched")
            } else {
                console.out("  head record  none; the next append writes it")
            }
            if left > 0 {
                console.out(
                    "  not restored \(left) later entries of the export (beyond the head record; --all adds them)"
                )
            }
        }
    }
}
