import Foundation
import LedgerCore
import LedgerTesting
import Testing

// Known-answer, adversarial and randomized tests for the RFC 9162 Merkle tree.
// Vectors: Fixtures/rfc6962 (transparency-dev/merkle, plus all proofs for sizes 1..8 derived from the same leaves);
// see Fixtures/rfc6962/SOURCE.md.

// MARK: - Fixtures

private struct MerkleTestVectorFile: Decodable {
    struct Inclusion: Decodable {
        var leafIndex: Int
        var treeSize: Int
        var proofHex: [String]
        var expectedRootHex: String?
    }

    struct Consistency: Decodable {
        var firstSize: Int
        var secondSize: Int
        var proofHex: [String]
        var firstRootHex: String?
        var secondRootHex: String?
    }

    struct Hasher: Decodable {
        var desc: String
        var leafHex: String?
        var leftHex: String?
        var rightHex: String?
        var expectedHex: String
    }

    var leavesHex: [String]
    var leafHashesHex: [String]?
    var nodeHashesHex: [[String]]?
    var rootsHex: [String: String]
    var inclusionProofs: [Inclusion]
    var consistencyProofs: [Consistency]
    var hasherVectors: [Hasher]?
}

private enum MerkleTestFixtureError: Error {
    case missing(String)
    case badHex(String)
}

private func merkleTestLoad(_ name: String) throws -> MerkleTestVectorFile {
    guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/rfc6962")
    else {
        throw MerkleTestFixtureError.missing(name)
    }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return try decoder.decode(MerkleTestVectorFile.self, from: Data(contentsOf: url))
}

private func merkleTestBytes(_ hex: String) throws -> [UInt8] {
    let digits = Array(hex.utf8)
    guard digits.count % 2 == 0 else { throw MerkleTestFixtureError.badHex(hex) }
    return try stride(from: 0, to: digits.count, by: 2).map { index in
        guard let byte = UInt8(String(decoding: digits[index..<(index + 2)], as: UTF8.self), radix: 16) else {
            throw MerkleTestFixtureError.badHex(hex)
        }
        return byte
    }
}

private func merkleTestHash(_ hex: String) throws -> Hash256 {
    guard let hash = Hash256(hex: hex) else { throw MerkleTestFixtureError.badHex(hex) }
    return hash
}

/// The 8-leaf test tree of transparency-dev/merkle: its leaf hashes and its roots for sizes 0...8.
private struct MerkleTestTree {
    var leafHashes: [Hash256]
    var roots: [Hash256]

    static func load() throws -> MerkleTestTree {
        let file = try merkleTestLoad("rfc6962")
        let leafHashes = try file.leavesHex.map { MerkleTree.leafHash(try merkleTestBytes($0)) }
        let roots = try (0...leafHashes.count).map { size in
            guard let hex = file.rootsHex[String(size)] else { throw MerkleTestFixtureError.missing("root \(size)") }
            return try merkleTestHash(hex)
        }
        return MerkleTestTree(leafHashes: leafHashes, roots: roots)
    }
}

/// One inclusion proof vector, with the leaf hashes and roots of the tree it belongs to.
private struct MerkleTestInclusionCase: Sendable, CustomTestStringConvertible {
    var source: String
    var index: Int
    var size: Int
    var proof: [Hash256]
    var root: Hash256
    var leafHashes: [Hash256]
    var roots: [Hash256]

    var testDescription: String { "\(source) leaf \(index) of \(size)" }
}

/// One consistency proof vector, with the leaf hashes and roots of the tree it belongs to.
private struct MerkleTestConsistencyCase: Sendable, CustomTestStringConvertible {
    var source: String
    var oldSize: Int
    var newSize: Int
    var proof: [Hash256]
    var oldRoot: Hash256
    var newRoot: Hash256
    var leafHashes: [Hash256]
    var roots: [Hash256]

    var testDescription: String { "\(source) \(oldSize) -> \(newSize)" }
}

private func merkleTestInclusionCases() throws -> [MerkleTestInclusionCase] {
    let tree = try MerkleTestTree.load()
    var cases: [MerkleTestInclusionCase] = []
    for (name, file) in [
        ("upstream", try merkleTestLoad("rfc6962")), ("derived", try merkleTestLoad("rfc6962_derived_all_proofs")),
    ] {
        for vector in file.inclusionProofs {
            let root = try vector.expectedRootHex.map(merkleTestHash) ?? tree.roots[vector.treeSize]
            cases.append(
                MerkleTestInclusionCase(
                    source: name,
                    index: vector.leafIndex,
                    size: vector.treeSize,
                    proof: try vector.proofHex.map(merkleTestHash),
                    root: root,
                    leafHashes: tree.leafHashes,
                    roots: tree.roots
                )
            )
        }
    }
    return cases
}

