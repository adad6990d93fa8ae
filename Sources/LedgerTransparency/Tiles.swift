// C2SP tlog-tiles (https://c2sp.org/tlog-tiles): hash tiles and entry bundles, their encodings, which of them a tree
// of a given size has, and the incremental computation of them from leaf hashes.

public import LedgerCore

extension LedgerError.Code {
    /// Tile or entry-bundle bytes that are not what their path says: a wrong length, a bad length prefix, trailing
    /// bytes, or a tile a tree of that size does not have.
    public static let tileMalformed = Self(rawValue: "tile.malformed")
    /// Tiles that do not hash to the root they must hash to, or a published tile that differs from the one the log
    /// gives for the same path: a fork, a rewritten log or a tampered folder.
    public static let tileMismatch = Self(rawValue: "tile.mismatch")
    /// A leaf longer than an entry bundle can hold (65,535 bytes).
    public static let entryTooLarge = Self(rawValue: "tile.entryTooLarge")
}

/// A hash tile: up to 256 consecutive Merkle tree hashes at one level, encoded as their concatenation.
///
/// At level 0 the hashes are leaf hashes; at level l > 0 hash i of tile n is the Merkle tree hash of the full tile
/// n × 256 + i at level l − 1, which covers 256^l leaves.
public struct HashTile: Sendable, Hashable {
    /// Where the tile lives; its width is the number of hashes.
    public let path: TilePath
    /// The tile's hashes, `path.width` of them.
    public let hashes: [Hash256]

    /// The size of one hash in a tile: SHA-256, 32 bytes.
    public static let hashBytes = 32
    /// The size of a full tile's encoding: 256 hashes of 32 bytes.
    public static let maximumBytes = TilePath.fullWidth * hashBytes

    /// A tile at `level` and `index` holding `hashes` (1...256 of them; fewer than 256 makes a partial tile).
    ///
    /// - Throws: `tile.malformed` for no hashes or more than 256, or a level outside 0...63.
    public init(level: Int, index: UInt64, hashes: [Hash256]) throws(LedgerError) {
        guard (0...63).contains(level), (1...TilePath.fullWidth).contains(hashes.count) else {
            throw LedgerError(
                .tileMalformed,
                "a hash tile has 1 to 256 hashes at a level 0...63, not \(hashes.count) at level \(level)"
            )
        }
        self.path = .hashes(level: level, index: index, width: hashes.count)
        self.hashes = hashes
    }

    /// Decodes the bytes served at `path`, which must be a hash tile's path.
    ///
    /// - Throws: `tile.malformed` unless `path` names a hash tile and `bytes` is exactly its width × 32 bytes.
    public init(path: TilePath, bytes: some Collection<UInt8>) throws(LedgerError) {
        guard path.level != nil else {
            throw LedgerError(.tileMalformed, "\(path) is an entry bundle, not a hash tile")
        }
        guard bytes.count == path.width * HashTile.hashBytes else {
            throw LedgerError(
                .tileMalformed,
                "\(path) has \(bytes.count) bytes; a tile of \(path.width) hashes has \(path.width * HashTile.hashBytes)"
            )
        }
        let flat = Array(bytes)
        var hashes: [Hash256] = []
        hashes.reserveCapacity(path.width)
        for start in stride(from: 0, to: flat.count, by: HashTile.hashBytes) {
            guard let hash = Hash256(bytes: flat[start..<(start + HashTile.hashBytes)]) else {
                throw LedgerError(.tileMalformed, "\(path) holds a hash that is not 32 bytes")
            }
            hashes.append(hash)
        }
        self.path = path
        self.hashes = hashes
    }

    /// The encoding served at ``path``: the hashes, concatenated.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hashes.count * HashTile.hashBytes)
        for hash in hashes { bytes += hash.bytes }
        return bytes
    }

    /// Whether the tile holds all 256 hashes.
    public var isFull: Bool { hashes.count == TilePath.fullWidth }

    /// The Merkle tree hash of the tile's hashes: for a full tile, the hash it contributes to the level above.
    public var treeHash: Hash256 { MerkleTree.root(of: hashes) }
}

