// Reading a log published as C2SP tlog-tiles: where the bytes come from (a folder, memory; the monitor adds HTTP) and
// a tree that recomputes its root, leaf hashes and RFC 9162 proofs from the tiles, trusting no tile it has not tied to
// a checkpoint's root.

public import LedgerCore

/// Where a published log's tiles, entry bundles and checkpoint are read from.
///
/// Implementations MUST bound what they read: at most ``HashTile/maximumBytes`` for a hash tile and
/// ``EntryBundle/maximumBytes`` for a bundle (``TileSourceLimits``), so a hostile server or folder cannot make a
/// reader allocate without limit. A missing resource is `tile.malformed` naming the path, never an empty result.
public protocol TileSource: Sendable {
    /// The bytes of the tile or bundle at `path`.
    ///
    /// - Throws: `tile.malformed` if it is missing or longer than its kind allows; `store.failure` if reading fails.
    func read(_ path: TilePath) async throws(LedgerError) -> [UInt8]

    /// The text of the log's `checkpoint`, or nil if there is none yet.
    ///
    /// - Throws: `tile.malformed` if it is longer than ``TileSourceLimits/maximumCheckpointBytes``; `store.failure`
    ///   if reading fails.
    func checkpoint() async throws(LedgerError) -> String?
}

/// The read limits of every ``TileSource``.
public enum TileSourceLimits {
    /// The longest checkpoint accepted: a note of 100 signatures fits well inside.
    public static let maximumCheckpointBytes = 64 * 1024

    /// The longest resource that `path` may name.
    public static func maximumBytes(for path: TilePath) -> Int {
        path.level == nil ? EntryBundle.maximumBytes : path.width * HashTile.hashBytes
    }
}

/// A published log in a folder, as `TilePublisher` writes it or a static web server serves it: `DIR/checkpoint`,
/// `DIR/tile/...`.
public struct FolderTileSource: TileSource {
    /// The folder.
    public let folder: String

    /// The log published in `folder`.
    public init(folder: String) {
        self.folder = folder
    }

    public func read(_ path: TilePath) async throws(LedgerError) -> [UInt8] {
        guard
            let bytes = try TileFiles.readFile(
                folder + "/" + path.description,
                limit: TileSourceLimits.maximumBytes(for: path)
            )
        else {
            throw LedgerError(.tileMalformed, "\(path) is missing from \(folder)")
        }
        return bytes
    }

    public func checkpoint() async throws(LedgerError) -> String? {
        try TileFiles.readFile(folder + "/checkpoint", limit: TileSourceLimits.maximumCheckpointBytes).map {
            String(decoding: $0, as: UTF8.self)
        }
    }
}

/// A published log held in memory, keyed by path (`checkpoint`, `tile/0/000`...): for tests and for serving tiles
/// computed on the fly.
public struct InMemoryTileSource: TileSource {
    /// The resources, by their path relative to the log's prefix.
    public var files: [String: [UInt8]]

    /// A source holding `files`.
    public init(files: [String: [UInt8]] = [:]) {
        self.files = files
    }

    public func read(_ path: TilePath) async throws(LedgerError) -> [UInt8] {
        guard let bytes = files[path.description] else {
            throw LedgerError(.tileMalformed, "\(path) is missing")
        }
        guard bytes.count <= TileSourceLimits.maximumBytes(for: path) else {
            throw LedgerError(.tileMalformed, "\(path) has \(bytes.count) bytes, more than its kind allows")
        }
        return bytes
    }

    public func checkpoint() async throws(LedgerError) -> String? {
        files["checkpoint"].map { String(decoding: $0, as: UTF8.self) }
    }
}

/// The tree of one checkpoint, read from tiles: its root, leaf hashes, entries and RFC 9162 inclusion and
/// consistency proofs, each computed from the tiles.
///
/// Opening checks that the tree's partial tiles hash to the checkpoint's root, which authenticates them. Every full
/// tile read later is authenticated before use: its Merkle tree hash must equal the hash at its place in the
/// (authenticated) tile above. So a value this type returns is either tied to the checkpoint's root or an error;
/// it never returns a hash from a tile it did not check. The signature on the checkpoint is the caller's to verify.
public struct TiledTree: Sendable {
    /// Where the tiles come from.
    public let source: any TileSource
    /// The tree's size.
    public let size: UInt64
    /// The tree's root, as the checkpoint states it.
    public let root: Hash256
    /// Authenticated tiles by path. Unbounded in principle, at most the tiles a caller's proofs touch in practice.
    private var tiles: [TilePath: HashTile] = [:]

