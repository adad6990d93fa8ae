import LedgerML
import LedgerTesting
import Testing

@Suite("Isolation Forest artifact")
struct ArtifactTests {
    static func model(trees: Int = 8, seed: UInt64 = 1) throws -> IsolationForest {
        let data = try gaussianMatrix(rows: 200, columns: 3, seed: 8)
        return try IsolationForest.train(data, parameters: .init(trees: trees, samples: 32, seed: seed))
    }

    /// Replaces the CRC-32 trailer so that a structurally damaged artifact passes the checksum and
    /// reaches the structural checks.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var body = Array(bytes.dropLast(4))
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in body {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        crc ^= 0xFFFF_FFFF
        withUnsafeBytes(of: crc.littleEndian) { body.append(contentsOf: $0) }
        return body
    }

    @Test("serialize → parse → serialize is the identity, and scores survive")
    func roundTrip() throws {
        let model = try Self.model()
        let bytes = model.serialized()
        let parsed = try IsolationForest(serialized: bytes)
        #expect(parsed == model)
        #expect(parsed.serialized() == bytes)
        #expect(parsed.parameters == model.parameters)
        #expect(parsed.featureNames == ["f0", "f1", "f2"])
        let data = try gaussianMatrix(rows: 50, columns: 3, seed: 99)
        #expect(try parsed.scores(data) == model.scores(data))
    }

    @Test("the header layout matches docs/model-format.md")
    func headerLayout() throws {
        let bytes = try Self.model().serialized()
        #expect(Array(bytes[0..<8]) == [0x89, 0x4C, 0x4D, 0x4C, 0x49, 0x46, 0x0D, 0x0A])
        #expect(Array(bytes[8..<12]) == [1, 0, 0, 0])  // version 1, flags 0
        #expect(Array(bytes[12..<16]) == [8, 0, 0, 0])  // trees
        #expect(Array(bytes[16..<20]) == [32, 0, 0, 0])  // samples
        #expect(Array(bytes[20..<24]) == [32, 0, 0, 0])  // ψ
        #expect(Array(bytes[24..<32]) == [0, 0, 0, 0, 0, 0, 0xF0, 0x3F])  // maxFeatures 1.0
        #expect(Array(bytes[32..<40]) == [1, 0, 0, 0, 0, 0, 0, 0])  // seed
        #expect(Array(bytes[40..<48]) == [200, 0, 0, 0, 0, 0, 0, 0])  // training rows
        #expect(Array(bytes[48..<52]) == [3, 0, 0, 0])  // feature count
        #expect(Array(bytes[52..<58]) == [2, 0, 0, 0, 0x66, 0x30])  // "f0"
    }

    @Test("every truncation is refused")
    func truncations() throws {
        let bytes = try Self.model().serialized()
        for length in 0..<bytes.count {
            expectMLError(MLError.modelCode) { _ = try IsolationForest(serialized: Array(bytes[..<length])) }
        }
    }

    @Test("every single-bit flip is refused")
    func bitFlips() throws {
        let bytes = try Self.model(trees: 3).serialized()
        for index in bytes.indices {
            for bit in 0..<8 {
                var flipped = bytes
                flipped[index] ^= 1 << bit
                expectMLError(MLError.modelCode) { _ = try IsolationForest(serialized: flipped) }
            }
        }
    }