private func merkleTestConsistencyCases() throws -> [MerkleTestConsistencyCase] {
    let tree = try MerkleTestTree.load()
    var cases: [MerkleTestConsistencyCase] = []
    for (name, file) in [
        ("upstream", try merkleTestLoad("rfc6962")), ("derived", try merkleTestLoad("rfc6962_derived_all_proofs")),
    ] {
        for vector in file.consistencyProofs {
            cases.append(
                MerkleTestConsistencyCase(
                    source: name,
                    oldSize: vector.firstSize,
                    newSize: vector.secondSize,
                    proof: try vector.proofHex.map(merkleTestHash),
                    oldRoot: try vector.firstRootHex.map(merkleTestHash) ?? tree.roots[vector.firstSize],
                    newRoot: try vector.secondRootHex.map(merkleTestHash) ?? tree.roots[vector.secondSize],
                    leafHashes: tree.leafHashes,
                    roots: tree.roots
                )
            )
        }
    }
    return cases
}

// MARK: - Deterministic randomness and an independent reference

private func merkleTestRandomLeafHashes(count: Int, seed: UInt64) -> [Hash256] {
    var generator = SeededRandom(seed: seed)
    return (0..<count).map { _ in
        let length = Int(generator.next() % 40)
        let leaf = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        return MerkleTree.leafHash(leaf)
    }
}

/// The largest power of two strictly below `n` (for n > 1), as RFC 9162 §2.1.1 splits trees.
private func merkleTestSplit(_ n: Int) -> Int {
    var k = 1
    while k << 1 < n {
        k <<= 1
    }
    return k
}

/// MTH(D[lo:hi]) straight from the recursive definition in RFC 9162 §2.1.1.
private func merkleTestReferenceRoot(_ leafHashes: [Hash256], _ lo: Int, _ hi: Int) -> Hash256 {
    if hi - lo == 0 {
        return Hash256.sha256([UInt8]())
    }
    if hi - lo == 1 {
        return leafHashes[lo]
    }
    let k = merkleTestSplit(hi - lo)
    return MerkleTree.nodeHash(
        merkleTestReferenceRoot(leafHashes, lo, lo + k),
        merkleTestReferenceRoot(leafHashes, lo + k, hi)
    )
}

/// The subtrees of PATH(m, D[lo:hi]) (RFC 9162 §2.1.3.1), bottom-up.
private func merkleTestPathRanges(_ index: Int, _ lo: Int, _ hi: Int) -> [Range<Int>] {
    if hi - lo <= 1 {
        return []
    }
    let k = merkleTestSplit(hi - lo)
    if index < lo + k {
        return merkleTestPathRanges(index, lo, lo + k) + [(lo + k)..<hi]
    }
    return merkleTestPathRanges(index, lo + k, hi) + [lo..<(lo + k)]
}

/// The subtrees of SUBPROOF(m, D[lo:hi], b) (RFC 9162 §2.1.4.1).
private func merkleTestSubproofRanges(_ m: Int, _ lo: Int, _ hi: Int, _ complete: Bool) -> [Range<Int>] {
    if lo + m == hi {
        return complete ? [] : [lo..<hi]
    }
    let k = merkleTestSplit(hi - lo)
    if m <= k {
        return merkleTestSubproofRanges(m, lo, lo + k, complete) + [(lo + k)..<hi]
    }
    return merkleTestSubproofRanges(m - k, lo + k, hi, false) + [lo..<(lo + k)]
}

private func merkleTestConsistencyRanges(_ oldSize: Int, _ newSize: Int) -> [Range<Int>] {
    oldSize == 0 || oldSize == newSize ? [] : merkleTestSubproofRanges(oldSize, 0, newSize, true)
}

/// MTH(D[lo:hi]) computed from the recursive definition where every subtree in `known` is taken as given; nil when
/// a needed leaf is not known.
private func merkleTestEvaluate(_ lo: Int, _ hi: Int, _ known: [Range<Int>: Hash256]) -> Hash256? {
    if let hash = known[lo..<hi] {
        return hash
    }
    if hi - lo <= 1 {
        return nil
    }
    let k = merkleTestSplit(hi - lo)
    guard let left = merkleTestEvaluate(lo, lo + k, known), let right = merkleTestEvaluate(lo + k, hi, known) else {
        return nil
    }
    return MerkleTree.nodeHash(left, right)
}

/// A reference verifier built only from the recursive definitions of RFC 9162 §2.1.3.1: the proof names the
/// subtrees of PATH(index, D[size]) in order, and the root they rebuild with the leaf must be `root`.
private func merkleTestReferenceAcceptsInclusion(_ input: MerkleTestInclusionInput) -> Bool {
    guard input.index >= 0, input.index < input.size else { return false }
    let ranges = merkleTestPathRanges(input.index, 0, input.size)
    guard ranges.count == input.proof.count else { return false }
    var known: [Range<Int>: Hash256] = [input.index..<(input.index + 1): input.leafHash]
    for (range, hash) in zip(ranges, input.proof) {
        known[range] = hash
    }
    return merkleTestEvaluate(0, input.size, known) == input.root
}

