/// The versioned binary artifact of an `IsolationForest`; docs/model-format.md describes every field.
extension IsolationForest {
    /// The first 8 bytes of every artifact: `\x89 L M L I F \r \n`.
    public static let artifactMagic: [UInt8] = [0x89, 0x4C, 0x4D, 0x4C, 0x49, 0x46, 0x0D, 0x0A]
    /// The format version `serialized()` writes and the only one `init(serialized:)` reads.
    public static let artifactVersion: UInt16 = 1

    private static let leafTag: UInt8 = 0
    private static let splitTag: UInt8 = 1
    /// The header's fixed part: magic, version, flags, trees, samples, ψ, maxFeatures, seed, rows, names.
    private static let fixedHeaderSize = 52
    private static let checksumSize = 4

    /// The model as artifact bytes (format version 1, little-endian).
    ///
    /// A pure function of the model: the same training data and parameters give the same bytes on
    /// every run and for every thread count.
    public func serialized() -> [UInt8] {
        var writer = ByteWriter()
        writer.write(bytes: Self.artifactMagic)
        writer.write(Self.artifactVersion)
        writer.write(UInt16(0))
        writer.write(UInt32(parameters.trees))
        writer.write(UInt32(parameters.samples))
        writer.write(UInt32(sampleSize))
        writer.write(parameters.maxFeatures)
        writer.write(parameters.seed)
        writer.write(UInt64(trainingRows))
        writer.write(UInt32(featureNames.count))
        for name in featureNames { writer.write(name) }
        for tree in trees {
            writer.write(UInt32(tree.nodes.count))
            // Preorder, left subtree first.
            var stack = [0]
            while let index = stack.popLast() {
                let node = tree.nodes[index]
                if tree.isLeaf(index) {
                    writer.write(Self.leafTag)
                    writer.write(tree.leafSizes[index])
                } else {
                    writer.write(Self.splitTag)
                    writer.write(UInt32(node.feature))
                    writer.write(node.threshold)
                    stack.append(Int(node.left) + 1)
                    stack.append(Int(node.left))
                }
            }
        }
        let checksum = CRC32.checksum(writer.bytes[...])
        writer.write(checksum)
        return writer.bytes
    }

    /// Reads an artifact written by `serialized()`.
    ///
    /// Total: any input that is not a complete, self-consistent version-1 artifact (truncated,
    /// corrupted, trailing bytes, a bad checksum, a field out of range, a tree whose shape or
    /// sample counts are impossible) throws `ml.model`, and no allocation exceeds a small multiple
    /// of `serialized.count`. Re-serializing a parsed model gives the same bytes.
    public init(serialized bytes: [UInt8]) throws(MLError) {
        guard bytes.count >= Self.artifactMagic.count, bytes.starts(with: Self.artifactMagic) else {
            throw .model("not a LedgerML Isolation Forest model: the magic bytes are wrong")
        }
        var header = ByteReader(bytes, from: Self.artifactMagic.count)
        let version = try header.read(UInt16.self, "the format version")
        guard version == Self.artifactVersion else {
            throw .model(
                "unsupported model format version \(version); this build reads version \(Self.artifactVersion)"
            )
        }
        guard bytes.count >= Self.fixedHeaderSize + Self.checksumSize else {
            throw .model("the model is truncated: \(bytes.count) bytes is shorter than the fixed header")
        }
        let bodyEnd = bytes.count - Self.checksumSize
        var trailer = ByteReader(bytes, from: bodyEnd)
        let stored = try trailer.read(UInt32.self, "the checksum")
        guard CRC32.checksum(bytes[..<bodyEnd]) == stored else {
            throw .model("the model is corrupt or truncated: its CRC-32 does not match")
        }

        var reader = ByteReader(bytes, from: Self.artifactMagic.count + 2, end: bodyEnd)
        let flags = try reader.read(UInt16.self, "the flags")
        guard flags == 0 else { throw .model("unknown flags \(flags) (byte 10)") }
        let treeCount = Int(try reader.read(UInt32.self, "the tree count"))
        let samples = Int(try reader.read(UInt32.self, "the sample parameter"))
        let sampleSize = Int(try reader.read(UInt32.self, "the sample size ψ"))
        let maxFeatures = try reader.readDouble("maxFeatures")
        let seed = try reader.read(UInt64.self, "the seed")
        let trainingRows = try reader.read(UInt64.self, "the training row count")
        let parameters = IsolationForestParameters(
            trees: treeCount,
            samples: samples,
            maxFeatures: maxFeatures,
            seed: seed
        )
        do {
            try parameters.validate()
        } catch {
            throw .model("the stored parameters are invalid: \(error.reason)")
        }
        guard trainingRows >= 2, trainingRows <= UInt64(Int.max) else {
            throw .model("the training row count \(trainingRows) is out of range")
        }
        guard UInt64(sampleSize) == min(UInt64(samples), trainingRows) else {
            throw .model("the sample size ψ = \(sampleSize) is not min(samples, training rows)")
        }

        let featureCount = Int(try reader.read(UInt32.self, "the feature count"))
        // Each name takes at least 5 bytes (length and one byte).
        guard featureCount >= 1, featureCount <= reader.remaining / 5 else {
            throw .model("the feature count \(featureCount) is out of range for \(bytes.count) bytes")
        }
        var featureNames = [String]()
        featureNames.reserveCapacity(featureCount)
        var seen = Set<String>()
        for position in 0..<featureCount {
            let name = try reader.readString("feature name \(position + 1)")
            guard !name.isEmpty, seen.insert(name).inserted else {
                throw .model("feature name \(position + 1) is empty or repeated")
            }
            featureNames.append(name)
        }
        // Each tree takes at least 9 bytes (node count and one leaf).
        guard treeCount <= reader.remaining / 9 else {
            throw .model("\(treeCount) trees cannot fit in the remaining \(reader.remaining) bytes")
        }
        let heightLimit = Self.heightLimit(sampleSize: sampleSize)
        var trees = [IsolationTree]()
        trees.reserveCapacity(treeCount)
        for treeIndex in 0..<treeCount {
            trees.append(
                try Self.readTree(
                    &reader,
                    index: treeIndex,
                    sampleSize: sampleSize,
                    featureCount: featureCount,
                    heightLimit: heightLimit
                )
            )
        }
        guard reader.remaining == 0 else {
            throw .model("\(reader.remaining) unexpected bytes after the last tree")
        }
        self.init(
            parameters: parameters,
            sampleSize: sampleSize,
            trainingRows: Int(trainingRows),
            featureNames: featureNames,
            trees: trees
        )
    }