    @Test("wrong magic, another version and trailing bytes are refused with a clear reason")
    func headerErrors() throws {
        let bytes = try Self.model().serialized()
        var magic = bytes
        magic[1] = 0x58
        #expect(
            expectMLError(MLError.modelCode) { _ = try IsolationForest(serialized: magic) }?.reason
                == "not a LedgerML Isolation Forest model: the magic bytes are wrong"
        )
        var version = bytes
        version[8] = 2
        #expect(
            expectMLError(MLError.modelCode) { _ = try IsolationForest(serialized: Self.resealed(version)) }?.reason
                == "unsupported model format version 2; this build reads version 1"
        )
        let trailing = Self.resealed(Array(bytes.dropLast(4)) + [0, 0, 0, 0, 0])
        #expect(
            expectMLError(MLError.modelCode) { _ = try IsolationForest(serialized: trailing) }?.reason
                == "1 unexpected bytes after the last tree"
        )
        expectMLError(MLError.modelCode) { _ = try IsolationForest(serialized: []) }
        expectMLError(MLError.modelCode) { _ = try IsolationForest(serialized: Array("hello, world".utf8)) }
    }

    @Test("structural damage behind a valid checksum is refused, whatever the byte and value")
    func resealedCorruption() throws {
        let bytes = try Self.model(trees: 2).serialized()
        var random = TestRandom(seed: 1)
        var accepted = 0
        for index in 8..<(bytes.count - 4) {
            for value: UInt8 in [0, 1, 2, 0x7F, 0x80, 0xFF, UInt8(random.int(below: 256))] where value != bytes[index] {
                var damaged = bytes
                damaged[index] = value
                // Must never trap. Some changes (a threshold's low bits, the seed) leave a valid
                // model; those must re-serialize to exactly the damaged bytes.
                if let parsed = try? IsolationForest(serialized: Self.resealed(damaged)) {
                    #expect(parsed.serialized() == Self.resealed(damaged))
                    accepted += 1
                }
            }
        }
        #expect(accepted > 0)
    }

    @Test(
        "forged counts and fields are refused before any large allocation",
        arguments: [
            (12, UInt32.max, "the stored parameters are invalid: trees must be in 1...10000, got 4294967295"),
            (12, 10_000, "10000 trees cannot fit in the remaining 1962 bytes"),
            (48, UInt32.max, "the feature count 4294967295 is out of range for 2036 bytes"),
            (52, UInt32.max, "the model is truncated: feature name 1 at byte 56 runs past the end"),
            (20, 31, "the sample size ψ = 31 is not min(samples, training rows)"),
        ] as [(Int, UInt32, String)]
    )
    func forgedFields(offset: Int, value: UInt32, reason: String) throws {
        var bytes = try Self.model().serialized()
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
        let error = expectMLError(MLError.modelCode) { _ = try IsolationForest(serialized: Self.resealed(bytes)) }
        #expect(error?.reason == reason)
    }

    @Test("forged trees are refused: node counts, tags, features, thresholds, leaf sizes and depth")
    func forgedTrees() throws {
        let model = try Self.model(trees: 1)
        let bytes = model.serialized()
        let treeStart = 52 + 3 * 6
        // The first node of the only tree is a split: tag, feature (UInt32), threshold (Float64).
        #expect(bytes[treeStart + 4] == 1)
        func refuse(_ reason: String, _ change: (inout [UInt8]) -> Void) {
            var damaged = bytes
            change(&damaged)
            let error = expectMLError(MLError.modelCode) {
                _ = try IsolationForest(serialized: Self.resealed(damaged))
            }
            #expect(error?.reason == reason)
        }
        refuse("tree 1 declares 4294967295 nodes, which is out of range") {
            $0.replaceSubrange(treeStart..<(treeStart + 4), with: [0xFF, 0xFF, 0xFF, 0xFF])
        }
        refuse("tree 1 declares 0 nodes, which is out of range") {
            $0.replaceSubrange(treeStart..<(treeStart + 4), with: [0, 0, 0, 0])
        }
        refuse("tree 1 has a node with unknown tag 7") { $0[treeStart + 4] = 7 }
        refuse("tree 1 splits on feature 3 of 3") { $0[treeStart + 5] = 3 }
        refuse("tree 1 has a non-finite threshold") {
            $0.replaceSubrange((treeStart + 9)..<(treeStart + 17), with: [0, 0, 0, 0, 0, 0, 0xF8, 0x7F])
        }
        // The root as a leaf of all 32 samples, and the rest as trailing junk.
        refuse("tree 1 has 1 nodes, not the declared \(bytes[treeStart])") {
            $0.replaceSubrange((treeStart + 4)..<(treeStart + 9), with: [0, 32, 0, 0, 0])
        }
        refuse("tree 1 has a leaf of 33 samples, impossible for ψ = 32") {
            $0.replaceSubrange((treeStart + 4)..<(treeStart + 9), with: [0, 33, 0, 0, 0])
        }
        // A chain of splits deeper than ceil(log2 32) = 5.
        var chain: [UInt8] = []
        for _ in 0..<6 { chain += [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] + [0, 1, 0, 0, 0] }
        let header = Array(bytes[..<treeStart])
        let forged = header + [13, 0, 0, 0] + chain + [0, 26, 0, 0, 0] + [0, 0, 0, 0]
        #expect(
            expectMLError(MLError.modelCode) { _ = try IsolationForest(serialized: Self.resealed(forged)) }?.reason
                == "tree 1 is deeper than the height limit 5 for ψ = 32"
        )
    }

    @Test("a forest of single leaves parses: the smallest valid trees")
    func leafOnly() throws {
        let bytes = try Self.model(trees: 1).serialized()
        let treeStart = 52 + 3 * 6
        let forged = Array(bytes[..<treeStart]) + [1, 0, 0, 0, 0, 32, 0, 0, 0] + [0, 0, 0, 0]
        let model = try IsolationForest(serialized: Self.resealed(forged))
        let data = try gaussianMatrix(rows: 3, columns: 3, seed: 1)
        #expect(try model.scores(data) == [0.5, 0.5, 0.5])
    }
}
