import Foundation
import LedgerCore
import LedgerPostgres
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import PostgresNIO
import Testing

/// The PostgreSQL log against the same conformance suite as the SQLite and in-memory stores, plus what only a
/// shared server can show: the database refusing raw SQL, writers in separate connections racing, and `NOTIFY`.
@Suite("PostgresEventStore", .enabled(if: TestServices.postgresEnabled))
struct PostgresEventStoreTests {
    @Test("conformance", arguments: EventStoreConformance.checks.map(\.name))
    func conformance(check: String) async throws {
        let body = try #require(EventStoreConformance.checks.first { $0.name == check }?.body)
        try await body(try await PostgresEventStore.open(try TestServices.freshPostgresURL(), create: true))
    }

    @Test("the database itself refuses UPDATE, DELETE, TRUNCATE and out-of-order inserts")
    func appendOnlyInTheDatabase() async throws {
        let url = try TestServices.freshPostgresURL()
        let store = try await PostgresEventStore.open(url, create: true)
        _ = try await TestLogs.make(store: store, notes: 2)
        try await store.keepCheckpoint("cp\n", size: 4)
        let raw = try await RawSQL(url)
        for sql in [
            "UPDATE entries SET type = 'x' WHERE seq = 1",
            "DELETE FROM entries WHERE seq = 3",
            "DELETE FROM entries",
            "TRUNCATE entries",
            "INSERT INTO entries (seq, leaf_hash, envelope, type, time, actor) VALUES (9, decode(repeat('00', 32), 'hex'), 'x', 't', '2026-03-03T09:00:00.000Z', repeat('0', 64))",
            "INSERT INTO entries (seq, leaf_hash, envelope, type, time, actor) VALUES (4, decode(repeat('00', 32), 'hex'), 'x', 't', 'bad', repeat('0', 64))",
            "UPDATE checkpoints SET note = 'x'",
            "DELETE FROM checkpoints",
            "TRUNCATE checkpoints",
            "DELETE FROM ledger_schema",
        ] {
            await #expect(throws: (any Error).self, "\(sql)") { try await raw.execute(sql) }
        }
        #expect(try await store.size() == 4)
        #expect(Verifier().verify(leaves: try await store.allEntries().map(\.leaf)).isVerified)
        try await raw.dropSchema()
    }

    @Test("opening a missing log without create is refused; a second open finds it")
    func openRules() async throws {
        let url = try TestServices.freshPostgresURL()
        await #expect(throws: LedgerError.self) { _ = try await PostgresEventStore.open(url) }
        let store = try await PostgresEventStore.open(url, create: true)
        _ = try await TestLogs.make(store: store, notes: 1)
        let again = try await PostgresEventStore.open(url)
        #expect(try await again.size() == 3)
        try await RawSQL(url).dropSchema()
    }

    @Test("a wrong password and a stopped port give errors that name the server and never the password")
    func clearConnectionErrors() async throws {
        let base = try #require(TestServices.postgresURL)
        let wrong = base.replacingOccurrences(of: "ledger-test@", with: "not-the-password@")
        do {
            _ = try await PostgresEventStore.open(wrong, create: true)
            Issue.record("a wrong password was accepted")
        } catch {
            #expect(error.code == .storage)
            #expect(error.reason.contains("refused the login"), "\(error)")
            #expect(!error.reason.contains("not-the-password"))
        }
        do {
            _ = try await PostgresEventStore.open("postgres://ledger:secret-pw@127.0.0.1:9/ledger", create: true)
            Issue.record("a closed port was accepted")
        } catch {
            #expect(error.code == .storage)
            #expect(
                error.reason.contains("cannot connect to PostgreSQL at postgres://ledger@127.0.0.1:9/ledger"),
                "\(error)"
            )
            #expect(!error.reason.contains("secret-pw"))
        }
    }

    @Test("ledgers in separate connections racing on one log never fork it or leave a gap")
    func racingLedgers() async throws {
        let url = try TestServices.freshPostgresURL()
        let first = try await PostgresEventStore.open(url, create: true)
        _ = try await TestLogs.make(store: first, notes: 0)
        let writers = 4
        let perWriter = 25
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    let store = try await PostgresEventStore.open(url)
                    let ledger = try await Ledger.open(store: store, clock: SteppingClock())
                    for index in 0..<perWriter {
                        try await ledger.append([TestLogs.note("w\(writer) n\(index)")], signedBy: TestKeys.pipeline)
                    }
                }
            }
            try await group.waitForAll()
        }
        let entries = try await first.allEntries()
        #expect(entries.count == 2 + writers * perWriter)
        #expect(entries.map(\.seq) == Array(0..<UInt64(entries.count)))
        #expect(Verifier().verify(leaves: entries.map(\.leaf)).isVerified)
        try await RawSQL(url).dropSchema()
    }

    @Test("a follower is woken by NOTIFY when another connection appends")
    func notifications() async throws {
        let url = try TestServices.freshPostgresURL()
        let store = try await PostgresEventStore.open(url, create: true)
        let follower = try await PostgresEventStore.open(url)
        var signals = follower.appendSignals().makeAsyncIterator()
        _ = await signals.next()  // the first signal says the listener is in place
        #expect(try await follower.size() == 0)
        _ = try await TestLogs.make(store: store, notes: 0)
        // Timed from the commit, not from before the append: under a loaded CI machine the append itself can take
        // seconds. The follower never polls, so only the notification can wake it.
        let committed = ContinuousClock.now
        _ = await signals.next()
        #expect(ContinuousClock.now - committed < .seconds(10))
        #expect(try await follower.size() == store.size())
        try await RawSQL(url).dropSchema()
    }
}