/// The same for consistency (RFC 9162 §2.1.4.1): the proof names the subtrees of PROOF(old, D[new]), the old root
/// stands for D[0:old] when old is a power of two, and both rebuilt roots must match. Any tree is consistent with
/// the empty tree, whose root is SHA-256("").
private func merkleTestReferenceAcceptsConsistency(_ input: MerkleTestConsistencyInput) -> Bool {
    let empty = Hash256.sha256([UInt8]())
    let (old, new) = (input.oldSize, input.newSize)
    guard old >= 0, old <= new else { return false }
    if old == 0 {
        return input.proof.isEmpty && input.oldRoot == empty && (new > 0 || input.newRoot == empty)
    }
    if old == new {
        return input.proof.isEmpty && input.oldRoot == input.newRoot
    }
    let ranges = merkleTestConsistencyRanges(old, new)
    guard ranges.count == input.proof.count else { return false }
    var known: [Range<Int>: Hash256] = [:]
    if old & (old - 1) == 0 {
        known[0..<old] = input.oldRoot
    }
    for (range, hash) in zip(ranges, input.proof) {
        known[range] = hash
    }
    return merkleTestEvaluate(0, old, known) == input.oldRoot && merkleTestEvaluate(0, new, known) == input.newRoot
}

private func merkleTestFlipBit(_ hash: Hash256, _ bit: Int) -> Hash256 {
    var bytes = hash.bytes
    bytes[bit / 8] ^= 1 << UInt8(bit % 8)
    return Hash256(bytes: bytes) ?? hash
}

/// A corrupted proof. Twins that only change hashes must be rejected outright. Twins that change the index or the
/// sizes must be judged as the reference verifier judges them, because some such claims are true: RFC 9162 proofs
/// do not commit to the tree size (leaf 0's proof in a tree of 3 also verifies against the same root "in a tree of
/// 4"; the signed tree head is what binds the size), and any tree is consistent with the empty tree.
private struct MerkleTestTwin<Input> {
    enum Expectation {
        case reject
        case asReference
    }

    var label: String
    var input: Input
    var expectation: Expectation = .reject
}

private struct MerkleTestInclusionInput {
    var leafHash: Hash256
    var index: Int
    var size: Int
    var proof: [Hash256]
    var root: Hash256
}

private struct MerkleTestConsistencyInput {
    var oldSize: Int
    var newSize: Int
    var oldRoot: Hash256
    var newRoot: Hash256
    var proof: [Hash256]
}

/// Variants of a proof list that differ from it: each bit (or every 8th bit) of each hash flipped, each hash dropped,
/// a hash added at either end, every pair of distinct hashes swapped.
private func merkleTestCorruptedProofs(_ proof: [Hash256], allBits: Bool) -> [(String, [Hash256])] {
    var twins: [(String, [Hash256])] = []
    let stranger = Hash256.sha256(Array("not in this tree".utf8))
    for position in proof.indices {
        for bit in stride(from: 0, to: 256, by: allBits ? 1 : 9) {
            var flipped = proof
            flipped[position] = merkleTestFlipBit(proof[position], bit)
            twins.append(("bit \(bit) of hash \(position) flipped", flipped))
        }
        var dropped = proof
        dropped.remove(at: position)
        twins.append(("hash \(position) dropped", dropped))
        for other in proof.indices where other > position && proof[other] != proof[position] {
            var swapped = proof
            swapped.swapAt(position, other)
            twins.append(("hashes \(position) and \(other) swapped", swapped))
        }
    }
    twins.append(("stranger appended", proof + [stranger]))
    twins.append(("stranger prepended", [stranger] + proof))
    twins.append(("zero hash appended", proof + [Hash256.zero]))
    if let last = proof.last {
        twins.append(("last hash repeated", proof + [last]))
    }
    if let first = proof.first {
        twins.append(("first hash repeated in front", [first] + proof))
    }
    return twins
}

private func merkleTestInclusionTwins(
    index: Int,
    size: Int,
    proof: [Hash256],
    leafHashes: [Hash256],
    roots: [Hash256],
    allBits: Bool
) -> [MerkleTestTwin<MerkleTestInclusionInput>] {
    let valid = MerkleTestInclusionInput(
        leafHash: leafHashes[index],
        index: index,
        size: size,
        proof: proof,
        root: roots[size]
    )
    var twins: [MerkleTestTwin<MerkleTestInclusionInput>] = []
    for (label, corrupted) in merkleTestCorruptedProofs(proof, allBits: allBits) {
        var input = valid
        input.proof = corrupted
        twins.append(MerkleTestTwin(label: label, input: input))
    }
    for wrongIndex in Set([index - 1, index + 1, index ^ 1, index ^ 2, size, -1]) where wrongIndex != index {
        var input = valid
        input.index = wrongIndex
        twins.append(
            MerkleTestTwin(
                label: "leaf index \(wrongIndex)",
                input: input,
                expectation: .asReference
            )
        )
    }
    for wrongSize in Set([size - 1, size + 1, size * 2, size / 2, size + 3, 0, -1]) where wrongSize != size {
        var input = valid
        input.size = wrongSize
        // Same root: only a verifier that cannot tell the two shapes apart may accept (RFC 9162 proofs do not
        // commit to the tree size).
        twins.append(
            MerkleTestTwin(
                label: "tree size \(wrongSize), same root",
                input: input,
                expectation: .asReference
            )
        )
        if wrongSize >= 0, wrongSize < roots.count {
            input.root = roots[wrongSize]
            twins.append(
                MerkleTestTwin(
                    label: "tree size \(wrongSize) with its own root",
                    input: input,
                    expectation: .asReference
                )
            )
        }
    }
    for (otherSize, otherRoot) in roots.enumerated() where otherRoot != valid.root {
        var input = valid
        input.root = otherRoot
        twins.append(MerkleTestTwin(label: "root of size \(otherSize)", input: input))
    }
    for bit in stride(from: 0, to: 256, by: allBits ? 1 : 9) {
        var input = valid
        input.root = merkleTestFlipBit(valid.root, bit)
        twins.append(MerkleTestTwin(label: "root bit \(bit) flipped", input: input))
        input = valid
        input.leafHash = merkleTestFlipBit(valid.leafHash, bit)
        twins.append(MerkleTestTwin(label: "leaf hash bit \(bit) flipped", input: input))
    }
    for (otherIndex, otherLeaf) in leafHashes.enumerated() where otherLeaf != valid.leafHash {
        var input = valid
        input.leafHash = otherLeaf
        twins.append(MerkleTestTwin(label: "leaf hash of leaf \(otherIndex)", input: input))
    }
    var input = valid
    input.root = Hash256.zero
    twins.append(MerkleTestTwin(label: "zero root", input: input))
    input = valid
    input.root = valid.leafHash
    twins.append(MerkleTestTwin(label: "leaf hash as root", input: input, expectation: .asReference))
    return twins
}

