import LedgerArtifacts
import LedgerTestSupport
import LedgerTesting
import Testing

@Suite("ArtifactStore conformance")
struct ArtifactStoreConformanceTests {
    static func check(named name: String) throws -> ArtifactStoreConformance.Check {
        try #require(ArtifactStoreConformance.checks.first { $0.name == name })
    }

    @Test("InMemoryArtifactStore", arguments: ArtifactStoreConformance.checks.map(\.name))
    func inMemory(check name: String) async throws {
        try await Self.check(named: name).body(InMemoryArtifactStore())
    }

    @Test("FileArtifactStore", arguments: ArtifactStoreConformance.checks.map(\.name))
    func file(check name: String) async throws {
        let check = try Self.check(named: name)
        try await withTemporaryFolder { root in
            try await check.body(try FileArtifactStore(root: root + "/artifacts"))
            // Whatever a check did, no temporary file may be left behind.
            #expect(try filesUnder(root).allSatisfy { !$0.contains("/.tmp-") })
        }
    }
}