    private static func readTree(
        _ reader: inout ByteReader,
        index treeIndex: Int,
        sampleSize: Int,
        featureCount: Int,
        heightLimit: Int
    ) throws(MLError) -> IsolationTree {
        let name = "tree \(treeIndex + 1)"
        let nodeCount = Int(try reader.read(UInt32.self, "the node count of \(name)"))
        // A tree of ψ samples has at most 2ψ − 1 nodes; a node takes at least 5 bytes.
        guard nodeCount >= 1, nodeCount <= 2 * sampleSize - 1, nodeCount <= reader.remaining / 5 else {
            throw .model("\(name) declares \(nodeCount) nodes, which is out of range")
        }
        var builder = IsolationTreeBuilder(capacity: nodeCount)
        var stack: [(node: Int, depth: Int)] = [(0, 0)]
        var read = 0
        var samplesSeen = 0
        while let (node, depth) = stack.popLast() {
            guard read < nodeCount else { throw .model("\(name) has more nodes than its declared \(nodeCount)") }
            read += 1
            let tag = try reader.readUInt8("a node tag of \(name)")
            switch tag {
            case leafTag:
                let size = Int(try reader.read(UInt32.self, "a leaf size of \(name)"))
                guard size >= 1, size <= sampleSize - samplesSeen else {
                    throw .model("\(name) has a leaf of \(size) samples, impossible for ψ = \(sampleSize)")
                }
                samplesSeen += size
                builder.leaf(node, depth: depth, size: size)
            case splitTag:
                let feature = Int(try reader.read(UInt32.self, "a split feature of \(name)"))
                let threshold = try reader.readDouble("a split threshold of \(name)")
                guard feature < featureCount else {
                    throw .model("\(name) splits on feature \(feature) of \(featureCount)")
                }
                guard threshold.isFinite else { throw .model("\(name) has a non-finite threshold") }
                guard depth < heightLimit else {
                    throw .model("\(name) is deeper than the height limit \(heightLimit) for ψ = \(sampleSize)")
                }
                let left = builder.split(node, feature: feature, threshold: threshold)
                stack.append((left + 1, depth + 1))
                stack.append((left, depth + 1))
            default:
                throw .model("\(name) has a node with unknown tag \(tag)")
            }
        }
        guard read == nodeCount else { throw .model("\(name) has \(read) nodes, not the declared \(nodeCount)") }
        guard samplesSeen == sampleSize else {
            throw .model("the leaves of \(name) hold \(samplesSeen) samples, not ψ = \(sampleSize)")
        }
        return builder.tree
    }
}