private func merkleTestConsistencyTwins(
    oldSize: Int,
    newSize: Int,
    proof: [Hash256],
    roots: [Hash256],
    allBits: Bool
) -> [MerkleTestTwin<MerkleTestConsistencyInput>] {
    let valid = MerkleTestConsistencyInput(
        oldSize: oldSize,
        newSize: newSize,
        oldRoot: roots[oldSize],
        newRoot: roots[newSize],
        proof: proof
    )
    var twins: [MerkleTestTwin<MerkleTestConsistencyInput>] = []
    for (label, corrupted) in merkleTestCorruptedProofs(proof, allBits: allBits) {
        var input = valid
        input.proof = corrupted
        twins.append(MerkleTestTwin(label: label, input: input))
    }
    // With an old size of 0 the new root is unconstrained, so changing it alone is no corruption.
    let newRootExpectation: MerkleTestTwin<MerkleTestConsistencyInput>.Expectation =
        oldSize == 0 && newSize > 0 ? .asReference : .reject
    for wrongOld in Set([oldSize - 1, oldSize + 1, oldSize * 2, oldSize / 2, 0, newSize, newSize + 1, -1])
    where wrongOld != oldSize {
        var input = valid
        input.oldSize = wrongOld
        twins.append(
            MerkleTestTwin(
                label: "old size \(wrongOld), same roots",
                input: input,
                expectation: .asReference
            )
        )
        if wrongOld >= 0, wrongOld < roots.count {
            input.oldRoot = roots[wrongOld]
            twins.append(
                MerkleTestTwin(label: "old size \(wrongOld) with its own root", input: input, expectation: .asReference)
            )
        }
    }
    for wrongNew in Set([newSize - 1, newSize + 1, newSize * 2, newSize / 2, oldSize, oldSize - 1])
    where wrongNew != newSize {
        var input = valid
        input.newSize = wrongNew
        twins.append(
            MerkleTestTwin(
                label: "new size \(wrongNew), same roots",
                input: input,
                expectation: .asReference
            )
        )
        if wrongNew >= 0, wrongNew < roots.count {
            input.newRoot = roots[wrongNew]
            twins.append(
                MerkleTestTwin(label: "new size \(wrongNew) with its own root", input: input, expectation: .asReference)
            )
        }
    }
    if valid.oldRoot != valid.newRoot {
        var input = valid
        input.oldRoot = valid.newRoot
        input.newRoot = valid.oldRoot
        twins.append(MerkleTestTwin(label: "roots swapped", input: input))
    }
    for (otherSize, otherRoot) in roots.enumerated() {
        if otherRoot != valid.oldRoot {
            var input = valid
            input.oldRoot = otherRoot
            twins.append(MerkleTestTwin(label: "old root of size \(otherSize)", input: input))
        }
        if otherRoot != valid.newRoot {
            var input = valid
            input.newRoot = otherRoot
            twins.append(
                MerkleTestTwin(label: "new root of size \(otherSize)", input: input, expectation: newRootExpectation)
            )
        }
    }
    for bit in stride(from: 0, to: 256, by: allBits ? 1 : 9) {
        var input = valid
        input.oldRoot = merkleTestFlipBit(valid.oldRoot, bit)
        twins.append(MerkleTestTwin(label: "old root bit \(bit) flipped", input: input))
        input = valid
        input.newRoot = merkleTestFlipBit(valid.newRoot, bit)
        twins.append(
            MerkleTestTwin(label: "new root bit \(bit) flipped", input: input, expectation: newRootExpectation)
        )
    }
    return twins
}

