import ArgumentParser
import LedgerCore
import LedgerSQLite
import LedgerStore

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List the log's events.",
        discussion: """
            Shows what the store holds; run `ledger verify` to prove it was not altered.

            Example:
              ledger log --type key.added --json
              ledger log --after 100 --limit 20
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("Only events of this type.", valueName: "TYPE"))
    var type: String?

    @Option(help: ArgumentHelp("Only events after this seq.", valueName: "SEQ"))
    var after: UInt64?

    @Option(help: ArgumentHelp("At most this many events.", valueName: "N"))
    var limit: Int?

    @Flag(help: "Print the events as a JSON array.")
    var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let type, EventCatalog.kinds[type] == nil {
            throw ValidationError(
                "unknown event type \"\(type)\" (known: \(EventCatalog.kinds.keys.sorted().joined(separator: ", ")))"
            )
        }
        if let after, after >= UInt64(Int64.max) { throw ValidationError("--after is beyond any log") }
    }

    func run() async throws {
        let ledger = try await workspace.locate().openLedger()
        let store = ledger.store
        let keyring = await ledger.state.keyring
        let start = after.map { $0 + 1 } ?? 0
        var selected: [SignedEvent] = []
        var cursor = start
        let size = try await store.size()
        // Read in pages so that a filtered listing of a large log stays bounded in memory.
        while cursor < size, selected.count < limit ?? Int.max {
            let page = try await store.entries(in: cursor..<min(size, cursor + 4096))
            for entry in page where type == nil || entry.type == type {
                selected.append(try SignedEvent(leaf: entry.leaf))
                if selected.count == limit { break }
            }
            cursor += 4096
        }
        let console = Console.current
        if json {
            console.json(.array(selected.map(entryJSON)))
            return
        }
        for signed in selected {
            let event = signed.event
            let data = (try? CanonicalJSON.encode(event.data)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let shown = data.count > 100 ? data.prefix(97) + "..." : Substring(data)
            let signer = keyring[event.actor]?.name ?? String(event.actor.prefix(12))
            console.out("\(event.seq)  \(event.time)  \(event.type)  \(signer)  \(shown)")
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the log as JSON Lines: each line is exactly one entry's leaf bytes.",
        discussion: """
            Line i is the RFC 8785 canonical JSON of entry i's DSSE envelope, so the file alone is enough to recompute every leaf hash and the Merkle root, and to verify every signature.

            Example:
              ledger export --out log.jsonl
              ledger verify --from log.jsonl --trust <genesis hash>
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("The file to write (atomically); default: standard output.", valueName: "FILE"))
    var out: String?

    func run() async throws {
        let store = try workspace.locate().openStore()
        let entries = try await store.allEntries()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.reduce(0) { $0 + $1.leaf.count + 1 })
        for entry in entries {
            bytes += entry.leaf
            bytes.append(0x0a)
        }
        if let out {
            try Files.writeAtomically(bytes, to: out)
            Console.current.err("exported \(entries.count) entries to \(out)")
        } else {
            Console.current.writeOut(bytes)
        }
    }
}
