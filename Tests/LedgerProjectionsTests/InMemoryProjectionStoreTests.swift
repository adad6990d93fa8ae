import LedgerProjections
import LedgerStore
import LedgerTesting
import Testing

/// The in-memory read tables against the conformance suite that the SQLite and PostgreSQL stores pass.
@Suite("InMemoryProjectionStore")
struct InMemoryProjectionStoreTests {
    @Test("conformance", arguments: ProjectionStoreConformance.checks.map(\.name))
    func conformance(check: String) async throws {
        let body = try #require(ProjectionStoreConformance.checks.first { $0.name == check }?.body)
        try await body((InMemoryEventStore(), InMemoryProjectionStore()))
    }
}