    /// Opens the tree of `size` leaves with root `root` (a checkpoint's) and checks its partial tiles against the
    /// root.
    ///
    /// - Throws: `tile.mismatch` if the tiles do not hash to `root`; `tile.malformed` if one is missing or has the
    ///   wrong length; the source's errors.
    public static func open(source: any TileSource, size: UInt64, root: Hash256) async throws(LedgerError) -> TiledTree
    {
        var tree = TiledTree(source: source, size: size, root: root)
        var partial: [HashTile] = []
        for path in TileLayout.partialTiles(treeSize: size) {
            partial.append(try HashTile(path: path, bytes: try await source.read(path)))
        }
        guard TileBuilder.root(ofPartialTiles: partial) == root else {
            throw LedgerError(
                .tileMismatch,
                "the partial tiles of size \(size) do not hash to the checkpoint's root \(root.hex.prefix(16))…"
            )
        }
        for tile in partial { tree.tiles[tile.path] = tile }
        return tree
    }

    private init(source: any TileSource, size: UInt64, root: Hash256) {
        self.source = source
        self.size = size
        self.root = root
    }

    /// The partial tiles of the tree, which opening authenticated: what a builder resumes from.
    public var partialTiles: [HashTile] {
        TileLayout.partialTiles(treeSize: size).compactMap { tiles[$0] }
    }

    /// The authenticated hash tile at `level` and `index`, full or partial as the tree has it.
    ///
    /// - Throws: `tile.malformed` if the tree has no such tile or it has the wrong length; `tile.mismatch` if it does
    ///   not hash to its place in the level above.
    public mutating func hashTile(level: Int, index: UInt64) async throws(LedgerError) -> HashTile {
        guard let path = TileLayout.hashTile(level: level, index: index, treeSize: size) else {
            throw LedgerError(.tileMalformed, "a tree of size \(size) has no tile \(index) at level \(level)")
        }
        if let tile = tiles[path] { return tile }
        // Only full tiles are left: the partial ones were authenticated when the tree was opened.
        let tile = try HashTile(path: path, bytes: try await source.read(path))
        let parent = try await hashTile(level: level + 1, index: index / UInt64(TilePath.fullWidth))
        let position = Int(index % UInt64(TilePath.fullWidth))
        guard position < parent.hashes.count, parent.hashes[position] == tile.treeHash else {
            throw LedgerError(.tileMismatch, "\(path) does not hash to its place in \(parent.path)")
        }
        tiles[path] = tile
        return tile
    }

    /// The leaf hash of entry `index`.
    ///
    /// - Throws: `argument.invalid` unless `index < size`; the errors of ``hashTile(level:index:)``.
    public mutating func leafHash(at index: UInt64) async throws(LedgerError) -> Hash256 {
        guard index < size else {
            throw LedgerError(.invalidArgument, "entry \(index) is not in a tree of size \(size)")
        }
        return try await subtreeHash(height: 0, index: index)
    }

    /// The entries of bundle `index`, each checked against its leaf hash in the authenticated level-0 tile.
    ///
    /// - Throws: `tile.malformed` if the tree has no such bundle or it does not decode; `tile.mismatch` if an entry
    ///   does not hash to its leaf hash; the errors of ``hashTile(level:index:)``.
    public mutating func entries(bundle index: UInt64) async throws(LedgerError) -> [[UInt8]] {
        guard let path = TileLayout.entryBundle(index: index, treeSize: size) else {
            throw LedgerError(.tileMalformed, "a tree of size \(size) has no entry bundle \(index)")
        }
        let tile = try await hashTile(level: 0, index: index)
        let entries = try EntryBundle.decode(try await source.read(path), path: path)
        for (offset, entry) in entries.enumerated() where MerkleTree.leafHash(entry) != tile.hashes[offset] {
            throw LedgerError(
                .tileMismatch,
                "entry \(index * UInt64(TilePath.fullWidth) + UInt64(offset)) in \(path) does not hash to its leaf hash"
            )
        }
        return entries
    }

    /// The RFC 9162 inclusion proof of entry `index` in this tree, bottom-up as `MerkleTree` writes it.
    ///
    /// - Throws: `argument.invalid` unless `index < size`; the errors of ``hashTile(level:index:)``.
    public mutating func inclusionProof(index: UInt64) async throws(LedgerError) -> [Hash256] {
        guard index < size else {
            throw LedgerError(.invalidArgument, "entry \(index) is not in a tree of size \(size)")
        }
        return try await auditPath(index, low: 0, high: size)
    }

