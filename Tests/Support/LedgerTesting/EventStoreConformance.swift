import LedgerCore
public import LedgerStore

/// The behaviour every ``EventStore`` must show, as one suite that each backend's tests run
/// against a fresh, empty store.
///
/// Each check throws ``ConformanceFailure`` naming what broke. Checks are independent: each gets
/// its own store from `makeStore`.
public enum EventStoreConformance {
    public typealias Check = (name: String, body: @Sendable (any EventStore) async throws -> Void)

    /// All checks, by name, so a test can run each as its own case.
    public static let checks: [Check] = [
        ("empty store has size 0 and no entries", emptyStore),
        ("appended entries read back byte for byte", roundTrip),
        ("a stale expected size is a conflict and writes nothing", staleConflict),
        ("a batch is all or nothing", batchAtomicity),
        ("a non-contiguous batch is refused", nonContiguous),
        ("a repeated leaf is refused", repeatedLeaf),
        ("entries by type come back in seq order", byType),
        ("leaf hashes come back in seq order", leafHashes),
        ("ranges past the end are clipped", clippedRanges),
        ("checkpoints are kept in size order", checkpoints),
        ("racing writers never fork or leave a gap", racingWriters),
    ]

    static func expect(_ condition: Bool, _ check: String, _ detail: @autoclosure () -> String) throws {
        try Conformance.expect(condition, check, detail())
    }

    static func expectError(_ code: LedgerError.Code, _ check: String, _ body: () async throws -> Void) async throws {
        try await Conformance.expectError(code, check, body)
    }

    /// `count` signed entries from a fresh ledger over an in-memory store: real envelopes.
    static func sampleEntries(_ count: Int) async throws -> [LogEntry] {
        let ledger = try await TestLogs.make(notes: max(0, count - 2))
        return Array(try await ledger.store.allEntries().prefix(count))
    }

    static func emptyStore(_ store: any EventStore) async throws {
        try expect(try await store.size() == 0, "empty", "size is not 0")
        try expect(try await store.entries(in: 0..<10).isEmpty, "empty", "entries of an empty store")
        try expect(try await store.leafHashes(upTo: 10).isEmpty, "empty", "leaf hashes of an empty store")
    }

    static func roundTrip(_ store: any EventStore) async throws {
        let entries = try await sampleEntries(6)
        try await store.append(Array(entries[0..<2]), expecting: 0)
        try await store.append(Array(entries[2...]), expecting: 2)
        try expect(try await store.size() == 6, "roundTrip", "size is not 6")
        let back = try await store.entries(in: 0..<6)
        try expect(back == entries, "roundTrip", "entries differ after a round trip")
    }

    static func staleConflict(_ store: any EventStore) async throws {
        let entries = try await sampleEntries(4)
        try await store.append(Array(entries[0..<2]), expecting: 0)
        try await expectError(.conflict, "staleConflict") {
            try await store.append([entries[0], entries[1]], expecting: 0)
        }
        try await expectError(.conflict, "staleConflict") {
            try await store.append([entries[3]], expecting: 3)
        }
        try expect(try await store.size() == 2, "staleConflict", "a conflicting append changed the size")
    }

    static func batchAtomicity(_ store: any EventStore) async throws {
        let entries = try await sampleEntries(5)
        try await store.append([entries[0]], expecting: 0)
        // The last entry of the batch repeats a leaf: the whole batch must be refused.
        var broken = entries[4]
        broken.leafHash = entries[0].leafHash
        broken.seq = 4
        do {
            try await store.append([entries[1], entries[2], entries[3], broken], expecting: 1)
            throw ConformanceFailure(check: "batchAtomicity", detail: "a batch with a repeated leaf was stored")
        } catch is LedgerError {}
        try expect(try await store.size() == 1, "batchAtomicity", "part of a refused batch was stored")
    }

    static func nonContiguous(_ store: any EventStore) async throws {
        let entries = try await sampleEntries(4)
        try await expectError(.invalidArgument, "nonContiguous") {
            try await store.append([entries[0], entries[2]], expecting: 0)
        }
        try await expectError(.invalidArgument, "nonContiguous") {
            try await store.append([entries[1]], expecting: 0)
        }
        try expect(try await store.size() == 0, "nonContiguous", "a refused batch changed the size")
    }

    static func repeatedLeaf(_ store: any EventStore) async throws {
        let entries = try await sampleEntries(2)
        try await store.append([entries[0]], expecting: 0)
        var replay = entries[0]
        replay.seq = 1
        do {
            try await store.append([replay], expecting: 1)
            throw ConformanceFailure(check: "repeatedLeaf", detail: "the same leaf was stored twice")
        } catch is LedgerError {}
        try expect(try await store.size() == 1, "repeatedLeaf", "a replayed leaf changed the size")
    }

    static func byType(_ store: any EventStore) async throws {
        let entries = try await sampleEntries(6)
        try await store.append(entries, expecting: 0)
        let notes = try await store.events(ofTypes: ["note.added"]).map(\.event.seq)
        try expect(notes == [2, 3, 4, 5], "byType", "note.added seqs are \(notes)")
        let authority = try await store.events(ofTypes: ["ledger.created", "key.added"]).map(\.event.seq)
        try expect(authority == [0, 1], "byType", "authority seqs are \(authority)")
    }

    static func leafHashes(_ store: any EventStore) async throws {
        let entries = try await sampleEntries(5)
        try await store.append(entries, expecting: 0)
        try expect(
            try await store.leafHashes(upTo: 3) == entries.prefix(3).map(\.leafHash),
            "leafHashes",
            "prefix differs"
        )
        try expect(try await store.leafHashes(upTo: 99) == entries.map(\.leafHash), "leafHashes", "all differ")
    }

    static func clippedRanges(_ store: any EventStore) async throws {
        let entries = try await sampleEntries(3)
        try await store.append(entries, expecting: 0)
        try expect(try await store.entries(in: 2..<50).map(\.seq) == [2], "clipped", "range 2..<50")
        try expect(try await store.entries(in: 7..<9).isEmpty, "clipped", "range past the end")
    }

    static func checkpoints(_ store: any EventStore) async throws {
        try await store.keepCheckpoint("b\n", size: 9)
        try await store.keepCheckpoint("a\n", size: 3)
        try await store.keepCheckpoint("c\n", size: 9)
        let kept = try await store.checkpoints()
        try expect(kept.map(\.size) == [3, 9], "checkpoints", "sizes \(kept.map(\.size))")
        try expect(kept.last?.note == "b\n", "checkpoints", "a second checkpoint of one size replaced the first")
    }

    static func racingWriters(_ store: any EventStore) async throws {
        let base = try await sampleEntries(2)
        try await store.append(base, expecting: 0)
        // Two ledgers over the same store append concurrently; each retries on conflict.
        let first = try await Ledger.open(store: store, clock: SteppingClock())
        let second = try await Ledger.open(store: store, clock: SteppingClock())
        async let a: Void = {
            for index in 0..<40 { try await first.append([TestLogs.note("a\(index)")], signedBy: TestKeys.pipeline) }
        }()
        async let b: Void = {
            for index in 0..<40 { try await second.append([TestLogs.note("b\(index)")], signedBy: TestKeys.pipeline) }
        }()
        _ = try await (a, b)
        let leaves = try await store.allEntries().map(\.leaf)
        try expect(leaves.count == 82, "racingWriters", "expected 82 entries, found \(leaves.count)")
        let report = Verifier().verify(leaves: leaves)
        try expect(
            report.isVerified,
            "racingWriters",
            "the raced log does not verify: \(report.failure?.description ?? "")"
        )
    }
}
