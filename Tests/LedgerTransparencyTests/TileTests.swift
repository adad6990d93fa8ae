import Foundation
import LedgerCore
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import LedgerTransparency
import Testing

/// Leaves `0..<count`: distinct bytes of varying length, so that a swapped or shifted leaf changes every hash.
private func syntheticLeaves(_ range: Range<Int>) -> [[UInt8]] {
    range.map { index in Array("leaf \(index) ".utf8) + [UInt8](repeating: UInt8(index % 251), count: index % 7) }
}

private func syntheticEntries(_ range: Range<Int>) -> [LogEntry] {
    zip(range, syntheticLeaves(range)).map { index, leaf in
        LogEntry(
            seq: UInt64(index),
            leaf: leaf,
            leafHash: MerkleTree.leafHash(leaf),
            type: "note.added",
            time: Timestamp(millisecondsSinceEpoch: Int64(index)),
            actor: "test"
        )
    }
}

/// Every tile and bundle of a tree of `size` leaves, with partial tiles at each of `checkpoints` and at `size`,
/// computed with the builder: the files a publisher writes.
private func tileFiles(leaves: [[UInt8]], checkpoints: Set<Int> = []) throws -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    var builder = TileBuilder()
    var bundle: [[UInt8]] = []
    func partials() throws {
        for tile in builder.partialTiles { files[tile.path.description] = tile.bytes }
        if !bundle.isEmpty {
            let index = builder.size / 256
            files[TilePath.entries(index: index, width: bundle.count).description] = try EntryBundle.encode(
                bundle,
                firstSeq: index * 256
            )
        }
    }
    for (seq, leaf) in leaves.enumerated() {
        for tile in builder.append(MerkleTree.leafHash(leaf)) { files[tile.path.description] = tile.bytes }
        bundle.append(leaf)
        if bundle.count == 256 {
            files[TilePath.entries(index: UInt64(seq / 256)).description] = try EntryBundle.encode(
                bundle,
                firstSeq: UInt64(seq - 255)
            )
            bundle = []
        }
        if checkpoints.contains(seq + 1) { try partials() }
    }
    try partials()
    return files
}

@Suite struct TileLayoutTests {
    /// C2SP tlog-tiles, "Partial Tiles": "a tree of size 70,000 will be represented by 273 full level 0 tiles, one
    /// partial level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
    /// partial level 2 tile of width 1."
    @Test func theSpecsTreeOf70000() {
        let tiles = TileLayout.hashTiles(treeSize: 70_000)
        let full0 = tiles.filter { $0.level == 0 && $0.partialWidth == nil }
        #expect(full0.count == 273)
        #expect(full0.map(\.index) == Array(0..<273))
        #expect(tiles.filter { $0.level == 0 && $0.partialWidth != nil }.map(\.description) == ["tile/0/273.p/112"])
        #expect(tiles.filter { $0.level == 1 }.map(\.description) == ["tile/1/000", "tile/1/001.p/17"])
        #expect(tiles.filter { $0.level == 2 }.map(\.description) == ["tile/2/000.p/1"])
        #expect(tiles.count == 277)
        #expect(
            TileLayout.partialTiles(treeSize: 70_000).map(\.description) == [
                "tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1",
            ]
        )
    }

    /// "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1."
    @Test func theSpecsTreeOf256() {
        #expect(TileLayout.hashTiles(treeSize: 256).map(\.description) == ["tile/0/000", "tile/1/000.p/1"])
        #expect(TileLayout.hashTiles(treeSize: 0).isEmpty)
        #expect(TileLayout.hashTiles(treeSize: 1).map(\.description) == ["tile/0/000.p/1"])
        #expect(TileLayout.hashTile(level: 0, index: 1, treeSize: 256) == nil)
        #expect(TileLayout.entryBundle(index: 273, treeSize: 70_000)?.description == "tile/entries/273.p/112")
    }

    @Test func theLargestTreeHasEightLevels() {
        #expect(TileLayout.levels(treeSize: UInt64.max) == 0..<8)
        #expect(TileLayout.partialWidth(level: 7, treeSize: UInt64.max) == 255)
        #expect(TileLayout.hashTile(level: 8, index: 0, treeSize: UInt64.max) == nil)
    }
}

