import Foundation
import LedgerCore
import Testing

@Suite("Datasets")
struct DatasetTests {
    @Test("demo → extract → dataset build: artifacts by digest, dataset.built appended, byte-identical rebuilds")
    func pipeline() async throws {
        let workspace = try await TestWorkspace.make()
        let (_, extract) = try await workspace.extractDemo()
        let seq = try #require(extract["seq"]?.integerValue)

        let built = await workspace.run("dataset", "build", "--extract", String(seq), "--json")
        try #require(built.status == 0, "\(built.err)")
        let json = try #require(built.json)
        for key in ["datasetDigest", "manifestDigest"] {
            let digest = try #require(json[key]?.stringValue)
            let hex = String(digest.dropFirst("sha256:".count))
            let bytes = try await workspace.artifact(hex)
            #expect(Hash256.sha256(bytes).hex == hex, "\(key) is the SHA-256 of the stored artifact")
        }
        let datasetHex = String(try #require(json["datasetDigest"]?.stringValue).dropFirst(7))
        let csv = String(decoding: try await workspace.artifact(datasetHex), as: UTF8.self)
        #expect(csv.hasPrefix("holdout,event_count,"))

        let log = await workspace.run("log", "--type", "dataset.built", "--json")
        let event = try #require(log.json?.arrayValue?.first)
        #expect(event["data"]?["dataset"]?["sha256"]?.stringValue == datasetHex)
        #expect(event["data"]?["extract"]?["seq"]?.integerValue == seq)

        let again = await workspace.run("dataset", "build", "--extract", String(seq), "--json")
        #expect(again.json?["datasetDigest"] == json["datasetDigest"], "the same snapshot gives the same dataset")
        let wrong = await workspace.run("dataset", "build", "--extract", "0")
        #expect(wrong.status == 1, "seq 0 is not a data.extracted event")
        #expect(await workspace.run("verify").status == 0)
        try await IndependentPeerTests.expectPeerAccepts(workspace)
    }

    @Test(
        "a snapshot modified in the artifact folder is refused by digest, and nothing is appended",
        .embeddedFilesOnly("flips a bit of a file in the artifact folder")
    )
    func modifiedSnapshot() async throws {
        let workspace = try await TestWorkspace.make()
        let (_, extract) = try await workspace.extractDemo()
        let seq = try #require(extract["seq"]?.integerValue)
        let snapshotHex = String(try #require(extract["snapshotDigest"]?.stringValue).dropFirst(7))
        let snapshotPath = "\(workspace.root)/artifacts/sha256/\(snapshotHex.prefix(2))/\(snapshotHex)"
        var snapshot = try Data(contentsOf: URL(fileURLWithPath: snapshotPath))
        snapshot[snapshot.count / 2] ^= 0x01
        try snapshot.write(to: URL(fileURLWithPath: snapshotPath))
        let before = try await workspace.size()
        let damaged = await workspace.run("dataset", "build", "--extract", String(seq))
        #expect(damaged.status == 1)
        #expect(damaged.err.contains(snapshotHex), "the error names the damaged artifact: \(damaged.err)")
        #expect(try await workspace.size() == before)
    }
}
