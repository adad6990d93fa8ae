import LedgerArtifacts
import LedgerCore
import LedgerS3
import LedgerTesting
import Testing

/// `S3ArtifactStore` against a real S3-compatible server (SeaweedFS in `Scripts/services`).
@Suite("S3ArtifactStore", .enabled(if: S3TestServer.shouldRun))
struct S3ArtifactStoreTests {
    /// 1000 bytes that differ from one another's neighbours.
    static let sample: [UInt8] = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }

    @Test("ArtifactStore conformance", arguments: ArtifactStoreConformance.checks.map(\.name))
    func conformance(check name: String) async throws {
        let check = try #require(ArtifactStoreConformance.checks.first { $0.name == name })
        guard let store = try S3TestServer.store() else { return }
        try await check.body(store)
    }

    @Test("artifacts over the threshold go up in parts, from put and from a writer, and read back intact")
    func multipart() async throws {
        // S3, and SeaweedFS, refuse parts under 5 MiB but the last.
        let configuration = S3ArtifactStore.Configuration(multipartThreshold: 5 << 20, partSize: 5 << 20)
        #expect(configuration.partSize == 5 << 20)
        #expect(S3ArtifactStore.Configuration(partSize: 1 << 20).partSize == 5 << 20)
        guard let store = try S3TestServer.store(configuration: configuration) else { return }
        let bytes = (0..<((11 << 20) + 7)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 12) }
        let digest = try await store.put(bytes)
        #expect(digest == .of(bytes))
        #expect(try await store.get(digest) == bytes)
        let head = try await store.send(S3Request("HEAD", key: store.key(for: digest)))
        #expect(head.header("x-amz-meta-sha256") == digest.sha256.hex, "a multipart object carries its SHA-256")
        #expect(try await store.put(bytes) == digest)

        let streamed = bytes.reversed() as [UInt8]
        let writer = try store.makeWriter()
        var offset = 0
        for size in [1, 65_536, 5 << 20, 3 << 20] {
            try writer.write(Array(streamed[offset..<(offset + size)]))
            offset += size
        }
        try writer.write(Array(streamed[offset...]))
        let streamedDigest = try writer.commit()
        #expect(streamedDigest == .of(streamed))
        #expect(try await store.get(streamedDigest) == streamed)
    }

    static let damages: [String: @Sendable ([UInt8]) -> [UInt8]] = [
        "a flipped bit": { bytes in
            var damaged = bytes
            damaged[500] ^= 0x01
            return damaged
        },
        "truncated by one byte": { Array($0.dropLast()) },
        "truncated to half": { Array($0.prefix($0.count / 2)) },
        "truncated to nothing": { _ in [] },
        "extended by one byte": { $0 + [0] },
        "replaced by another artifact's bytes": { _ in Array("hello".utf8) },
    ]

    @Test(
        "an object changed on the server is artifact.corrupt naming the digest and the object",
        arguments: damages.keys.sorted()
    )
    func tampered(damage: String) async throws {
        let transform = try #require(Self.damages[damage])
        guard let store = try S3TestServer.store() else { return }
        let digest = try await store.put(Self.sample)
        // Overwrite the object behind the store's back, with a raw signed PUT.
        _ = try await store.send(S3Request("PUT", key: store.key(for: digest), body: transform(Self.sample)))
        let error = await #expect(throws: LedgerError.self) { try await store.get(digest) }
        #expect(error?.code == .artifactCorrupt)
        #expect(error?.reason.contains(digest.description) == true)
        #expect(error?.reason.contains("s3://\(store.bucket)/\(store.key(for: digest))") == true)
        // Presence is unchanged: only a read tells the artifact is damaged.
        #expect(try await store.contains(digest))
    }

    @Test(
        "a put of the right bytes repairs an object changed on the server, whatever its size",
        arguments: damages.keys.sorted()
    )
    func repair(damage: String) async throws {
        let transform = try #require(Self.damages[damage])
        guard let store = try S3TestServer.store() else { return }
        let digest = try await store.put(Self.sample)
        let head = try await store.send(S3Request("HEAD", key: store.key(for: digest)))
        #expect(head.header("content-length") == "1000")
        #expect(head.header("x-amz-meta-sha256") == digest.sha256.hex, "the object carries its SHA-256")
        _ = try await store.send(S3Request("PUT", key: store.key(for: digest), body: transform(Self.sample)))
        #expect(try await store.put(Self.sample) == digest)
        #expect(try await store.get(digest) == Self.sample)
    }

    @Test("a wrong secret is store.credentials naming AWS_SECRET_ACCESS_KEY and never showing the secret")
    func wrongSecret() async throws {
        let secret = "not-the-secret-\(UInt64.random(in: 0...UInt64.max))"
        guard let good = try S3TestServer.store(), let store = try S3TestServer.store(secret: secret) else { return }
        let digest = try await good.put(Self.sample)
        var errors: [LedgerError] = []
        do { _ = try await store.put(Array("refused".utf8)) } catch { errors.append(error) }
        do { _ = try await store.get(digest) } catch { errors.append(error) }
        do { _ = try await store.contains(digest) } catch { errors.append(error) }
        do {
            let writer = try store.makeWriter()
            try writer.write(Self.sample)
            _ = try writer.commit()
        } catch { errors.append(error) }
        #expect(errors.count == 4)
        for error in errors {
            #expect(error.code == .storageCredentials)
            #expect(error.reason.contains("AWS_SECRET_ACCESS_KEY"), "\(error.reason)")
            #expect(error.reason.contains("s3://\(store.bucket)/\(store.prefix)"), "\(error.reason)")
            #expect(!error.reason.contains(secret))
            #expect(!"\(error)".contains(secret))
        }
        #expect(!store.description.contains(secret))
    }

    @Test("a bucket that does not exist is store.failure naming it")
    func missingBucket() async throws {
        guard let store = try S3TestServer.store(bucket: "ledger-no-such-bucket") else { return }
        let error = await #expect(throws: LedgerError.self) { try await store.get(.of(Self.sample)) }
        #expect(error?.code == .storage)
        #expect(error?.reason.contains("the bucket \"ledger-no-such-bucket\" does not exist") == true)
    }
}