@Suite struct TileBuilderTests {
    /// The builder's root equals `MerkleTree.root` at every size around tile and level boundaries, and the full
    /// tiles it hands out are each the leaf hashes (level 0) or full-tile roots (level 1) they must be.
    @Test func rootsEqualTheMerkleTreeAtManySizes() throws {
        let count = 70_001
        let hashes = syntheticLeaves(0..<count).map { MerkleTree.leafHash($0) }
        let checkpoints: Set<Int> = [
            1, 2, 3, 7, 8, 255, 256, 257, 511, 512, 513, 1000, 4096, 65_535, 65_536, 65_537, 65_792, 70_000, 70_001,
        ]
        var builder = TileBuilder()
        var full: [TilePath: [Hash256]] = [:]
        #expect(builder.root == MerkleTree.root(of: [Hash256]()))
        for (index, hash) in hashes.enumerated() {
            for tile in builder.append(hash) { full[tile.path] = tile.hashes }
            if checkpoints.contains(index + 1) {
                #expect(builder.root == MerkleTree.root(of: hashes[0...index]), "size \(index + 1)")
                #expect(builder.partialTiles.map(\.path) == TileLayout.partialTiles(treeSize: builder.size))
            }
        }
        #expect(full.count == 273 + 1)
        #expect(full[.hashes(level: 0, index: 5)] == Array(hashes[(5 * 256)..<(6 * 256)]))
        let level1 = try #require(full[.hashes(level: 1, index: 0)])
        #expect(level1[7] == MerkleTree.root(of: hashes[(7 * 256)..<(8 * 256)]))
        #expect(MerkleTree.root(of: level1) == MerkleTree.root(of: hashes[0..<65_536]))
    }

    @Test func resumesFromPartialTiles() throws {
        let hashes = syntheticLeaves(0..<3000).map { MerkleTree.leafHash($0) }
        var first = TileBuilder()
        for hash in hashes.prefix(1234) { _ = first.append(hash) }
        var resumed = try TileBuilder(size: 1234, partialTiles: first.partialTiles)
        for hash in hashes.dropFirst(1234) {
            _ = first.append(hash)
            _ = resumed.append(hash)
        }
        #expect(resumed.root == first.root)
        #expect(resumed.root == MerkleTree.root(of: hashes))
        // Tiles of another size, or missing one, are refused.
        #expect(throws: LedgerError.self) { try TileBuilder(size: 1235, partialTiles: first.partialTiles) }
        #expect(throws: LedgerError.self) {
            try TileBuilder(size: 3000, partialTiles: Array(first.partialTiles.dropFirst()))
        }
    }
}

@Suite struct TileEncodingTests {
    @Test func hashTilesDecodeOnlyTheirExactLength() throws {
        let hashes = (0..<17).map { Hash256.sha256([UInt8($0)]) }
        let tile = try HashTile(level: 1, index: 1, hashes: hashes)
        #expect(tile.path.description == "tile/1/001.p/17")
        #expect(try HashTile(path: tile.path, bytes: tile.bytes) == tile)
        for bad in [tile.bytes.dropLast(), tile.bytes + [0], [], tile.bytes + tile.bytes] {
            #expect(throws: LedgerError.self) { try HashTile(path: tile.path, bytes: bad) }
        }
        #expect(throws: LedgerError.self) { try HashTile(path: .entries(index: 1, width: 17), bytes: tile.bytes) }
        #expect(throws: LedgerError.self) { try HashTile(level: 0, index: 0, hashes: []) }
        #expect(throws: LedgerError.self) { try HashTile(level: 64, index: 0, hashes: hashes) }
    }

