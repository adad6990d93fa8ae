import ArgumentParser
import LedgerCore
import LedgerStore
import LedgerWorkspace
import Synchronization

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print the log's events as JSON Lines; with --follow, keep printing new ones as they are appended.",
        discussion: """
            Each line is {"seq","leafHash","event"}, where event is the signed payload, or with --envelopes the DSSE envelope itself (the entry's leaf bytes, which `ledger append --envelope` and other verifiers accept). Lines come in seq order, each exactly once, so a subscriber that stops can resume with --after the last seq it saw.

            Examples:
              ledger events --after 120
              ledger events --follow --type model.deployed | while read -r line; do notify "$line"; done
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("Start after this seq (default: from seq 0).", valueName: "SEQ"))
    var after: UInt64?

    @Flag(help: "Wait for new events instead of stopping at the end of the log.")
    var follow = false

    @Option(
        help: ArgumentHelp(
            "With --follow: how often to look for new events. A PostgreSQL log also wakes the follower as each append commits (LISTEN/NOTIFY).",
            valueName: "SECONDS"
        )
    )
    var poll: Double = 1

    @Option(help: ArgumentHelp("Only events of this type.", valueName: "TYPE"))
    var type: String?

    @Option(help: ArgumentHelp("Stop after printing this many events.", valueName: "N"))
    var limit: Int?

    @Flag(help: "Print each entry's DSSE envelope instead of {\"seq\",\"leafHash\",\"event\"}.")
    var envelopes = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        guard poll >= 0.05, poll <= 3600 else { throw ValidationError("--poll must be between 0.05 and 3600 seconds") }
        if let type, EventType(bytes: type) == nil {
            throw ValidationError(
                "unknown event type \"\(type)\" (known: \(EventType.allCases.map(\.rawValue).sorted().joined(separator: ", ")))"
            )
        }
        if let after, after >= UInt64(Int64.max) { throw ValidationError("--after is beyond any log") }
    }

    func run() async throws {
        let store = try await workspace.open(readingOnly: true).ledger.store
        let console = Console.current
        let woken = Atomic<Bool>(false)
        let listener = Task {
            guard follow, let signalling = store as? any AppendSignalling else { return }
            for await _ in signalling.appendSignals() { woken.store(true, ordering: .relaxed) }
        }
        defer { listener.cancel() }
        let wanted = type.flatMap(EventType.init(bytes:))
        var cursor = after.map { $0 + 1 } ?? 0
        var printed = 0
        while true {
            let size = try await store.size()
            while cursor < size {
                let page = try await store.entries(in: cursor..<min(size, cursor + 1024))
                for entry in page {
                    // Type, seq and leaf hash from the signed bytes: the store's columns are unchecked indexes.
                    let signed = try SignedEvent(leaf: entry.leaf)
                    if let wanted, !signed.event.is(wanted) { continue }
                    if envelopes {
                        console.writeOut(entry.leaf + [0x0a])
                    } else {
                        console.json([
                            "seq": .int(signed.event.seq), "leafHash": .string(signed.leafHash.hex),
                            "event": signed.event.jsonValue,
                        ])
                    }
                    printed += 1
                    if let limit, printed >= limit { return }
                }
                cursor += UInt64(page.count)
                if page.isEmpty { break }
            }
            guard follow else { return }
            // Until the poll interval passes or the store signals an append, whichever comes first.
            let deadline = ContinuousClock.now + .milliseconds(Int(poll * 1000))
            while ContinuousClock.now < deadline && !woken.exchange(false, ordering: .relaxed) {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }
}
