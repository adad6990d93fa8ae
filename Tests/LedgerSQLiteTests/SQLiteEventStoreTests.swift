import Foundation
import GRDB
import LedgerCore
import LedgerSQLite
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

/// A fresh temporary database per test, in the test process's scratch folder.
func temporaryDatabasePath() -> String {
    TestScratch.path("ledger", suffix: ".db")
}

@Suite("SQLiteEventStore")
struct SQLiteEventStoreTests {
    @Test("conformance", arguments: EventStoreConformance.checks.map(\.name))
    func conformance(check: String) async throws {
        let body = try #require(EventStoreConformance.checks.first { $0.name == check }?.body)
        try await body(try SQLiteEventStore(path: temporaryDatabasePath(), create: true))
    }

    @Test("the database itself refuses UPDATE, DELETE and out-of-order inserts")
    func appendOnlyTriggers() async throws {
        let path = temporaryDatabasePath()
        let store = try SQLiteEventStore(path: path, create: true)
        _ = try await TestLogs.make(store: store, notes: 2)
        try await store.keepCheckpoint("cp\n", size: 4)
        let queue = try DatabaseQueue(path: path)
        for sql in [
            "UPDATE entries SET type = 'x' WHERE seq = 1",
            "DELETE FROM entries WHERE seq = 3",
            "DELETE FROM entries",
            "INSERT INTO entries (seq, leaf_hash, envelope, type, time, actor) VALUES (9, zeroblob(32), 'x', 't', '2026-03-03T09:00:00.000Z', printf('%064d', 0))",
            "UPDATE checkpoints SET note = 'x'",
            "DELETE FROM ledger_schema",
        ] {
            #expect(throws: DatabaseError.self, "\(sql)") { try queue.write { try $0.execute(sql: sql) } }
        }
        #expect(try await store.size() == 4)
        #expect(Verifier().verify(leaves: try await store.allEntries().map(\.leaf)).isVerified)
    }

    @Test("WAL and synchronous=FULL are in force on the store's own connections")
    func durabilitySettings() async throws {
        let store = try SQLiteEventStore(path: temporaryDatabasePath(), create: true)
        #expect(try await store.pragma("journal_mode") == "wal")
        #expect(try await store.pragma("synchronous") == "2", "2 is FULL")
    }

    @Test("a streamed batch whose producer fails stores nothing, and a streamed conflict consumes nothing")
    func streamedAtomicity() async throws {
        let store = try SQLiteEventStore(path: temporaryDatabasePath(), create: true)
        let ledger = try await TestLogs.make(store: store, notes: 0)
        let entries = try await store.allEntries()
        let before = try await store.size()
        let samples = try await SQLiteEventStoreTests.moreEntries(after: ledger, count: 300)
        let stream = EntryStream(capacity: 16, handOff: 4)
        let producer = Thread {
            for entry in samples.prefix(200) { stream.send(entry) }
            stream.finish(throwing: LedgerError(.schema, "refused half way"))
        }
        producer.start()
        let error = await #expect(throws: LedgerError.self) { try await store.append(from: stream, expecting: before) }
        #expect(error?.code == .schema)
        #expect(try await store.size() == before)
        let stale = EntryStream()
        stale.finish()
        let conflict = await #expect(throws: LedgerError.self) { try await store.append(from: stale, expecting: 0) }
        #expect(conflict?.code == .conflict)
        #expect(try await store.allEntries() == entries)
    }

    /// Signed entries that would follow `ledger`'s head, without appending them.
    static func moreEntries(after ledger: Ledger, count: Int) async throws -> [LogEntry] {
        let scratch = InMemoryEventStore()
        try await scratch.append(try await ledger.store.allEntries(), expecting: 0)
        let copy = try await Ledger.open(store: scratch, clock: SteppingClock())
        let start = await scratch.size()
        try await copy.append((0..<count).map { TestLogs.note("more \($0)") }, signedBy: TestKeys.pipeline)
        return await scratch.entries(in: start..<(start + UInt64(count)))
    }

    @Test("a newer schema version is refused at open")
    func newerSchema() throws {
        let path = temporaryDatabasePath()
        _ = try SQLiteEventStore(path: path, create: true)
        try DatabaseQueue(path: path).write { try $0.execute(sql: "UPDATE ledger_schema SET version = 99") }
        let error = #expect(throws: LedgerError.self) { try SQLiteEventStore(path: path) }
        #expect(error?.reason.contains("99") == true)
    }

    @Test("a missing file and a foreign database are refused, and nothing is created")
    func notALog() throws {
        let missing = temporaryDatabasePath()
        #expect(throws: LedgerError.self) { try SQLiteEventStore(path: missing) }
        #expect(!FileManager.default.fileExists(atPath: missing))
        let foreign = temporaryDatabasePath()
        try DatabaseQueue(path: foreign).write { try $0.execute(sql: "CREATE TABLE users (id INTEGER)") }
        let error = #expect(throws: LedgerError.self) { try SQLiteEventStore(path: foreign) }
        #expect(error?.reason.contains("not a ModelLedger log") == true)
    }

    @Test("two store instances on one file race without forking")
    func twoConnections() async throws {
        let path = temporaryDatabasePath()
        let ledger = try await TestLogs.make(store: try SQLiteEventStore(path: path, create: true), notes: 0)
        let other = try await Ledger.open(store: try SQLiteEventStore(path: path), clock: SteppingClock())
        async let a: Void = {
            for index in 0..<50 { try await ledger.append([TestLogs.note("a\(index)")], signedBy: TestKeys.pipeline) }
        }()
        async let b: Void = {
            for index in 0..<50 { try await other.append([TestLogs.note("b\(index)")], signedBy: TestKeys.admin) }
        }()
        _ = try await (a, b)
        let leaves = try await SQLiteEventStore(path: path).allEntries().map(\.leaf)
        #expect(leaves.count == 102)
        #expect(Verifier().verify(leaves: leaves).isVerified)
    }
}