    @Test func bundlesRoundTripAndRefuseMalformedBytes() throws {
        let entries: [[UInt8]] = [[], [1], Array(repeating: 7, count: 300), Array(repeating: 9, count: 65_535)]
        let path = TilePath.entries(index: 0, width: 4)
        let bytes = try EntryBundle.encode(entries, firstSeq: 0)
        #expect(Array(bytes.prefix(5)) == [0, 0, 0, 1, 1])
        #expect(try EntryBundle.decode(bytes, path: path) == entries)
        // Truncation anywhere, a trailing byte, an extra entry, fewer entries than the width, a length past the end.
        for cut in [1, 2, 3, 300, bytes.count - 1] {
            #expect(throws: LedgerError.self) { try EntryBundle.decode(bytes.prefix(bytes.count - cut), path: path) }
        }
        #expect(throws: LedgerError.self) { try EntryBundle.decode(bytes + [0], path: path) }
        #expect(throws: LedgerError.self) { try EntryBundle.decode(bytes + [0, 0], path: path) }
        #expect(throws: LedgerError.self) { try EntryBundle.decode(bytes, path: .entries(index: 0, width: 5)) }
        #expect(throws: LedgerError.self) {
            try EntryBundle.decode([0xff, 0xff, 1], path: .entries(index: 0, width: 1))
        }
        #expect(throws: LedgerError.self) { try EntryBundle.decode(bytes, path: .hashes(level: 0, index: 0, width: 4)) }
        let huge = [UInt8](repeating: 0, count: EntryBundle.maximumBytes + 1)
        #expect(throws: LedgerError.self) { try EntryBundle.decode(huge, path: .entries(index: 0)) }
    }

    @Test func anEntryOver65535BytesIsRefusedNamingItsSeq() {
        let entries: [[UInt8]] = [[1], Array(repeating: 0, count: 65_536)]
        do {
            _ = try EntryBundle.encode(entries, firstSeq: 512)
            Issue.record("an oversized entry was bundled")
        } catch {
            #expect(error.code == .entryTooLarge)
            #expect(error.reason.hasPrefix("entry 513 has 65536 bytes"))
        }
    }
}

@Suite struct TiledTreeTests {
    /// Roots, leaf hashes, inclusion and consistency proofs recomputed from tiles equal `MerkleTree`'s from the
    /// leaves, for sizes around tile and level boundaries.
    @Test(arguments: [1, 2, 5, 255, 256, 257, 300, 511, 512, 1000, 65_536, 65_537, 70_000])
    func proofsFromTilesEqualTheMerkleTrees(size: Int) async throws {
        let leaves = syntheticLeaves(0..<size)
        let hashes = leaves.map { MerkleTree.leafHash($0) }
        let root = MerkleTree.root(of: hashes)
        var tree = try await TiledTree.open(
            source: InMemoryTileSource(files: try tileFiles(leaves: leaves)),
            size: UInt64(size),
            root: root
        )
        #expect(try await tree.root(ofSize: UInt64(size)) == root)
        let samples = Set([0, 1, size / 3, size / 2, 255, 256, size - 2, size - 1].filter { $0 >= 0 && $0 < size })
        for index in samples.sorted() {
            #expect(try await tree.leafHash(at: UInt64(index)) == hashes[index])
            let proof = try await tree.inclusionProof(index: UInt64(index))
            #expect(proof == (try MerkleTree.inclusionProof(leafIndex: index, leafHashes: hashes)), "index \(index)")
            try MerkleTree.verifyInclusion(
                leafHash: hashes[index],
                leafIndex: index,
                treeSize: size,
                proof: proof,
                root: root
            )
            let old = index + 1
            #expect(try await tree.root(ofSize: UInt64(old)) == MerkleTree.root(of: hashes.prefix(old)))
            let consistency = try await tree.consistencyProof(from: UInt64(old))
            #expect(consistency == (try MerkleTree.consistencyProof(oldSize: old, leafHashes: hashes)), "old \(old)")
        }
        let lastBundle = UInt64((size - 1) / 256)
        #expect(try await tree.entries(bundle: lastBundle) == Array(leaves[(Int(lastBundle) * 256)...]))
        await #expect(throws: LedgerError.self) { try await tree.inclusionProof(index: UInt64(size)) }
        await #expect(throws: LedgerError.self) { try await tree.consistencyProof(from: UInt64(size + 1)) }
    }

