public import Foundation
public import LedgerCore
import LedgerSQLite
public import LedgerStore
import LedgerWorkspace

/// What every benchmark shares: the sample events, a fresh SQLite ledger, timing and medians.
///
/// Each benchmark returns its figures as a JSON object, the machine-readable result that `ledger bench … --json`
/// prints; progress lines go to the `progress` closure the caller passes (the CLI writes them to standard error).
public enum Bench {
    /// The note every throughput benchmark appends: the same payload size for raw and ledger figures.
    ///
    /// - Throws: `LedgerError` if the note cannot be encoded, which plain text and seqs never cause.
    public static func draft(_ index: Int) throws(LedgerError) -> EventDraft {
        let note = NoteAdded(
            text: "benchmark event \(index): retrained fraud-scorer after the weekly window closed",
            refs: [UInt64(max(0, index))]
        )
        return try EventDraft(note)
    }

    /// The PAE of a typical event payload, so raw and ledger figures sign the same number of bytes.
    ///
    /// - Throws: `LedgerError` if the sample event cannot be encoded.
    public static func samplePAE(key: SigningKey) throws -> [UInt8] {
        let event = Event(
            log: "bench.local/log",
            seq: 12_345,
            prev: Hash256.sha256([1, 2, 3]),
            time: Timestamp(millisecondsSinceEpoch: 1_780_000_000_000),
            type: EventType.noteAdded.rawValue,
            actor: key.keyID,
            data: try draft(12_344).data
        )
        return Envelope.preAuthenticationEncoding(
            payloadType: Envelope.eventPayloadType,
            payload: try event.canonicalBytes()
        )
    }

    /// A new ledger in a new SQLite file at `path`, with `key` holding every role.
    ///
    /// - Throws: `LedgerError` if the file cannot be created or the genesis entry appended.
    public static func newLedger(_ path: String, key: SigningKey) async throws -> Ledger {
        try await Ledger.create(
            store: try SQLiteEventStore(path: path, create: true),
            clock: SystemClock(),
            logID: "bench.local/log",
            keys: [KeyRecord(publicKey: key.publicKey, name: "bench", roles: Set(Role.allCases))],
            signedBy: key
        )
    }

    /// The seconds `body` takes; rethrows what it throws.
    public static func time(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        return (ContinuousClock.now - start).inSeconds
    }

    /// The seconds `body` takes; rethrows what it throws.
    public static func timeAsync(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        return (ContinuousClock.now - start).inSeconds
    }

    /// The median of `values`, 0 for none.
    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// `value` rounded to three decimals, as the results report ratios and seconds.
    public static func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

/// A temporary folder for benchmark databases, removed by ``remove()``.
public struct BenchFolder: Sendable {
    public let url: URL

    /// Makes a new folder under the system's temporary directory.
    ///
    /// - Throws: `LedgerError` if it cannot be created.
    public init() throws(LedgerError) {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-bench-\(UUID().uuidString)")
        try Files.createDirectory(url.path)
    }

    /// The path of `name` in the folder.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Removes the folder and everything in it.
    public func remove() { try? FileManager.default.removeItem(at: url) }
}