/// Runs every twin and returns the labels of those whose outcome is wrong.
private func merkleTestCheckInclusionTwins(_ twins: [MerkleTestTwin<MerkleTestInclusionInput>]) -> [String] {
    twins.compactMap { twin in
        let input = twin.input
        let rejected: Bool
        do {
            try MerkleTree.verifyInclusion(
                leafHash: input.leafHash,
                leafIndex: input.index,
                treeSize: input.size,
                proof: input.proof,
                root: input.root
            )
            rejected = false
        } catch {
            rejected = true
        }
        let mustReject =
            switch twin.expectation {
            case .reject: true
            case .asReference: !merkleTestReferenceAcceptsInclusion(input)
            }
        return rejected == mustReject ? nil : "\(twin.label): rejected = \(rejected)"
    }
}

private func merkleTestCheckConsistencyTwins(_ twins: [MerkleTestTwin<MerkleTestConsistencyInput>]) -> [String] {
    twins.compactMap { twin in
        let input = twin.input
        let rejected: Bool
        do {
            try MerkleTree.verifyConsistency(
                oldSize: input.oldSize,
                newSize: input.newSize,
                oldRoot: input.oldRoot,
                newRoot: input.newRoot,
                proof: input.proof
            )
            rejected = false
        } catch {
            rejected = true
        }
        let mustReject =
            switch twin.expectation {
            case .reject: true
            case .asReference: !merkleTestReferenceAcceptsConsistency(input)
            }
        return rejected == mustReject ? nil : "\(twin.label): rejected = \(rejected)"
    }
}

// MARK: - Tests

@Suite("Hash256")
struct MerkleTreeHash256Tests {
    @Test func hexRoundTripAndValidation() throws {
        let hex = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        let hash = try #require(Hash256(hex: hex))
        #expect(hash.hex == hex)
        #expect(hash.description == hex)
        #expect(hash.bytes.count == 32)
        #expect(Hash256(hex: hex.uppercased()) == hash)
        #expect(Hash256(bytes: hash.bytes) == hash)
        #expect(Hash256(bytes: hash.bytes[...]) == hash)
        #expect(Hash256(hex: String(hex.dropLast())) == nil)
        #expect(Hash256(hex: hex + "00") == nil)
        #expect(Hash256(hex: String(hex.dropLast()) + "g") == nil)
        #expect(Hash256(hex: "") == nil)
        #expect(Hash256(bytes: [UInt8](repeating: 1, count: 31)) == nil)
        #expect(Hash256(bytes: [UInt8](repeating: 1, count: 33)) == nil)
        #expect(Hash256.zero.bytes == [UInt8](repeating: 0, count: 32))
        #expect(Hash256.zero.hex == String(repeating: "0", count: 64))
    }

    @Test func orderingIsLexicographicOverBytes() throws {
        let low = try #require(Hash256(hex: "00" + String(repeating: "ff", count: 31)))
        let high = try #require(Hash256(hex: "01" + String(repeating: "00", count: 31)))
        #expect(Hash256.zero < low)
        #expect(low < high)
        #expect(!(high < low))
        #expect([high, low, Hash256.zero].sorted() == [Hash256.zero, low, high])
    }