    /// A wrong root, and every kind of damage to the tiles or bundles a reader uses, is refused.
    @Test func tamperedTilesAreDetected() async throws {
        let size = 70_000
        let leaves = syntheticLeaves(0..<size)
        let root = MerkleTree.root(of: leaves.map { MerkleTree.leafHash($0) })
        let files = try tileFiles(leaves: leaves)
        func open(_ files: [String: [UInt8]], root: Hash256 = root) async throws -> TiledTree {
            try await TiledTree.open(source: InMemoryTileSource(files: files), size: UInt64(size), root: root)
        }
        func code(_ body: () async throws -> Void) async -> LedgerError.Code? {
            do {
                try await body()
                return nil
            } catch let error as LedgerError {
                return error.code
            } catch {
                return nil
            }
        }
        // The honest tiles open and prove.
        var honest = try await open(files)
        _ = try await honest.inclusionProof(index: 1000)

        // Wrong root; another size's root (replay of an older checkpoint's root).
        #expect(await code { _ = try await open(files, root: Hash256.sha256([1])) } == .tileMismatch)
        let older = MerkleTree.root(of: leaves.prefix(size - 1).map { MerkleTree.leafHash($0) })
        #expect(await code { _ = try await open(files, root: older) } == .tileMismatch)

        // A bit flip in a partial tile fails at open; in a full tile of any level, when a proof reads it.
        for path in ["tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1"] {
            var tampered = files
            tampered[path]?[5] ^= 0x01
            #expect(await code { _ = try await open(tampered) } == .tileMismatch, "\(path)")
        }
        for (path, leaf) in [("tile/0/003", 3 * 256 + 9), ("tile/1/000", 7)] {
            var tampered = files
            tampered[path]?[40] ^= 0x80
            var tree = try await open(tampered)
            #expect(await code { _ = try await tree.inclusionProof(index: UInt64(leaf)) } == .tileMismatch, "\(path)")
            #expect(await code { _ = try await tree.leafHash(at: UInt64(leaf)) } == .tileMismatch, "\(path)")
        }
        // Two hashes swapped inside a full tile; a truncated tile; a missing tile.
        var swapped = files
        if let tile = files["tile/0/003"] {
            swapped["tile/0/003"] = Array(tile[32..<64]) + Array(tile[0..<32]) + Array(tile[64...])
        }
        var reordered = try await open(swapped)
        #expect(await code { _ = try await reordered.leafHash(at: 3 * 256) } == .tileMismatch)
        var truncated = files
        truncated["tile/0/003"]?.removeLast()
        var short = try await open(truncated)
        #expect(await code { _ = try await short.leafHash(at: 3 * 256) } == .tileMalformed)
        var missing = files
        missing["tile/0/003"] = nil
        var absent = try await open(missing)
        #expect(await code { _ = try await absent.leafHash(at: 3 * 256) } == .tileMalformed)

        // Bundles: a changed entry, two entries swapped, a truncated bundle.
        let bundlePath = "tile/entries/002"
        let bundle = try EntryBundle.decode(try #require(files[bundlePath]), path: .entries(index: 2))
        var changed = bundle
        changed[10][0] ^= 0x01
        var entrySwapped = bundle
        entrySwapped.swapAt(3, 4)
        for (name, bytes) in [
            ("changed", try EntryBundle.encode(changed, firstSeq: 512)),
            ("swapped", try EntryBundle.encode(entrySwapped, firstSeq: 512)),
        ] {
            var tampered = files
            tampered[bundlePath] = bytes
            var tree = try await open(tampered)
            #expect(await code { _ = try await tree.entries(bundle: 2) } == .tileMismatch, "\(name)")
        }
        var cut = files
        cut[bundlePath]?.removeLast()
        var cutTree = try await open(cut)
        #expect(await code { _ = try await cutTree.entries(bundle: 2) } == .tileMalformed)
    }

    @Test func theEmptyTreeNeedsNoTiles() async throws {
        var tree = try await TiledTree.open(source: InMemoryTileSource(), size: 0, root: Hash256.sha256([UInt8]()))
        #expect(try await tree.root(ofSize: 0) == Hash256.sha256([UInt8]()))
        await #expect(throws: LedgerError.self) { try await tree.leafHash(at: 0) }
    }
}

@Suite struct TilePublisherTests {
    /// A store of `count` synthetic entries with a signed checkpoint kept at each of `checkpoints`.
    private func store(count: Int, checkpoints: [Int]) async throws -> InMemoryEventStore {
        let store = InMemoryEventStore()
        try await store.append(syntheticEntries(0..<count), expecting: 0)
        for size in checkpoints {
            let text = try await note(store, size: size)
            await store.keepCheckpoint(text, size: UInt64(size))
        }
        return store
    }

