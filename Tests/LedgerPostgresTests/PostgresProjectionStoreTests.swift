import LedgerCore
import LedgerPostgres
import LedgerProjections
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

/// The PostgreSQL read tables against the conformance suite that the in-memory and SQLite stores pass.
@Suite("PostgresProjectionStore", .enabled(if: TestServices.postgresEnabled))
struct PostgresProjectionStoreTests {
    @Test("conformance", arguments: ProjectionStoreConformance.checks.map(\.name))
    func conformance(check: String) async throws {
        let body = try #require(ProjectionStoreConformance.checks.first { $0.name == check }?.body)
        let url = try TestServices.freshPostgresURL()
        let log = try await PostgresEventStore.open(url, create: true)
        let tables = try await PostgresProjectionStore.open(beside: log)
        do {
            try await body((log, tables))
        } catch {
            try? await RawSQL(url).dropSchema()
            throw error
        }
        try await RawSQL(url).dropSchema()
    }
}