    @Test func sha256AcceptsAnyByteSequence() throws {
        let bytes = Array("abc".utf8)
        let expected = try #require(
            Hash256(hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        )
        #expect(Hash256.sha256(bytes) == expected)
        #expect(Hash256.sha256(([0] + bytes)[1...]) == expected)
        #expect(Hash256.sha256(Data(bytes)) == expected)
        #expect(Hash256.sha256("abc".utf8) == expected)
        #expect(Hash256.sha256(bytes.lazy.map { $0 }) == expected)
        #expect(Hash256.sha256([UInt8]()).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}

@Suite("MerkleTree")
struct MerkleTreeTests {
    @Test func hasherVectors() throws {
        let file = try merkleTestLoad("rfc6962")
        let vectors = try #require(file.hasherVectors)
        #expect(vectors.count == 4)
        for vector in vectors {
            let expected = try merkleTestHash(vector.expectedHex)
            if let leafHex = vector.leafHex {
                let leaf = try merkleTestBytes(leafHex)
                #expect(MerkleTree.leafHash(leaf) == expected, "\(vector.desc)")
                #expect(MerkleTree.leafHash(leaf[...]) == expected, "\(vector.desc)")
            } else if let leftHex = vector.leftHex, let rightHex = vector.rightHex {
                // Upstream's node vector hashes raw 4-byte children, which nodeHash's 32-byte Hash256 cannot hold; it
                // pins the 0x01 domain prefix, and nodeHash is checked against the same formula below.
                let raw = [0x01] + (try merkleTestBytes(leftHex)) + (try merkleTestBytes(rightHex))
                #expect(Hash256.sha256(raw) == expected, "\(vector.desc)")
            } else {
                #expect(MerkleTree.root(of: [Hash256]()) == expected, "\(vector.desc)")
                #expect(MerkleFrontier().root == expected, "\(vector.desc)")
            }
        }
        let left = Hash256.sha256(Array("left".utf8))
        let right = Hash256.sha256(Array("right".utf8))
        #expect(MerkleTree.nodeHash(left, right) == Hash256.sha256([0x01] + left.bytes + right.bytes))
        #expect(MerkleTree.nodeHash(left, right) != MerkleTree.nodeHash(right, left))
        #expect(MerkleTree.leafHash(Array("x".utf8)) == Hash256.sha256([0x00] + Array("x".utf8)))
    }

    @Test func leafAndSubtreeHashes() throws {
        let file = try merkleTestLoad("rfc6962")
        let tree = try MerkleTestTree.load()
        let leafHashesHex = try #require(file.leafHashesHex)
        #expect(tree.leafHashes.map(\.hex) == leafHashesHex)
        let levels = try #require(file.nodeHashesHex)
        #expect(levels.count == 4)
        var level = tree.leafHashes
        for (height, expected) in levels.enumerated() {
            #expect(level.map(\.hex) == expected, "level \(height)")
            level = stride(from: 0, to: level.count - 1, by: 2).map { MerkleTree.nodeHash(level[$0], level[$0 + 1]) }
        }
    }

    @Test func rootsForSizesZeroThroughEight() throws {
        let tree = try MerkleTestTree.load()
        #expect(tree.roots.count == 9)
        var frontier = MerkleFrontier()
        for size in 0...8 {
            let prefix = tree.leafHashes.prefix(size)
            #expect(MerkleTree.root(of: prefix) == tree.roots[size], "size \(size)")
            #expect(MerkleTree.root(of: Array(prefix)) == tree.roots[size], "size \(size)")
            #expect(merkleTestReferenceRoot(tree.leafHashes, 0, size) == tree.roots[size], "size \(size)")
            #expect(frontier.size == size)
            #expect(frontier.root == tree.roots[size], "frontier size \(size)")
            if size < 8 {
                frontier.append(tree.leafHashes[size])
            }
        }
    }

    @Test func vectorCounts() throws {
        let inclusion = try merkleTestInclusionCases()
        let consistency = try merkleTestConsistencyCases()
        #expect(inclusion.filter { $0.source == "upstream" }.count == 5)
        #expect(inclusion.filter { $0.source == "derived" }.count == 36)
        #expect(consistency.filter { $0.source == "upstream" }.count == 5)
        #expect(consistency.filter { $0.source == "derived" }.count == 36)
    }

    @Test(arguments: try merkleTestInclusionCases())
    fileprivate func inclusionProofVector(_ vector: MerkleTestInclusionCase) throws {
        #expect(vector.root == vector.roots[vector.size])
        let leaves = vector.leafHashes.prefix(vector.size)
        let generated = try MerkleTree.inclusionProof(leafIndex: vector.index, leafHashes: leaves)
        #expect(generated == vector.proof)
        let input = MerkleTestInclusionInput(
            leafHash: vector.leafHashes[vector.index],
            index: vector.index,
            size: vector.size,
            proof: vector.proof,
            root: vector.root
        )
        #expect(merkleTestReferenceAcceptsInclusion(input))
        try MerkleTree.verifyInclusion(
            leafHash: vector.leafHashes[vector.index],
            leafIndex: vector.index,
            treeSize: vector.size,
            proof: vector.proof,
            root: vector.root
        )
    }

    @Test(arguments: try merkleTestConsistencyCases())
    fileprivate func consistencyProofVector(_ vector: MerkleTestConsistencyCase) throws {
        #expect(vector.oldRoot == vector.roots[vector.oldSize])
        #expect(vector.newRoot == vector.roots[vector.newSize])
        let leaves = vector.leafHashes.prefix(vector.newSize)
        let generated = try MerkleTree.consistencyProof(oldSize: vector.oldSize, leafHashes: leaves)
        #expect(generated == vector.proof)
        let input = MerkleTestConsistencyInput(
            oldSize: vector.oldSize,
            newSize: vector.newSize,
            oldRoot: vector.oldRoot,
            newRoot: vector.newRoot,
            proof: vector.proof
        )
        #expect(merkleTestReferenceAcceptsConsistency(input))
        try MerkleTree.verifyConsistency(
            oldSize: vector.oldSize,
            newSize: vector.newSize,
            oldRoot: vector.oldRoot,
            newRoot: vector.newRoot,
            proof: vector.proof
        )
    }

    @Test(arguments: try merkleTestInclusionCases())
    fileprivate func corruptedInclusionProofsAreRejected(_ vector: MerkleTestInclusionCase) {
        let twins = merkleTestInclusionTwins(
            index: vector.index,
            size: vector.size,
            proof: vector.proof,
            leafHashes: vector.leafHashes,
            roots: vector.roots,
            allBits: true
        )
        #expect(twins.count > 300)
        #expect(twins.filter { $0.expectation == .reject }.count > 300)
        #expect(merkleTestCheckInclusionTwins(twins) == [])
    }

    @Test(arguments: try merkleTestConsistencyCases())
    fileprivate func corruptedConsistencyProofsAreRejected(_ vector: MerkleTestConsistencyCase) {
        let twins = merkleTestConsistencyTwins(
            oldSize: vector.oldSize,
            newSize: vector.newSize,
            proof: vector.proof,
            roots: vector.roots,
            allBits: true
        )
        #expect(twins.count > 500)
        #expect(merkleTestCheckConsistencyTwins(twins) == [])
    }

    /// A proof for one size that verifies against the same root at another size must be one whose path has the
    /// same shape; this pins the known case (leaf 0 of 3 and of 4) so the exemption above is not vacuous or wrong.
    @Test func inclusionProofsDoNotCommitToTreeSize() throws {
        let tree = try MerkleTestTree.load()
        let proof = try MerkleTree.inclusionProof(leafIndex: 0, leafHashes: tree.leafHashes.prefix(3))
        #expect(merkleTestPathRanges(0, 0, 3).count == merkleTestPathRanges(0, 0, 4).count)
        try MerkleTree.verifyInclusion(
            leafHash: tree.leafHashes[0],
            leafIndex: 0,
            treeSize: 4,
            proof: proof,
            root: tree.roots[3]
        )
        #expect(throws: MerkleError.self) {
            try MerkleTree.verifyInclusion(
                leafHash: tree.leafHashes[0],
                leafIndex: 0,
                treeSize: 4,
                proof: proof,
                root: tree.roots[4]
            )
        }
    }

    @Test func frontierMatchesRootForSizesUpTo300() {
        let leaves = merkleTestRandomLeafHashes(count: 300, seed: 0x6D65_726B_6C65)
        var frontier = MerkleFrontier()
        #expect(frontier.root == MerkleTree.root(of: [Hash256]()))
        for size in 1...300 {
            frontier.append(leaves[size - 1])
            #expect(frontier.size == size)
            #expect(frontier.root == MerkleTree.root(of: leaves[..<size]), "size \(size)")
        }
    }

    /// Every inclusion and consistency proof for sizes 1...70 over seeded random leaves: equal to the recursive
    /// definitions of RFC 9162, and verified.
    @Test func randomizedCrossCheckUpTo70() throws {
        let leaves = merkleTestRandomLeafHashes(count: 70, seed: 42)
        let roots = (0...70).map { merkleTestReferenceRoot(leaves, 0, $0) }
        var checked = 0
        for size in 1...70 {
            let tree = leaves[..<size]
            #expect(MerkleTree.root(of: tree) == roots[size], "size \(size)")
            for index in 0..<size {
                let proof = try MerkleTree.inclusionProof(leafIndex: index, leafHashes: tree)
                let expected = merkleTestPathRanges(index, 0, size).map {
                    merkleTestReferenceRoot(leaves, $0.lowerBound, $0.upperBound)
                }
                #expect(proof == expected, "inclusion \(index) of \(size)")
                try MerkleTree.verifyInclusion(
                    leafHash: leaves[index],
                    leafIndex: index,
                    treeSize: size,
                    proof: proof,
                    root: roots[size]
                )
                checked += 1
            }
            for oldSize in 0...size {
                let proof = try MerkleTree.consistencyProof(oldSize: oldSize, leafHashes: tree)
                let expected = merkleTestConsistencyRanges(oldSize, size).map {
                    merkleTestReferenceRoot(leaves, $0.lowerBound, $0.upperBound)
                }
                #expect(proof == expected, "consistency \(oldSize) -> \(size)")
                try MerkleTree.verifyConsistency(
                    oldSize: oldSize,
                    newSize: size,
                    oldRoot: roots[oldSize],
                    newRoot: roots[size],
                    proof: proof
                )
                checked += 1
            }
        }
        #expect(checked == 2485 + 2555)
    }

    /// The adversarial twins again, on every proof of seeded random trees up to size 20 (every 9th bit flipped).
    @Test func randomizedCorruptedProofsAreRejected() throws {
        let leaves = merkleTestRandomLeafHashes(count: 20, seed: 7)
        let roots = (0...20).map { MerkleTree.root(of: leaves[..<$0]) }
        var failures: [String] = []
        for size in 1...20 {
            for index in 0..<size {
                let proof = try MerkleTree.inclusionProof(leafIndex: index, leafHashes: leaves[..<size])
                let twins = merkleTestInclusionTwins(
                    index: index,
                    size: size,
                    proof: proof,
                    leafHashes: Array(leaves[..<size]),
                    roots: roots,
                    allBits: false
                )
                failures += merkleTestCheckInclusionTwins(twins).map { "inclusion \(index) of \(size): \($0)" }
            }
            for oldSize in 0...size {
                let proof = try MerkleTree.consistencyProof(oldSize: oldSize, leafHashes: leaves[..<size])
                let twins = merkleTestConsistencyTwins(
                    oldSize: oldSize,
                    newSize: size,
                    proof: proof,
                    roots: roots,
                    allBits: false
                )
                failures += merkleTestCheckConsistencyTwins(twins).map { "consistency \(oldSize) -> \(size): \($0)" }
            }
        }
        #expect(failures == [])
    }

    @Test func emptyAndEqualSizeConsistency() throws {
        let leaves = merkleTestRandomLeafHashes(count: 5, seed: 1)
        let root = MerkleTree.root(of: leaves)
        let empty = MerkleTree.root(of: [Hash256]())
        #expect(try MerkleTree.consistencyProof(oldSize: 0, leafHashes: leaves) == [])
        #expect(try MerkleTree.consistencyProof(oldSize: 5, leafHashes: leaves) == [])
        try MerkleTree.verifyConsistency(oldSize: 0, newSize: 5, oldRoot: empty, newRoot: root, proof: [])
        try MerkleTree.verifyConsistency(oldSize: 5, newSize: 5, oldRoot: root, newRoot: root, proof: [])
        try MerkleTree.verifyConsistency(oldSize: 0, newSize: 0, oldRoot: empty, newRoot: empty, proof: [])
        let wrongEmpty = #expect(throws: MerkleError.self) {
            try MerkleTree.verifyConsistency(oldSize: 0, newSize: 5, oldRoot: Hash256.zero, newRoot: root, proof: [])
        }
        #expect(wrongEmpty?.code == "merkle.rootMismatch")
        let differentRoots = #expect(throws: MerkleError.self) {
            try MerkleTree.verifyConsistency(oldSize: 5, newSize: 5, oldRoot: root, newRoot: empty, proof: [])
        }
        #expect(differentRoots?.code == "merkle.rootMismatch")
        let nonEmpty = #expect(throws: MerkleError.self) {
            try MerkleTree.verifyConsistency(oldSize: 5, newSize: 5, oldRoot: root, newRoot: root, proof: [root])
        }
        #expect(nonEmpty?.code == "merkle.wrongProofSize")
    }

    @Test func errorCodes() throws {
        let leaves = merkleTestRandomLeafHashes(count: 6, seed: 3)
        let root = MerkleTree.root(of: leaves)
        for index in [-1, 6, 7, Int.max, Int.min] {
            let error = #expect(throws: MerkleError.self) {
                try MerkleTree.inclusionProof(leafIndex: index, leafHashes: leaves)
            }
            #expect(error?.code == "merkle.indexOutOfRange")
        }
        let emptyTree = #expect(throws: MerkleError.self) {
            try MerkleTree.inclusionProof(leafIndex: 0, leafHashes: [Hash256]())
        }
        #expect(emptyTree?.code == "merkle.indexOutOfRange")
        for oldSize in [-1, 7, Int.max] {
            let error = #expect(throws: MerkleError.self) {
                try MerkleTree.consistencyProof(oldSize: oldSize, leafHashes: leaves)
            }
            #expect(error?.code == "merkle.badSizes")
        }
        let proof = try MerkleTree.inclusionProof(leafIndex: 2, leafHashes: leaves)
        let outOfRange = #expect(throws: MerkleError.self) {
            try MerkleTree.verifyInclusion(leafHash: leaves[2], leafIndex: 2, treeSize: 0, proof: proof, root: root)
        }
        #expect(outOfRange?.code == "merkle.indexOutOfRange")
        let short = #expect(throws: MerkleError.self) {
            try MerkleTree.verifyInclusion(
                leafHash: leaves[2],
                leafIndex: 2,
                treeSize: 6,
                proof: Array(proof.dropLast()),
                root: root
            )
        }
        #expect(short?.code == "merkle.wrongProofSize")
        let mismatch = #expect(throws: MerkleError.self) {
            try MerkleTree.verifyInclusion(leafHash: leaves[3], leafIndex: 2, treeSize: 6, proof: proof, root: root)
        }
        #expect(mismatch?.code == "merkle.rootMismatch")
        let shrinking = #expect(throws: MerkleError.self) {
            try MerkleTree.verifyConsistency(oldSize: 6, newSize: 5, oldRoot: root, newRoot: root, proof: [])
        }
        #expect(shrinking?.code == "merkle.badSizes")
        let negative = #expect(throws: MerkleError.self) {
            try MerkleTree.verifyConsistency(oldSize: -1, newSize: 5, oldRoot: root, newRoot: root, proof: [])
        }
        #expect(negative?.code == "merkle.badSizes")
        let emptyProof = #expect(throws: MerkleError.self) {
            try MerkleTree.verifyConsistency(oldSize: 3, newSize: 6, oldRoot: root, newRoot: root, proof: [])
        }
        #expect(emptyProof?.code == "merkle.wrongProofSize")
        if let error = mismatch {
            #expect(error.description == "\(error.code): \(error.reason)")
            #expect(!error.reason.isEmpty)
        }
    }

    /// A smoke test at log scale (the timing itself is measured in a release build, not here).
    @Test func largeTreeAgreesWithFrontier() throws {
        let leaves = merkleTestRandomLeafHashes(count: 100_000, seed: 100_000)
        var frontier = MerkleFrontier()
        for leaf in leaves {
            frontier.append(leaf)
        }
        let root = MerkleTree.root(of: leaves)
        #expect(frontier.root == root)
        for index in [0, 1, 65_535, 65_536, 99_998, 99_999] {
            let proof = try MerkleTree.inclusionProof(leafIndex: index, leafHashes: leaves)
            try MerkleTree.verifyInclusion(
                leafHash: leaves[index],
                leafIndex: index,
                treeSize: leaves.count,
                proof: proof,
                root: root
            )
        }
        let oldRoot = MerkleTree.root(of: leaves[..<70_001])
        let consistency = try MerkleTree.consistencyProof(oldSize: 70_001, leafHashes: leaves)
        try MerkleTree.verifyConsistency(
            oldSize: 70_001,
            newSize: leaves.count,
            oldRoot: oldRoot,
            newRoot: root,
            proof: consistency
        )
    }
}
