import ArgumentParser
import Foundation
import LedgerCore
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
        let restoration: LogRestoration
        do {
            restoration = try await workspace.locate().restoreLog(
                from: from,
                all: all,
                threads: threads ?? ProcessInfo.processInfo.activeProcessorCount
            ) { Console.current.err($0) }
        } catch let refused as VerificationRefused {
            try failVerification(refused.failure, json: json)
        }
        let console = Console.current
        if json {
            console.json([
                "ok": true, "restored": .int(restoration.restored), "from": .int(restoration.from),
                "to": .int(restoration.to), "size": .int(restoration.to), "root": .string(restoration.root.hex),
                "headRecord": restoration.headRecordSize.map { .int($0) } ?? .null,
                "notRestored": .int(restoration.notRestored),
            ])
        } else {
            console.out(
                "restored \(restoration.restored) entries (seq \(restoration.from)..<\(restoration.to)) from \(from)"
            )
            console.out("  size         \(restoration.to)")
            console.out("  root         \(restoration.root.hex)")
            if let size = restoration.headRecordSize {
                console.out("  head record  size \(size), which the export matched")
            } else {
                console.out("  head record  none; the next append writes it")
            }
            if restoration.notRestored > 0 {
                console.out(
                    "  not restored \(restoration.notRestored) later entries of the export (beyond the head record; --all adds them)"
                )
            }
        }
    }
}
