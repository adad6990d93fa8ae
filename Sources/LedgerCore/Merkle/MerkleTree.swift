import Crypto

/// RFC 9162 (Certificate Transparency v2, the successor of RFC 6962) Merkle tree hashing over SHA-256: tree heads,
/// inclusion proofs and consistency proofs.
///
/// Leaf indices and tree sizes are 0-based `Int`s. Proofs are lists of hashes in RFC 9162 order (bottom-up: the
/// sibling nearest the leaf first).
public enum MerkleTree {
    /// The root of the empty tree, SHA-256 of the empty string.
    static let emptyRoot = Hash256.sha256([UInt8]())

    /// The leaf hash, SHA-256(0x00 || leaf).
    public static func leafHash(_ leaf: some Collection<UInt8>) -> Hash256 {
        var hasher = SHA256()
        merkleUpdate(&hasher, prefix: 0x00)
        let hashedInPlace: Void? = leaf.withContiguousStorageIfAvailable { buffer in
            hasher.update(bufferPointer: UnsafeRawBufferPointer(buffer))
        }
        if hashedInPlace == nil {
            Array(leaf).withUnsafeBytes { hasher.update(bufferPointer: $0) }
        }
        return Hash256(digest: hasher.finalize())
    }

    /// The interior node hash, SHA-256(0x01 || left || right).
    public static func nodeHash(_ left: Hash256, _ right: Hash256) -> Hash256 {
        var hasher = SHA256()
        merkleUpdate(&hasher, prefix: 0x01)
        left.bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        right.bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return Hash256(digest: hasher.finalize())
    }

    /// The Merkle tree hash (MTH) of a list of leaf hashes; the empty list has the root SHA-256("").
    ///
    /// Runs in O(n) hashes with a single buffer of n × 32 bytes, reduced level by level in place.
    public static func root(of leafHashes: some RandomAccessCollection<Hash256>) -> Hash256 {
        if leafHashes.isEmpty {
            return emptyRoot
        }
        var level = MerkleLevel(leafHashes)
        while level.count > 1 {
            level.reduce()
        }
        return level.hash(at: 0)
    }

    /// The inclusion proof (audit path, RFC 9162 §2.1.3.1) of the leaf at `leafIndex` in the tree made of all of
    /// `leafHashes`, bottom-up.
    ///
    /// - Throws: `merkle.indexOutOfRange` unless `0 <= leafIndex < leafHashes.count`.
    public static func inclusionProof(
        leafIndex: Int,
        leafHashes: some RandomAccessCollection<Hash256>
    ) throws(MerkleError) -> [Hash256] {
        guard leafIndex >= 0, leafIndex < leafHashes.count else {
            throw .indexOutOfRange(index: leafIndex, treeSize: leafHashes.count)
        }
        var level = MerkleLevel(leafHashes)
        return level.auditPath(fromLevel: 0, index: leafIndex, includingStartNode: false)
    }

    /// The consistency proof (RFC 9162 §2.1.4.1) between the tree of the first `oldSize` leaves and the tree made of
    /// all of `leafHashes`.
    ///
    /// The proof is empty when `oldSize` is 0 or equals `leafHashes.count`.
    /// - Throws: `merkle.badSizes` unless `0 <= oldSize <= leafHashes.count`.
    public static func consistencyProof(
        oldSize: Int,
        leafHashes: some RandomAccessCollection<Hash256>
    ) throws(MerkleError) -> [Hash256] {
        let newSize = leafHashes.count
        guard oldSize >= 0, oldSize <= newSize else {
            throw .badSizes(oldSize: oldSize, newSize: newSize)
        }
        if oldSize == 0 || oldSize == newSize {
            return []
        }
        // The old tree's rightmost perfect subtree ends at oldSize; the proof is that subtree's hash (left out when
        // it is the whole old tree, which the verifier already has as the old root) followed by its audit path in
        // the new tree.
        let height = oldSize.trailingZeroBitCount
        let index = (oldSize - 1) >> height
        var level = MerkleLevel(leafHashes)
        return level.auditPath(fromLevel: height, index: index, includingStartNode: index != 0)
    }