/// An entry bundle: up to 256 consecutive log entries, each prefixed with its length as a big-endian uint16.
///
/// Each entry hashes (`MerkleTree.leafHash`) to the hash at the same position of the level-0 tile of the same index.
/// Our entries are the leaves exactly as `ledger export` writes them (the canonical JSON of the DSSE envelope).
public enum EntryBundle {
    /// The longest entry a bundle can hold: the largest uint16.
    public static let maximumEntryBytes = Int(UInt16.max)
    /// The longest bundle: 256 entries of the longest length with their prefixes (about 16 MiB).
    public static let maximumBytes = TilePath.fullWidth * (2 + maximumEntryBytes)

    /// Encodes `entries` (1...256 of them), the first of which is the log's entry `firstSeq`.
    ///
    /// - Throws: `tile.entryTooLarge` naming the seq of the first entry longer than 65,535 bytes, which no bundle
    ///   can hold; `tile.malformed` for no entries or more than 256.
    public static func encode(_ entries: [[UInt8]], firstSeq: UInt64) throws(LedgerError) -> [UInt8] {
        guard (1...TilePath.fullWidth).contains(entries.count) else {
            throw LedgerError(.tileMalformed, "an entry bundle holds 1 to 256 entries, not \(entries.count)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.reduce(0) { $0 + 2 + $1.count })
        for (offset, entry) in entries.enumerated() {
            try checkFits(entry, seq: firstSeq + UInt64(offset))
            bytes.append(UInt8(entry.count >> 8))
            bytes.append(UInt8(entry.count & 0xff))
            bytes += entry
        }
        return bytes
    }

    /// Refuses an entry that no bundle can hold.
    ///
    /// - Throws: `tile.entryTooLarge` naming `seq` when `entry` is longer than 65,535 bytes.
    public static func checkFits(_ entry: [UInt8], seq: UInt64) throws(LedgerError) {
        guard entry.count <= maximumEntryBytes else {
            throw LedgerError(
                .entryTooLarge,
                "entry \(seq) has \(entry.count) bytes; a tlog-tiles entry bundle holds entries of at most "
                    + "\(maximumEntryBytes) bytes, so this log cannot be published as tiles"
            )
        }
    }

    /// Decodes the bundle served at `path`, which must be an entry bundle's path: exactly `path.width` entries and
    /// nothing after them.
    ///
    /// - Throws: `tile.malformed` if `path` is a hash tile's, the bytes are longer than ``maximumBytes``, a length
    ///   prefix runs past the end, or the count of entries or trailing bytes disagree with the path.
    public static func decode(_ bytes: some Collection<UInt8>, path: TilePath) throws(LedgerError) -> [[UInt8]] {
        guard path.level == nil else {
            throw LedgerError(.tileMalformed, "\(path) is a hash tile, not an entry bundle")
        }
        guard bytes.count <= maximumBytes else {
            throw LedgerError(.tileMalformed, "\(path) has \(bytes.count) bytes, more than any bundle")
        }
        let flat = Array(bytes)
        var entries: [[UInt8]] = []
        entries.reserveCapacity(path.width)
        var position = 0
        while position < flat.count {
            guard entries.count < path.width else {
                throw LedgerError(.tileMalformed, "\(path) holds more than \(path.width) entries")
            }
            guard flat.count - position >= 2 else {
                throw LedgerError(.tileMalformed, "\(path) ends inside a length prefix")
            }
            let length = Int(flat[position]) << 8 | Int(flat[position + 1])
            position += 2
            guard flat.count - position >= length else {
                throw LedgerError(
                    .tileMalformed,
                    "entry \(entries.count) of \(path) claims \(length) bytes but the bundle ends first"
                )
            }
            entries.append(Array(flat[position..<(position + length)]))
            position += length
        }
        guard entries.count == path.width else {
            throw LedgerError(.tileMalformed, "\(path) holds \(entries.count) entries, not \(path.width)")
        }
        return entries
    }
}

/// Which tiles a tree of a given size has (C2SP tlog-tiles): at level l, `s / 256^(l+1)` full tiles and, when
/// `floor(s / 256^l) mod 256` is not 0, one partial tile of that width.
public enum TileLayout {
    /// The number of hashes at `level` in a tree of `size` leaves: `floor(size / 256^level)`.
    public static func hashCount(level: Int, treeSize size: UInt64) -> UInt64 {
        let shift = 8 * level
        return shift >= UInt64.bitWidth ? 0 : size >> UInt64(shift)
    }

    /// The number of full tiles at `level`.
    public static func fullTileCount(level: Int, treeSize size: UInt64) -> UInt64 {
        hashCount(level: level, treeSize: size) / UInt64(TilePath.fullWidth)
    }

    /// The width of the partial tile at `level`, 0 when there is none.
    public static func partialWidth(level: Int, treeSize size: UInt64) -> Int {
        Int(hashCount(level: level, treeSize: size) % UInt64(TilePath.fullWidth))
    }

    /// The levels that hold at least one hash: 0 up to the highest with `size / 256^l > 0`; none for size 0.
    public static func levels(treeSize size: UInt64) -> Range<Int> {
        var count = 0
        while hashCount(level: count, treeSize: size) > 0 { count += 1 }
        return 0..<count
    }

    /// The partial hash tiles of a tree of `size`, lowest level first: the ones a log must serve for each
    /// checkpointed size.
    public static func partialTiles(treeSize size: UInt64) -> [TilePath] {
        levels(treeSize: size).compactMap { level in
            let width = partialWidth(level: level, treeSize: size)
            guard width > 0 else { return nil }
            return .hashes(level: level, index: fullTileCount(level: level, treeSize: size), width: width)
        }
    }

    /// The path of the hash tile at `level` and `index` as a tree of `size` has it: full if the tree holds all of
    /// it, else the partial one; nil if the tree has no such tile.
    public static func hashTile(level: Int, index: UInt64, treeSize size: UInt64) -> TilePath? {
        guard (0...63).contains(level) else { return nil }
        let full = fullTileCount(level: level, treeSize: size)
        if index < full { return .hashes(level: level, index: index) }
        let width = partialWidth(level: level, treeSize: size)
        guard index == full, width > 0 else { return nil }
        return .hashes(level: level, index: index, width: width)
    }

    /// The path of the entry bundle `index` as a tree of `size` has it, or nil.
    public static func entryBundle(index: UInt64, treeSize size: UInt64) -> TilePath? {
        guard let tile = hashTile(level: 0, index: index, treeSize: size) else { return nil }
        return .entries(index: index, width: tile.width)
    }

    /// Every hash tile of a tree of `size`, level by level, full tiles first. There are about size / 255 of them.
    public static func hashTiles(treeSize size: UInt64) -> [TilePath] {
        var paths: [TilePath] = []
        for level in levels(treeSize: size) {
            let full = fullTileCount(level: level, treeSize: size)
            var index: UInt64 = 0
            while index < full {
                paths.append(.hashes(level: level, index: index))
                index += 1
            }
            let width = partialWidth(level: level, treeSize: size)
            if width > 0 { paths.append(.hashes(level: level, index: full, width: width)) }
        }
        return paths
    }
}

/// Computes a log's hash tiles incrementally from its leaf hashes, holding only the incomplete tile of each level
/// (at most 256 hashes × 8 levels).
///
/// Appending a leaf hash returns the full tiles it completes; ``partialTiles`` and ``root`` describe the tree of
/// every leaf appended so far.
public struct TileBuilder: Sendable {
    /// The hashes of the incomplete tile at each level, lowest level first; empty levels at the top are trimmed.
    private var pending: [[Hash256]]
    /// The number of leaves appended.
    public private(set) var size: UInt64

    /// A builder for the empty tree.
    public init() {
        pending = []
        size = 0
    }

    /// Resumes at a tree of `size` leaves from that tree's partial tiles (``TileLayout/partialTiles(treeSize:)``),
    /// for example the tiles published with an earlier checkpoint. Check them first (``TiledTree``): the builder
    /// takes them as they are.
    ///
    /// - Throws: `tile.malformed` unless `partialTiles` are exactly the partial tiles a tree of `size` has.
    public init(size: UInt64, partialTiles: [HashTile]) throws(LedgerError) {
        let expected = TileLayout.partialTiles(treeSize: size)
        guard partialTiles.map(\.path) == expected else {
            throw LedgerError(
                .tileMalformed,
                "a tree of size \(size) has the partial tiles \(expected.map(\.description)), not "
                    + "\(partialTiles.map(\.path.description))"
            )
        }
        var pending = Array(repeating: [Hash256](), count: TileLayout.levels(treeSize: size).count)
        for tile in partialTiles {
            if let level = tile.path.level { pending[level] = tile.hashes }
        }
        self.pending = pending
        self.size = size
    }

    /// Appends the next leaf's hash (`MerkleTree.leafHash` of its bytes) and returns the full tiles it completes,
    /// lowest level first.
    public mutating func append(_ leafHash: Hash256) -> [HashTile] {
        var completed: [HashTile] = []
        var hash = leafHash
        var level = 0
        while true {
            if pending.count == level { pending.append([]) }
            pending[level].append(hash)
            guard pending[level].count == TilePath.fullWidth else { break }
            let index = TileLayout.hashCount(level: level, treeSize: size) / UInt64(TilePath.fullWidth)
            // A full tile of 256 hashes at a level 0...63: the initializer cannot refuse it.
            guard let tile = try? HashTile(level: level, index: index, hashes: pending[level]) else { break }
            completed.append(tile)
            pending[level].removeAll(keepingCapacity: true)
            hash = tile.treeHash
            level += 1
        }
        size += 1
        return completed
    }

    /// The partial tiles of the tree so far, lowest level first (``TileLayout/partialTiles(treeSize:)``).
    public var partialTiles: [HashTile] {
        pending.enumerated().compactMap { level, hashes in
            guard !hashes.isEmpty else { return nil }
            return try? HashTile(
                level: level,
                index: TileLayout.fullTileCount(level: level, treeSize: size),
                hashes: hashes
            )
        }
    }

    /// The Merkle tree hash of every leaf appended so far.
    public var root: Hash256 { Self.root(ofPartialTiles: partialTiles) }

    /// The root of a tree from its partial tiles alone: their hashes are the perfect subtrees that cover the tree,
    /// largest first.
    static func root(ofPartialTiles tiles: [HashTile]) -> Hash256 {
        // (height, hash) of perfect subtrees, merged while the last two have equal heights: the result is the
        // tree's frontier, one subtree per set bit of the size.
        var stack: [(height: Int, hash: Hash256)] = []
        for tile in tiles.reversed() {
            let height = 8 * (tile.path.level ?? 0)
            for hash in tile.hashes {
                stack.append((height, hash))
                while stack.count >= 2, stack[stack.count - 1].height == stack[stack.count - 2].height {
                    let right = stack.removeLast()
                    let left = stack.removeLast()
                    stack.append((left.height + 1, MerkleTree.nodeHash(left.hash, right.hash)))
                }
            }
        }
        guard var node = stack.last?.hash else { return Hash256.sha256([UInt8]()) }
        for subtree in stack.dropLast().reversed() {
            node = MerkleTree.nodeHash(subtree.hash, node)
        }
        return node
    }
}
