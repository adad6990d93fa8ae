import Foundation
import Hummingbird
import HummingbirdTesting
import LedgerCore
import LedgerSQLite
import LedgerService
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

/// A server-side integrity failure is no fault of the client: `ledger serve` answers it 503 with the reason, never
/// 400 (Issue 16 review).
@Suite("ledger serve: integrity failures")
struct IntegrityStatusTests {
    static let sqlite = "/usr/bin/sqlite3"

    @Test(
        "an append after entries were deleted under the server is 503 chain.checkpoint naming the deletion",
        .enabled(if: FileManager.default.isExecutableFile(atPath: sqlite), "needs the sqlite3 command")
    )
    func deletedTailIsServiceUnavailable() async throws {
        let fixture = try await ServiceFixture.make()
        let writer = try await fixture.writer()
        try await writer.append(
            [EventDraft(type: "note.added", data: ["text": "soon deleted"])],
            signedBy: TestKeys.admin
        )
        let server = try await fixture.server()
        let approval = try await ServiceFixture.fields(2, on: writer).merging(["reason": "offline review"]) { $1 }
        let envelope = try #require(
            try await writer.sign(
                [EventDraft(type: "model.approved", data: .object(approval))],
                signedBy: ServiceFixture.approver
            )
            .first
        ).envelope
        let size = try await fixture.store.size()
        // Another process deletes the last entry behind the server's back.
        let delete = Process()
        delete.executableURL = URL(fileURLWithPath: Self.sqlite)
        delete.arguments = [
            fixture.folder.appendingPathComponent("ledger.db").path,
            "DROP TRIGGER entries_no_delete; DELETE FROM entries WHERE seq >= \(size - 1);",
        ]
        try delete.run()
        delete.waitUntilExit()
        try #require(delete.terminationStatus == 0)
        try #require(try await fixture.store.size() == size - 1)

        try await ServiceTests.withServer(server) { client in
            try await client.execute(
                uri: "/v1/events",
                method: .post,
                body: ByteBuffer(bytes: envelope.canonicalBytes())
            ) { response in
                #expect(response.status == .serviceUnavailable, "\(response.json ?? .null)")
                #expect(response.json?["error"]?["code"]?.stringValue == "chain.checkpoint")
                #expect(response.json?["error"]?["message"]?.stringValue?.contains("deleted") == true)
            }
        }
    }
    @Test("an integer parameter has one spelling: a leading zero or -0 is 400; values are percent-decoded, names not")
    func integersHaveOneSpelling() async throws {
        let fixture = try await ServiceFixture.make()
        let server = try await fixture.server()
        try await ServiceTests.withServer(server) { client in
            for uri in [
                "/v1/proof/inclusion?seq=-0&size=3", "/v1/proof/inclusion?seq=1&size=0021",
                "/v1/proof/inclusion?seq=00&size=3", "/v1/events?after=-0", "/v1/events?limit=010",
                "/v1/drift?last=01", "/v1/registry/access-anomaly/01", "/v1/proof/inclusion?s%65q=1&size=3",
            ] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .badRequest, "\(uri): \(response.json ?? .null)")
                    #expect(response.json?["error"]?["code"] == "argument.invalid", "\(uri)")
                }
            }
            for uri in [
                "/v1/proof/inclusion?seq=0&size=1", "/v1/proof/inclusion?seq=%31&size=3", "/v1/events?after=-1",
                "/v1/events?limit=10", "/v1/registry/access-anomaly/1",
            ] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok, "\(uri): \(response.json ?? .null)")
                }
            }
        }
    }
}