    /// The RFC 9162 consistency proof from the tree of the first `oldSize` leaves to this one.
    ///
    /// - Throws: `argument.invalid` unless `oldSize <= size`; the errors of ``hashTile(level:index:)``.
    public mutating func consistencyProof(from oldSize: UInt64) async throws(LedgerError) -> [Hash256] {
        guard oldSize <= size else {
            throw LedgerError(.invalidArgument, "size \(oldSize) is beyond the tree's \(size)")
        }
        guard oldSize > 0, oldSize < size else { return [] }
        return try await subproof(oldSize, low: 0, high: size, complete: true)
    }

    /// The root of the tree of the first `treeSize` leaves, computed from this tree's tiles.
    ///
    /// - Throws: `argument.invalid` unless `treeSize <= size`; the errors of ``hashTile(level:index:)``.
    public mutating func root(ofSize treeSize: UInt64) async throws(LedgerError) -> Hash256 {
        guard treeSize <= size else {
            throw LedgerError(.invalidArgument, "size \(treeSize) is beyond the tree's \(size)")
        }
        guard treeSize > 0 else { return Hash256.sha256([UInt8]()) }
        return try await rangeHash(low: 0, high: treeSize)
    }

    /// The hash of the perfect subtree of `height` whose leaves are `index × 2^height ..< (index + 1) × 2^height`:
    /// 2^(height mod 8) consecutive hashes of one tile at level height / 8.
    private mutating func subtreeHash(height: Int, index: UInt64) async throws(LedgerError) -> Hash256 {
        let level = height / 8
        let span = 1 << (height % 8)
        let first = index << UInt64(height % 8)
        let tile = try await hashTile(level: level, index: first / UInt64(TilePath.fullWidth))
        let offset = Int(first % UInt64(TilePath.fullWidth))
        guard offset + span <= tile.hashes.count else {
            throw LedgerError(.tileMalformed, "\(tile.path) is too narrow for the subtree the tree needs")
        }
        return span == 1 ? tile.hashes[offset] : MerkleTree.root(of: tile.hashes[offset..<(offset + span)])
    }

    /// MTH(D[low ..< high]) for a range the RFC 9162 recursions produce: `low` is a multiple of the largest power
    /// of two below `high - low`.
    private mutating func rangeHash(low: UInt64, high: UInt64) async throws(LedgerError) -> Hash256 {
        let count = high - low
        if count & (count - 1) == 0, low % count == 0 {
            return try await subtreeHash(height: count.trailingZeroBitCount, index: low / count)
        }
        let split = Self.largestPowerOfTwo(below: count)
        let left = try await rangeHash(low: low, high: low + split)
        let right = try await rangeHash(low: low + split, high: high)
        return MerkleTree.nodeHash(left, right)
    }

    /// RFC 9162 §2.1.3.1 PATH(m, D[low ..< high]).
    private mutating func auditPath(_ leaf: UInt64, low: UInt64, high: UInt64) async throws(LedgerError) -> [Hash256] {
        let count = high - low
        guard count > 1 else { return [] }
        let split = Self.largestPowerOfTwo(below: count)
        if leaf < low + split {
            return try await auditPath(leaf, low: low, high: low + split) + [
                try await rangeHash(low: low + split, high: high)
            ]
        }
        return try await auditPath(leaf, low: low + split, high: high) + [
            try await rangeHash(low: low, high: low + split)
        ]
    }

    /// RFC 9162 §2.1.4.1 SUBPROOF(m, D[low ..< high], complete).
    private mutating func subproof(
        _ oldSize: UInt64,
        low: UInt64,
        high: UInt64,
        complete: Bool
    ) async throws(LedgerError) -> [Hash256] {
        let count = high - low
        if oldSize == count {
            return complete ? [] : [try await rangeHash(low: low, high: high)]
        }
        let split = Self.largestPowerOfTwo(below: count)
        if oldSize <= split {
            return try await subproof(oldSize, low: low, high: low + split, complete: complete) + [
                try await rangeHash(low: low + split, high: high)
            ]
        }
        return try await subproof(oldSize - split, low: low + split, high: high, complete: false) + [
            try await rangeHash(low: low, high: low + split)
        ]
    }

    /// The largest power of two strictly below `count` (count ≥ 2).
    private static func largestPowerOfTwo(below count: UInt64) -> UInt64 {
        1 << UInt64(UInt64.bitWidth - 1 - (count - 1).leadingZeroBitCount)
    }
}
