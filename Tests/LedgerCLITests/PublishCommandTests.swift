import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import LedgerTransparency
import Testing

/// Appends `count` note.added events in one atomic batch, signed by the workspace's admin key.
func appendNotes(_ workspace: TestWorkspace, count: Int, from first: Int = 0) async throws {
    let lines = (first..<(first + count)).map { #"{"type":"note.added","data":{"text":"note \#($0)"}}"# }
    let batch = try workspace.folder.write(lines.joined(separator: "\n") + "\n", to: "batch-\(first).jsonl")
    let result = await workspace.run("append", "--batch", batch, "--atomic", "--key", workspace.adminKey)
    try #require(result.status == 0, "append failed: \(result.err)")
}

/// Every regular file under `folder` with its bytes, hidden files left out.
func publishedFiles(_ folder: String) throws -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    let enumerator = FileManager.default.enumerator(atPath: folder)
    while let path = enumerator?.nextObject() as? String {
        guard !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { continue }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isFolder), !isFolder.boolValue {
            files[path] = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + path)))
        }
    }
    return files
}

@Suite struct PublishCommandTests {
    @Test func publishesTilesWhoseEntriesAreTheExportedLeavesThenOnlyNewOnes() async throws {
        let workspace = try await TestWorkspace.make(logID: "test.example/publish")
        try await appendNotes(workspace, count: 300)
        let out = workspace.folder.path("public")

        // No checkpoint yet: refused, with the way out.
        let refused = await workspace.run("publish", "--out", out)
        #expect(refused.status == 1)
        #expect(refused.err.contains("run `ledger checkpoint` first"))
        #expect(!FileManager.default.fileExists(atPath: out + "/checkpoint"))

        let checkpoint = await workspace.run("checkpoint", "--json")
        try #require(checkpoint.status == 0, "\(checkpoint.err)")
        let size = try #require(checkpoint.json?["size"]?.integerValue)
        let published = await workspace.run("publish", "--out", out, "--json")
        try #require(published.status == 0, "\(published.err)")
        let json = try #require(published.json)
        #expect(json["size"]?.integerValue == size)
        #expect(json["root"] == checkpoint.json?["root"])
        #expect(json["previousSize"] == .null)
        #expect(json["checkpointWritten"] == .bool(true))

        // The checkpoint file is the kept note, byte for byte; the tiles hash to its root; the bundles hold exactly
        // the lines of `ledger export`.
        let files = try publishedFiles(out)
        #expect(
            files["checkpoint"].map { String(decoding: $0, as: UTF8.self) } == checkpoint.json?["note"]?.stringValue
        )
        let rootHex = try #require(checkpoint.json?["root"]?.stringValue)
        let root = try #require(Hash256(hex: rootHex))
        var tree = try await TiledTree.open(source: FolderTileSource(folder: out), size: UInt64(size), root: root)
        var bundled: [[UInt8]] = []
        for index in 0...(UInt64(size) - 1) / 256 { bundled += try await tree.entries(bundle: index) }
        let export = await workspace.run("export")
        let exported = export.out.split(separator: "\n", omittingEmptySubsequences: true).map { Array($0.utf8) }
        #expect(bundled == exported)
        #expect(json["tilesWritten"]?.integerValue == Int64(TileLayout.hashTiles(treeSize: UInt64(size)).count))

        // Nothing new: nothing written. Then more entries and a new checkpoint: only the new tiles.
        let again = await workspace.run("publish", "--out", out, "--json")
        #expect(again.json?["tilesWritten"]?.integerValue == 0)
        #expect(again.json?["checkpointWritten"] == .bool(false))
        try await appendNotes(workspace, count: 40, from: 300)
        #expect(await workspace.run("checkpoint").status == 0)
        let grown = await workspace.run("publish", "--out", out)
        #expect(grown.status == 0, "\(grown.err)")
        #expect(grown.out.contains("(was \(size))"))
        let after = try publishedFiles(out)
        for (path, bytes) in files where path != "checkpoint" { #expect(after[path] == bytes, "\(path) changed") }
        let newPaths = Set(after.keys).subtracting(files.keys).sorted()
        let newSize = UInt64(size) + 40
        let lastBundle = try #require(TileLayout.entryBundle(index: (newSize - 1) / 256, treeSize: newSize))
        let expected = TileLayout.partialTiles(treeSize: newSize).map(\.description) + [lastBundle.description]
        #expect(newPaths == expected.filter { files[$0] == nil }.sorted())
    }

    @Test func helpTeachesWhatIsWrittenAndHowToServeIt() async {
        let help = await ledger("publish", "--help")
        #expect(help.status == 0)
        for phrase in [
            "tile/<L>/<N>[.p/<W>]", "tile/entries/<N>[.p/<W>]", "python3 -m http.server", "ledger checkpoint",
            "65,535 bytes", "never rewritten",
        ] {
            #expect(help.out.contains(phrase), "\(phrase)")
        }
        #expect(await ledger("publish").status == 2)
    }
}
