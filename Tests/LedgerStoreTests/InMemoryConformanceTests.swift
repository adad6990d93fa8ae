import LedgerStore
import LedgerTesting
import Testing

@Suite("InMemoryEventStore conformance")
struct InMemoryConformanceTests {
    @Test("conformance", arguments: EventStoreConformance.checks.map(\.name))
    func conformance(check: String) async throws {
        let body = try #require(EventStoreConformance.checks.first { $0.name == check }?.body)
        try await body(InMemoryEventStore())
    }
}
