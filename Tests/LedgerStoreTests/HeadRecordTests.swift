import Foundation
import LedgerCore
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

@Suite("The head record: a shorter log is never opened for appends")
struct HeadRecordTests {
    /// A copy of the first `count` entries of `source`, in a new in-memory store: the same log, its tail deleted.
    static func prefix(_ count: UInt64, of source: any EventStore) async throws -> InMemoryEventStore {
        let copy = InMemoryEventStore()
        try await copy.append(try await source.entries(in: 0..<count), expecting: 0)
        return copy
    }

    @Test("the record round-trips, and its root is the root of its frontier")
    func roundTrip() async throws {
        let folder = try TemporaryFolder("head-record")
        let file = HeadRecordFile(path: folder.path("ledger.head"))
        let ledger = try await TestLogs.make(notes: 6)
        let reopened = try await Ledger.open(store: ledger.store, clock: SteppingClock(), headRecord: file)
        // No record and no kept checkpoint: a warning, and nothing written until the next append, so that a read
        // never vouches for a log whose tail may have gone with the record.
        #expect(reopened.openWarnings.count == 1)
        #expect(try file.load() == nil)

        try await reopened.append([TestLogs.note("one more")], signedBy: TestKeys.pipeline)
        let record = try #require(try file.load())
        let leaves = try await ledger.store.leaves(upTo: 99)
        #expect(record.size == UInt64(leaves.count))
        #expect(record.root == MerkleTree.root(of: leaves.map { MerkleTree.leafHash($0) }))
        #expect(record.lastLeafHash == MerkleTree.leafHash(try #require(leaves.last)))
        #expect(try HeadRecord(decoding: record.encoded()) == record)

        try await reopened.append([TestLogs.note("two more")], signedBy: TestKeys.pipeline)
        try await reopened.append([TestLogs.note("two"), TestLogs.note("three")], signedBy: TestKeys.pipeline)
        let updated = try #require(try file.load())
        let all = try await ledger.store.leaves(upTo: 99)
        #expect(updated.size == UInt64(all.count))
        #expect(updated.root == MerkleTree.root(of: all.map { MerkleTree.leafHash($0) }))
    }

    @Test("an edited record is refused: bit flips in every byte of the root, a frontier of the wrong shape")
    func editedRecord() async throws {
        let frontier = (0..<5).reduce(into: MerkleFrontier()) { $0.append(Hash256.sha256([UInt8($1)])) }
        let record = HeadRecord(logID: "test/log", frontier: frontier, lastLeafHash: Hash256.sha256([4]))
        let bytes = record.encoded()
        #expect(try HeadRecord(decoding: bytes) == record)
        for index in bytes.indices where bytes[index] != UInt8(ascii: "\n") {
            var flipped = bytes
            flipped[index] ^= 0x01
            if let decoded = try? HeadRecord(decoding: flipped) {
                // A flip that still parses must not keep the size and root (it changed the log id or last leaf).
                #expect(decoded.size != record.size || decoded.root != record.root || decoded != record)
            }
        }
        #expect(MerkleFrontier(size: 5, subtrees: [Hash256.sha256([1])]) == nil)
        #expect((try? HeadRecord(decoding: Array("{}".utf8))) == nil)
        #expect((try? HeadRecord(decoding: [])) == nil)
    }

    @Test("a log shorter than its record, or with another history, does not open; the record never moves back")
    func truncatedLog() async throws {
        let folder = try TemporaryFolder("head-record")
        let file = HeadRecordFile(path: folder.path("ledger.head"))
        let ledger = try await TestLogs.make(notes: 8)
        let opened = try await Ledger.open(store: ledger.store, clock: SteppingClock(), headRecord: file)
        try await opened.append([TestLogs.note("recorded")], signedBy: TestKeys.pipeline)
        let size = try await ledger.store.size()

        for kept in [UInt64(1), 5, size - 1] {
            let truncated = try await Self.prefix(kept, of: ledger.store)
            await #expect(throws: LedgerError.self) {
                _ = try await Ledger.open(store: truncated, clock: SteppingClock(), headRecord: file)
            }
            do {
                _ = try await Ledger.open(store: truncated, clock: SteppingClock(), headRecord: file)
            } catch {
                #expect(error.code == .checkpoint)
                #expect(error.reason.contains("\(kept)..<\(size)"), "\(error.reason)")
            }
        }
        // Another history of the same length: the same genesis, then different notes.
        let other = try await Self.prefix(2, of: ledger.store)
        let rewritten = try await Ledger.open(store: other, clock: SteppingClock())
        for index in 0..<Int(size - 2) {
            try await rewritten.append([TestLogs.note("other \(index)")], signedBy: TestKeys.pipeline)
        }
        await #expect(throws: LedgerError.self) {
            _ = try await Ledger.open(store: other, clock: SteppingClock(), headRecord: file)
        }
        // A smaller record is never written over a larger one.
        let before = try #require(try file.load())
        let small = try await Self.prefix(3, of: ledger.store)
        let smallFrontier = await small.leafHashes(upTo: 3).reduce(into: MerkleFrontier()) { $0.append($1) }
        try file.save(HeadRecord(logID: TestLogs.logID, frontier: smallFrontier, lastLeafHash: .zero))
        #expect(try file.load() == before)
    }

    @Test("a ledger whose log loses entries under it refuses to append instead of reusing their seqs")
    func shrinkUnderneath() async throws {
        let source = try await TestLogs.make(notes: 4)
        let store = ShrinkableStore(entries: try await source.store.entries(in: 0..<(try await source.store.size())))
        let ledger = try await Ledger.open(store: store, clock: SteppingClock())
        await store.dropTail(keeping: 3)
        await #expect(throws: LedgerError.self) {
            try await ledger.append([TestLogs.note("after")], signedBy: TestKeys.pipeline)
        }
        #expect(await store.size() == 3)
    }
}

/// A store whose tail can be deleted, as an edited database's can.
actor ShrinkableStore: EventStore {
    private var entries: [LogEntry] = []
    private var kept: [(size: UInt64, note: String)] = []

    init(entries: [LogEntry]) {
        self.entries = entries
    }

    func dropTail(keeping count: Int) { entries.removeLast(entries.count - count) }

    func size() -> UInt64 { UInt64(entries.count) }

    func append(_ batch: [LogEntry], expecting expectedSize: UInt64) throws(LedgerError) {
        guard expectedSize == UInt64(entries.count) else {
            throw LedgerError(.conflict, "expected \(expectedSize), have \(entries.count)")
        }
        entries += batch
    }

    func entries(in range: Range<UInt64>) -> [LogEntry] {
        let upper = min(Int(clamping: range.upperBound), entries.count)
        let lower = min(Int(clamping: range.lowerBound), upper)
        return Array(entries[lower..<upper])
    }

    func leaves(upTo size: UInt64) -> [[UInt8]] { entries.prefix(Int(clamping: size)).map(\.leaf) }

    func leafHashes(upTo size: UInt64) -> [Hash256] { entries.prefix(Int(clamping: size)).map(\.leafHash) }

    func keepCheckpoint(_ note: String, size: UInt64) { kept.append((size, note)) }

    func checkpoints() -> [(size: UInt64, note: String)] { kept }
}