    private func note(
        _ store: InMemoryEventStore,
        size: Int,
        origin: String = "test.example/tiles"
    ) async throws
        -> String
    {
        let hashes = await store.leafHashes(upTo: UInt64(size))
        var note = SignedNote(
            text: Checkpoint(origin: origin, size: UInt64(size), root: MerkleTree.root(of: hashes)).text,
            signatures: []
        )
        try note.addSignature(by: try NoteSigner(name: origin, privateKey: TestKeys.log.cryptoKey))
        return note.serialized
    }

    /// Every file under `folder` (relative path → bytes), hidden ones left out.
    private func listing(_ folder: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder)
        while let path = enumerator?.nextObject() as? String {
            guard !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { continue }
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isFolder)
            if exists, !isFolder.boolValue {
                files[path] = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + path)))
            }
        }
        return files
    }

    @Test func publishesTheTreeThenOnlyWhatIsNew() async throws {
        let folder = try TemporaryFolder("tiles")
        let out = folder.path("log")
        let store = try await store(count: 700, checkpoints: [100, 300, 600])
        let publisher = TilePublisher(folder: out, pageSize: 128)

        let first = try await publisher.publish(store: store, checkpoint: try await note(store, size: 600))
        #expect(first.size == 600 && first.previousSize == nil && first.checkpointWritten)
        let published = try listing(out)
        // Every checkpointed size has its partial tiles and bundle; the files are exactly what the builder gives.
        let expected = try tileFiles(leaves: syntheticLeaves(0..<600), checkpoints: [100, 300])
        #expect(published.keys.filter { $0 != "checkpoint" }.sorted() == expected.keys.sorted())
        for (path, bytes) in expected { #expect(published[path] == bytes, "\(path)") }
        #expect(published["tile/0/001.p/44"] != nil)  // size 300
        #expect(published["tile/entries/000.p/100"] != nil)  // size 100
        #expect(first.tilesWritten + first.bundlesWritten == expected.count)
        #expect(first.bytesWritten == UInt64(published.values.reduce(0) { $0 + $1.count }))

        // The same checkpoint again writes nothing.
        let again = try await publisher.publish(store: store, checkpoint: try await note(store, size: 600))
        #expect(again.tilesWritten == 0 && again.bundlesWritten == 0 && !again.checkpointWritten)
        #expect(again.skipped > 0)

        // 100 entries more: only the new tiles; no file that existed changes.
        let modified = try published.keys.map { path in
            (path, try FileManager.default.attributesOfItem(atPath: out + "/" + path)[.modificationDate] as? Date)
        }
        await store.keepCheckpoint(try await note(store, size: 700), size: 700)
        let second = try await publisher.publish(store: store, checkpoint: try await note(store, size: 700))
        #expect(second.previousSize == 600)
        let after = try listing(out)
        let new = Set(after.keys).subtracting(published.keys)
        #expect(new == ["tile/0/002.p/188", "tile/entries/002.p/188"])
        #expect(second.tilesWritten == 1 && second.bundlesWritten == 1)
        for (path, date) in modified where path != "checkpoint" {
            #expect(after[path] == published[path])
            #expect(
                try FileManager.default.attributesOfItem(atPath: out + "/" + path)[.modificationDate] as? Date == date
            )
        }
        var tree = try await TiledTree.open(
            source: FolderTileSource(folder: out),
            size: 700,
            root: MerkleTree.root(of: await store.leafHashes(upTo: 700))
        )
        #expect(try await tree.entries(bundle: 2) == syntheticLeaves(512..<700))
    }

    /// A full tile that exists is never rewritten: one that differs is a fork, refused with nothing written.
    @Test func aDifferentExistingTileIsAForkAndNothingIsWritten() async throws {
        let folder = try TemporaryFolder("tiles")
        let out = folder.path("log")
        let store = try await store(count: 600, checkpoints: [])
        let publisher = TilePublisher(folder: out)
        _ = try await publisher.publish(store: store, checkpoint: try await note(store, size: 300))
        // A future full tile planted with other bytes (a crashed run of a forked log, or an attacker).
        try FileManager.default.createDirectory(atPath: out + "/tile/0", withIntermediateDirectories: true)
        try Data(repeating: 1, count: 8192).write(to: URL(fileURLWithPath: out + "/tile/0/001"))
        let before = try listing(out)
        await #expect(throws: LedgerError.self) {
            try await publisher.publish(store: store, checkpoint: try await note(store, size: 600))
        }
        #expect(try listing(out) == before)
    }

    /// The log rewritten after it was published (same size, other entries), a folder of another log, a checkpoint
    /// smaller than the folder's (truncation), a tampered folder and a checkpoint whose root is not the log's are
    /// all refused.
    @Test func forksTruncationAndTamperingAreRefused() async throws {
        let folder = try TemporaryFolder("tiles")
        let out = folder.path("log")
        let honest = try await store(count: 600, checkpoints: [])
        let publisher = TilePublisher(folder: out)
        _ = try await publisher.publish(store: honest, checkpoint: try await note(honest, size: 300))
        let before = try listing(out)

        func code(_ body: () async throws -> Void) async -> LedgerError.Code? {
            do {
                try await body()
                return nil
            } catch let error as LedgerError {
                return error.code
            } catch {
                return nil
            }
        }
        // A forked log: entry 290 differs, re-signed.
        var forkedEntries = syntheticEntries(0..<600)
        forkedEntries[290].leaf = Array("forged".utf8)
        forkedEntries[290].leafHash = MerkleTree.leafHash(forkedEntries[290].leaf)
        let forked = InMemoryEventStore()
        try await forked.append(forkedEntries, expecting: 0)
        #expect(
            await code {
                _ = try await publisher.publish(store: forked, checkpoint: try await self.note(forked, size: 600))
            }
                == .tileMismatch
        )
        // A forked log where the fork is in a full, already published tile.
        forkedEntries = syntheticEntries(0..<600)
        forkedEntries[10].leaf = Array("forged".utf8)
        forkedEntries[10].leafHash = MerkleTree.leafHash(forkedEntries[10].leaf)
        let forkedEarly = InMemoryEventStore()
        try await forkedEarly.append(forkedEntries, expecting: 0)
        #expect(
            await code {
                _ = try await publisher.publish(
                    store: forkedEarly,
                    checkpoint: try await self.note(forkedEarly, size: 600)
                )
            } == .tileMismatch
        )
        // Truncation: the log's latest checkpoint is smaller than the folder's.
        #expect(
            await code {
                _ = try await publisher.publish(store: honest, checkpoint: try await self.note(honest, size: 200))
            }
                == .tileMismatch
        )
        // Another log's checkpoint.
        #expect(
            await code {
                _ = try await publisher.publish(
                    store: honest,
                    checkpoint: try await self.note(honest, size: 600, origin: "other.example/log")
                )
            } == .tileMismatch
        )
        // A checkpoint that signs a root the log does not have.
        var lying = SignedNote(
            text: Checkpoint(origin: "test.example/tiles", size: 600, root: Hash256.sha256([9])).text,
            signatures: []
        )
        try lying.addSignature(by: try NoteSigner(name: "test.example/tiles", privateKey: TestKeys.log.cryptoKey))
        #expect(
            await code { _ = try await publisher.publish(store: honest, checkpoint: lying.serialized) } == .tileMismatch
        )
        #expect(try listing(out) == before)

        // The folder's partial tile tampered with.
        let partial = out + "/tile/0/001.p/44"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: partial))
        bytes[0] ^= 1
        try bytes.write(to: URL(fileURLWithPath: partial))
        #expect(
            await code {
                _ = try await publisher.publish(store: honest, checkpoint: try await self.note(honest, size: 600))
            }
                == .tileMismatch
        )
    }

    @Test func aLeafOver65535BytesIsRefusedNamingItsSeq() async throws {
        let folder = try TemporaryFolder("tiles")
        var entries = syntheticEntries(0..<20)
        entries[17].leaf = [UInt8](repeating: 0x61, count: 70_000)
        entries[17].leafHash = MerkleTree.leafHash(entries[17].leaf)
        let store = InMemoryEventStore()
        try await store.append(entries, expecting: 0)
        do {
            _ = try await TilePublisher(folder: folder.path("log")).publish(
                store: store,
                checkpoint: try await note(store, size: 20)
            )
            Issue.record("a log with an oversized leaf was published")
        } catch let error as LedgerError {
            #expect(error.code == .entryTooLarge)
            #expect(error.reason.hasPrefix("entry 17 has 70000 bytes"))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path("log") + "/checkpoint"))
        #expect(!FileManager.default.fileExists(atPath: folder.path("log") + "/tile"))
    }
}
