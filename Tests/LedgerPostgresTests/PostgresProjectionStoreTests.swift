import LedgerCore
import LedgerPostgres
import LedgerProjections
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

@Suite("PostgresProjectionStore", .enabled(if: TestServices.postgresEnabled))
struct PostgresProjectionStoreTests {
    @Test(
        "the PostgreSQL read tables, saved after every append and loaded back, equal a rebuild",
        arguments: [11, 12] as [UInt64]
    )
    func roundTrip(seed: UInt64) async throws {
        let url = try TestServices.freshPostgresURL()
        let log = try await PostgresEventStore.open(url, create: true)
        let tables = try await PostgresProjectionStore.open(beside: log)
        let ledger = try await GovernanceSimulator.makeLedger(store: log)
        // As the CLI does: a follower keeps the projections in memory between appends and saves each batch's rows.
        let follower = ProjectionFollower(log: log, store: tables)
        await ledger.onAppend { batch in
            try? await follower.apply(batch)
        }
        var simulator = GovernanceSimulator(seed: seed)
        try await simulator.run(250, on: ledger)

        let saved = try #require(try await tables.load())
        let rebuilt = try await ProjectionUpdater.fold(log)
        #expect(saved.head == rebuilt.head)
        #expect(saved.differences(from: rebuilt) == [])

        // A rebuild writes the same rows the incremental saves did.
        try await ProjectionUpdater.rebuild(log: log, into: tables)
        #expect(try #require(try await tables.load()).differences(from: rebuilt) == [])

        // A save from a stale head is refused and changes nothing.
        await #expect(throws: LedgerError.self) {
            try await tables.save(Projections(), changes: .all, replacing: .some(nil))
        }
        #expect(try #require(try await tables.load()).differences(from: rebuilt) == [])
        try await RawSQL(url).dropSchema()
    }
}