    /// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
    ///
    /// - Throws: `merkle.indexOutOfRange` unless `0 <= leafIndex < treeSize`; `merkle.wrongProofSize` when the proof
    ///   does not have the one length that this index and size allow; `merkle.rootMismatch` when the recomputed root
    ///   differs from `root`.
    public static func verifyInclusion(
        leafHash: Hash256,
        leafIndex: Int,
        treeSize: Int,
        proof: [Hash256],
        root: Hash256
    ) throws(MerkleError) {
        guard leafIndex >= 0, leafIndex < treeSize else {
            throw .indexOutOfRange(index: leafIndex, treeSize: treeSize)
        }
        let expected = inclusionProofLength(index: leafIndex, treeSize: treeSize)
        guard proof.count == expected else {
            throw .wrongProofSize(actual: proof.count, expected: expected)
        }
        var fn = leafIndex
        var sn = treeSize - 1
        var computed = leafHash
        for sibling in proof {
            guard sn != 0 else {
                throw .wrongProofSize(actual: proof.count, expected: expected)
            }
            if fn & 1 == 1 || fn == sn {
                computed = nodeHash(sibling, computed)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                computed = nodeHash(computed, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else {
            throw .wrongProofSize(actual: proof.count, expected: expected)
        }
        guard computed == root else {
            throw .rootMismatch(which: "tree")
        }
    }

    /// Verifies a consistency proof (RFC 9162 §2.1.4.2) that the tree of `newSize` leaves with root `newRoot`
    /// extends the tree of `oldSize` leaves with root `oldRoot`.
    ///
    /// Equal sizes need an empty proof and equal roots. An old size of 0 needs an empty proof and the empty-tree
    /// root SHA-256("") as `oldRoot`.
    /// - Throws: `merkle.badSizes` unless `0 <= oldSize <= newSize`; `merkle.wrongProofSize` when the proof does not
    ///   have the one length these sizes allow; `merkle.rootMismatch` when either recomputed root differs.
    public static func verifyConsistency(
        oldSize: Int,
        newSize: Int,
        oldRoot: Hash256,
        newRoot: Hash256,
        proof: [Hash256]
    ) throws(MerkleError) {
        guard oldSize >= 0, oldSize <= newSize else {
            throw .badSizes(oldSize: oldSize, newSize: newSize)
        }
        if oldSize == 0 || oldSize == newSize {
            guard proof.isEmpty else {
                throw .wrongProofSize(actual: proof.count, expected: 0)
            }
            guard oldSize != 0 || oldRoot == emptyRoot else {
                throw .rootMismatch(which: "old")
            }
            guard oldRoot == newRoot || oldSize != newSize else {
                throw .rootMismatch(which: "new")
            }
            return
        }
        let oldIsPerfect = oldSize & (oldSize - 1) == 0
        let expected = consistencyProofLength(oldSize: oldSize, newSize: newSize)
        guard proof.count == expected else {
            throw .wrongProofSize(actual: proof.count, expected: expected)
        }
        // RFC 9162 §2.1.4.2, step by step.
        let path = oldIsPerfect ? [oldRoot] + proof : proof
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var oldComputed = path[0]
        var newComputed = path[0]
        for node in path.dropFirst() {
            guard sn != 0 else {
                throw .wrongProofSize(actual: proof.count, expected: expected)
            }
            if fn & 1 == 1 || fn == sn {
                oldComputed = nodeHash(node, oldComputed)
                newComputed = nodeHash(node, newComputed)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                newComputed = nodeHash(newComputed, node)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else {
            throw .wrongProofSize(actual: proof.count, expected: expected)
        }
        guard oldComputed == oldRoot else {
            throw .rootMismatch(which: "old")
        }
        guard newComputed == newRoot else {
            throw .rootMismatch(which: "new")
        }
    }

    /// The length of every valid inclusion proof for `index` in a tree of `treeSize` leaves: the levels where the
    /// paths to `index` and to the last leaf differ, plus the left siblings above them.
    private static func inclusionProofLength(index: Int, treeSize: Int) -> Int {
        let (inner, border) = merkleDecomposition(index: index, treeSize: treeSize)
        return inner + border
    }

    /// The length of every valid consistency proof between two sizes with `0 < oldSize < newSize`.
    private static func consistencyProofLength(oldSize: Int, newSize: Int) -> Int {
        let (inner, border) = merkleDecomposition(index: oldSize - 1, treeSize: newSize)
        let shift = oldSize.trailingZeroBitCount
        let seed = oldSize & (oldSize - 1) == 0 ? 0 : 1
        return seed + inner - shift + border
    }
}

/// Splits an inclusion path into the part below the point where it meets the right border of the tree (`inner`)
/// and the left siblings of the border above it (`border`).
private func merkleDecomposition(index: Int, treeSize: Int) -> (inner: Int, border: Int) {
    let inner = Int.bitWidth - (index ^ (treeSize - 1)).leadingZeroBitCount
    let border = (index >> inner).nonzeroBitCount
    return (inner, border)
}

private func merkleUpdate(_ hasher: inout SHA256, prefix: UInt8) {
    withUnsafeBytes(of: prefix) { hasher.update(bufferPointer: $0) }
}

/// One level of the tree, stored flat (32 bytes per node) so that a whole tree is reduced inside a single buffer.
///
/// Reducing a level pairs nodes 2i and 2i+1 into node i and promotes an unpaired last node unchanged, which gives
/// exactly RFC 9162's split at the largest power of two: at every level the last node is the hash of the ragged
/// right edge.
private struct MerkleLevel {
    private var storage: [UInt8]
    private(set) var count: Int

    init(_ leafHashes: some RandomAccessCollection<Hash256>) {
        count = leafHashes.count
        storage = []
        storage.reserveCapacity(count * Hash256.byteCount)
        for hash in leafHashes {
            storage.append(contentsOf: hash.bytes)
        }
    }

    func hash(at index: Int) -> Hash256 {
        storage.withUnsafeBytes { buffer in
            let start = index * Hash256.byteCount
            return Hash256(copying: UnsafeRawBufferPointer(rebasing: buffer[start..<(start + Hash256.byteCount)]))
        }
    }

    /// Replaces this level by the one above it; requires `count > 1`.
    mutating func reduce() {
        let width = Hash256.byteCount
        let pairs = count / 2
        let odd = count % 2 == 1
        storage.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            for pair in 0..<pairs {
                var hasher = SHA256()
                merkleUpdate(&hasher, prefix: 0x01)
                hasher.update(bufferPointer: UnsafeRawBufferPointer(start: base + 2 * pair * width, count: 2 * width))
                let digest = hasher.finalize()
                digest.withUnsafeBytes { bytes in
                    guard let source = bytes.baseAddress else { return }
                    (base + pair * width).copyMemory(from: source, byteCount: width)
                }
            }
            if odd {
                // Promote the unpaired last node; source (2 × pairs) and destination (pairs) never overlap.
                (base + pairs * width).copyMemory(from: base + 2 * pairs * width, byteCount: width)
            }
        }
        count = pairs + (odd ? 1 : 0)
    }

    /// Reduces up to `startLevel`, then collects the siblings of node `index` on every level up to the root,
    /// prefixed with the node itself when `includingStartNode`.
    mutating func auditPath(fromLevel startLevel: Int, index startIndex: Int, includingStartNode: Bool) -> [Hash256] {
        for _ in 0..<startLevel {
            reduce()
        }
        var path: [Hash256] = []
        var index = startIndex
        if includingStartNode {
            path.append(hash(at: index))
        }
        while count > 1 {
            let sibling = index ^ 1
            if sibling < count {
                path.append(hash(at: sibling))
            }
            reduce()
            index >>= 1
        }
        return path
    }
}

/// Incremental Merkle tree head over a growing log: the compact range of perfect-subtree hashes that covers every
/// leaf so far (one per set bit of `size`), so memory is O(log n) and each append costs amortized O(1) hashes.
public struct MerkleFrontier: Sendable, Hashable {
    /// Perfect-subtree roots, leftmost (largest) first.
    private var subtrees: [Hash256] = []
    /// The number of leaves appended.
    public private(set) var size: Int = 0

    public init() {}

    /// A frontier saved earlier: `subtrees` MUST be the ``subtrees`` of a frontier of `size` leaves. Nil when their
    /// number is not the number of set bits of `size`, the one shape a frontier can have.
    public init?(size: Int, subtrees: [Hash256]) {
        guard size >= 0, subtrees.count == size.nonzeroBitCount else { return nil }
        self.size = size
        self.subtrees = subtrees
    }

    /// The perfect-subtree roots, leftmost (largest) first: what ``init(size:subtrees:)`` takes back.
    public var subtreeRoots: [Hash256] { subtrees }

    /// Appends the next leaf's hash (see `MerkleTree.leafHash`).
    public mutating func append(_ leafHash: Hash256) {
        var node = leafHash
        var carry = size
        while carry & 1 == 1 {
            node = MerkleTree.nodeHash(subtrees.removeLast(), node)
            carry >>= 1
        }
        subtrees.append(node)
        size += 1
    }

    /// The tree head over all leaves appended so far; equal to `MerkleTree.root(of:)` over the same leaf hashes.
    public var root: Hash256 {
        guard var node = subtrees.last else {
            return MerkleTree.emptyRoot
        }
        for subtree in subtrees.dropLast().reversed() {
            node = MerkleTree.nodeHash(subtree, node)
        }
        return node
    }
}

/// A Merkle proof could not be produced or did not verify.
///
/// `code` is stable and meant for programs and logs; `reason` is for people and may change.
public struct MerkleError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Sendable, Hashable {
        case indexOutOfRange(index: Int, treeSize: Int)
        case badSizes(oldSize: Int, newSize: Int)
        case wrongProofSize(actual: Int, expected: Int)
        case rootMismatch(which: String)
    }

    private let kind: Kind

    private init(_ kind: Kind) {
        self.kind = kind
    }

    static func indexOutOfRange(index: Int, treeSize: Int) -> MerkleError {
        MerkleError(.indexOutOfRange(index: index, treeSize: treeSize))
    }

    static func badSizes(oldSize: Int, newSize: Int) -> MerkleError {
        MerkleError(.badSizes(oldSize: oldSize, newSize: newSize))
    }

    static func wrongProofSize(actual: Int, expected: Int) -> MerkleError {
        MerkleError(.wrongProofSize(actual: actual, expected: expected))
    }

    static func rootMismatch(which: String) -> MerkleError {
        MerkleError(.rootMismatch(which: which))
    }

    /// A stable identifier: `merkle.indexOutOfRange`, `merkle.badSizes`, `merkle.wrongProofSize` or
    /// `merkle.rootMismatch`.
    public var code: String {
        switch kind {
        case .indexOutOfRange: "merkle.indexOutOfRange"
        case .badSizes: "merkle.badSizes"
        case .wrongProofSize: "merkle.wrongProofSize"
        case .rootMismatch: "merkle.rootMismatch"
        }
    }

    /// A human-readable explanation.
    public var reason: String {
        switch kind {
        case .indexOutOfRange(let index, let treeSize):
            "leaf index \(index) is not in a tree of size \(treeSize)"
        case .badSizes(let oldSize, let newSize):
            "sizes \(oldSize) and \(newSize) do not satisfy 0 <= old size <= new size"
        case .wrongProofSize(let actual, let expected):
            "the proof has \(actual) hashes, but these sizes need exactly \(expected)"
        case .rootMismatch(let which):
            "the proof does not lead to the given \(which) root"
        }
    }

    public var description: String { "\(code): \(reason)" }
}
