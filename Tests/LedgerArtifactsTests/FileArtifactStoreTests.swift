import Foundation
import LedgerArtifacts
import LedgerCore
import Testing

@Suite("FileArtifactStore")
struct FileArtifactStoreTests {
    /// SHA-256 of the five bytes `hello`.
    static let helloHex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

    /// 1000 bytes that differ from one another's neighbours.
    static let sample: [UInt8] = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }

    @Test("objects live at <root>/sha256/<2 hex>/<64 hex> with mode 0644, holding exactly the bytes")
    func layout() async throws {
        try await withTemporaryFolder { root in
            let store = try FileArtifactStore(root: root + "/")
            let digest = try store.put(Array("hello".utf8))
            #expect(digest.description == "sha256:" + Self.helloHex)
            let expected = root + "/sha256/2c/" + Self.helloHex
            #expect(store.path(for: digest) == expected)
            #expect(try readBytes(expected) == Array("hello".utf8))
            let attributes = try FileManager.default.attributesOfItem(atPath: expected)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o644)
            #expect(try filesUnder(root) == ["sha256/2c/" + Self.helloHex])
            let streamed = try store.makeWriter()
            try streamed.write(Self.sample)
            let sampleDigest = try streamed.commit()
            let hex = sampleDigest.sha256.hex
            #expect(try filesUnder(root) == ["sha256/2c/" + Self.helloHex, "sha256/\(hex.prefix(2))/\(hex)"].sorted())
        }
    }

    @Test("a byte flipped anywhere in the object is artifact.corrupt naming the digest", arguments: [0, 1, 500, 999])
    func flippedByte(at offset: Int) async throws {
        try await withTemporaryFolder { root in
            let store = try FileArtifactStore(root: root)
            let digest = try store.put(Self.sample)
            var damaged = Self.sample
            damaged[offset] ^= 0x01
            try writeBytes(damaged, to: store.path(for: digest))
            let error = #expect(throws: LedgerError.self) { try store.get(digest) }
            #expect(error?.code == .artifactCorrupt)
            #expect(error?.reason.contains(digest.description) == true)
            // Presence is unchanged: only a read tells the artifact is damaged.
            #expect(try store.contains(digest))
        }
    }

    static let damages: [String: @Sendable ([UInt8]) -> [UInt8]] = [
        "truncated by one byte": { Array($0.dropLast()) },
        "truncated to half": { Array($0.prefix($0.count / 2)) },
        "truncated to nothing": { _ in [] },
        "extended by one byte": { $0 + [0] },
        "replaced by another artifact's bytes": { _ in Array("hello".utf8) },
    ]

    @Test("a truncated, extended or replaced object is artifact.corrupt", arguments: damages.keys.sorted())
    func damagedObject(damage: String) async throws {
        let transform = try #require(Self.damages[damage])
        try await withTemporaryFolder { root in
            let store = try FileArtifactStore(root: root)
            _ = try store.put(Array("hello".utf8))
            let digest = try store.put(Self.sample)
            try writeBytes(transform(Self.sample), to: store.path(for: digest))
            let error = #expect(throws: LedgerError.self) { try store.get(digest) }
            #expect(error?.code == .artifactCorrupt)
            #expect(error?.reason.contains(digest.description) == true)
        }
    }

    @Test("a put or a writer of the right bytes repairs a damaged object")
    func repair() async throws {
        try await withTemporaryFolder { root in
            let store = try FileArtifactStore(root: root)
            let digest = try store.put(Self.sample)
            try writeBytes(Array(Self.sample.dropLast()), to: store.path(for: digest))
            #expect(try store.put(Self.sample) == digest)
            #expect(try store.get(digest) == Self.sample)
            try writeBytes([], to: store.path(for: digest))
            let writer = try store.makeWriter()
            try writer.write(Self.sample)
            #expect(try writer.commit() == digest)
            #expect(try store.get(digest) == Self.sample)
        }
    }

    @Test("temporary files left by a crashed writer are ignored")
    func crashedWriterLeftovers() async throws {
        try await withTemporaryFolder { root in
            let store = try FileArtifactStore(root: root)
            let digest = ArtifactDigest.of(Self.sample)
            let hex = digest.sha256.hex
            let fanOut = root + "/sha256/" + hex.prefix(2)
            try FileManager.default.createDirectory(atPath: fanOut, withIntermediateDirectories: true)
            // A crash mid-put leaves a partial copy beside the object; a crash mid-stream leaves one in sha256/.
            let leftovers = [fanOut + "/.tmp-0123456789abcdef", root + "/sha256/.tmp-fedcba9876543210"]
            for path in leftovers { try writeBytes(Array(Self.sample.prefix(300)), to: path) }
            #expect(try store.contains(digest) == false)
            #expect(try store.contains(.of(Self.sample.prefix(300))) == false)
            let missing = #expect(throws: LedgerError.self) { try store.get(digest) }
            #expect(missing?.code == .artifactMissing)
            #expect(try store.put(Self.sample) == digest)
            #expect(try store.get(digest) == Self.sample)
            let writer = try store.makeWriter()
            try writer.write(Array("hello".utf8))
            #expect(try writer.commit().description == "sha256:" + Self.helloHex)
            #expect(try store.get(.of("hello".utf8)) == Array("hello".utf8))
            // A fresh store over the same folder sees the same.
            let reopened = try FileArtifactStore(root: root)
            #expect(try reopened.get(digest) == Self.sample)
            #expect(try reopened.contains(.of(Self.sample.prefix(300))) == false)
        }
    }

    @Test("abandoned, dropped and committed writers leave no temporary file")
    func writersLeaveNothing() async throws {
        try await withTemporaryFolder { root in
            let store = try FileArtifactStore(root: root)
            let abandoned = try store.makeWriter()
            try abandoned.write(Self.sample)
            #expect(try filesUnder(root).count == 1, "the writer's temporary file exists while it writes")
            abandoned.abandon()
            #expect(try filesUnder(root).isEmpty)
            do {
                let dropped = try store.makeWriter()
                try dropped.write(Self.sample)
            }
            #expect(try filesUnder(root).isEmpty)
            let committed = try store.makeWriter()
            try committed.write(Self.sample)
            let digest = try committed.commit()
            let hex = digest.sha256.hex
            #expect(try filesUnder(root) == ["sha256/\(hex.prefix(2))/\(hex)"])
        }
    }

    @Test("a commit that cannot install the object removes its temporary file")
    func failedCommitCleansUp() async throws {
        try await withTemporaryFolder { root in
            let store = try FileArtifactStore(root: root)
            let digest = ArtifactDigest.of(Self.sample)
            // A folder squatting on the object's name makes every install fail.
            try FileManager.default.createDirectory(
                atPath: store.path(for: digest),
                withIntermediateDirectories: true
            )
            let writer = try store.makeWriter()
            try writer.write(Self.sample)
            let error = #expect(throws: LedgerError.self) { try writer.commit() }
            #expect(error?.code == .storage)
            let refused = #expect(throws: LedgerError.self) { try store.put(Self.sample) }
            #expect(refused?.code == .storage)
            #expect(try filesUnder(root).isEmpty)
            #expect(try store.contains(digest) == false)
        }
    }

    @Test("file: URLs resolve against the workspace")
    func fileURLs() async throws {
        try await withTemporaryFolder { root in
            let workspace = root + "/ws"
            let cases: [(text: String, root: String)] = [
                ("file:artifacts", workspace + "/artifacts"),
                ("file:./data/artifacts", workspace + "/./data/artifacts"),
                ("file:" + root + "/absolute", root + "/absolute"),
                ("file://" + root + "/triple/", root + "/triple"),
            ]
            for (text, expected) in cases {
                let store = try FileArtifactStore.url(text, relativeTo: workspace + "/")
                #expect(store.root == expected, "\(text)")
                let digest = try store.put(Array("hello".utf8))
                #expect(store.path(for: digest) == expected + "/sha256/2c/" + Self.helloHex, "\(text)")
                #expect(FileManager.default.fileExists(atPath: store.path(for: digest)), "\(text)")
            }
            for text in ["", "file:", "file://", "file://host/path", "artifacts", "s3://bucket/prefix", "File:x"] {
                let error = #expect(throws: LedgerError.self, "\(text)") {
                    try FileArtifactStore.url(text, relativeTo: workspace)
                }
                #expect(error?.code == .invalidArgument, "\(text)")
            }
        }
    }
}
