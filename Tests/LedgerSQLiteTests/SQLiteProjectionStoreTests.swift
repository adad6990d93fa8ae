import LedgerProjections
import LedgerSQLite
import LedgerTestSupport
import LedgerTesting
import Testing

/// The SQLite read tables against the conformance suite that the in-memory and PostgreSQL stores pass, each check
/// with a log and a projections file of its own.
@Suite("SQLiteProjectionStore")
struct SQLiteProjectionStoreTests {
    @Test("conformance", arguments: ProjectionStoreConformance.checks.map(\.name))
    func conformance(check: String) async throws {
        let body = try #require(ProjectionStoreConformance.checks.first { $0.name == check }?.body)
        let folder = try TemporaryFolder("projections")
        let log = try SQLiteEventStore(path: folder.path("ledger.db"), create: true)
        let tables = try SQLiteProjectionStore(path: folder.path("ledger.projections.db"))
        try await body((log, tables))
        withExtendedLifetime(folder) {}
    }
}
