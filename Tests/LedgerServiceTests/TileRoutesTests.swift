import Foundation
import Hummingbird
import HummingbirdTesting
import LedgerCore
import LedgerService
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import LedgerTransparency
import Testing

/// `ledger serve` answers the tlog-tiles paths with exactly the bytes `ledger publish` writes for the same log.
@Suite("ledger serve: tlog-tiles")
struct TileRoutesTests {
    @Test("every published file is served with the same bytes, content type and cache header")
    func servesWhatPublishWrites() async throws {
        let fixture = try await ServiceFixture.make()
        let writer = try await fixture.writer()
        for index in 0..<300 { try await writer.append([TestLogs.note("tile \(index)")], signedBy: TestKeys.pipeline) }
        let kept = try await LogProofs.checkpoint(store: fixture.store, state: await writer.state, signer: TestKeys.log)
        let note = try #require(kept["note"]?.stringValue)
        let size = try #require(kept["size"]?.integerValue)
        #expect(size > 300)
        let folder = try TestScratch.folder("served-tiles")
        _ = try await TilePublisher(folder: folder).publish(store: fixture.store, checkpoint: note)
        var published: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder)
        while let path = enumerator?.nextObject() as? String {
            var isFolder: ObjCBool = false
            guard !path.hasPrefix("."),
                FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isFolder),
                !isFolder.boolValue
            else { continue }
            published[path] = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + path)))
        }
        #expect(published.keys.contains("tile/0/000") && published.keys.contains("tile/1/000.p/1"))

        let files = published
        let server = try await fixture.server()
        let app = Application(router: server.router())
        try await app.test(.router) { client in
            for (path, bytes) in files.sorted(by: { $0.key < $1.key }) {
                try await client.execute(uri: "/" + path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(Array(response.body.readableBytesView) == bytes, "\(path) differs from the published file")
                    if path == "checkpoint" {
                        #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
                        #expect(response.headers[.cacheControl] == "max-age=5")
                    } else {
                        #expect(response.headers[.contentType] == "application/octet-stream")
                        #expect(response.headers[.cacheControl] == "public, max-age=31536000, immutable")
                    }
                }
            }
            // Beyond the log, malformed, and a level no 64-bit tree reaches.
            for (uri, status) in [
                ("/tile/0/x999/999", HTTPResponse.Status.notFound), ("/tile/entries/002", .notFound),
                ("/tile/0/1234", .badRequest), ("/tile/entries/000.p/0", .badRequest), ("/tile/08/000", .badRequest),
                ("/tile/9/000.p/1", .notFound), ("/tile/0/000.p/1?x=1", .badRequest),
            ] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == status, "\(uri)")
                }
            }
        }
    }

    @Test("no kept checkpoint: /checkpoint is 404 and says how to make one")
    func noCheckpointYet() async throws {
        let fixture = try await ServiceFixture.make()
        let server = try await fixture.server()
        let app = Application(router: server.router())
        try await app.test(.router) { client in
            try await client.execute(uri: "/checkpoint", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("ledger checkpoint"))
            }
        }
    }
}
