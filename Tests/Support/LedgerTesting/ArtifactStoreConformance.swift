public import LedgerArtifacts
import LedgerCore

/// The behaviour every ``ArtifactStore`` must show, as one suite that each backend's tests run
/// against a fresh, empty store.
///
/// Each check throws ``ConformanceFailure`` naming what broke. Checks are independent: each gets
/// its own store. Damage to stored bytes is backend-specific and tested beside each backend.
public enum ArtifactStoreConformance {
    public typealias Check = (name: String, body: @Sendable (any ArtifactStore) async throws -> Void)

    /// All checks, by name, so a test can run each as its own case.
    public static let checks: [Check] = [
        ("stored bytes read back byte for byte", roundTrip),
        ("a second put of the same bytes is a no-op", idempotentPut),
        ("a streamed artifact equals the same bytes put", streamingEqualsPut),
        ("an abandoned or dropped writer stores nothing", abandonedWriter),
        ("a finished writer refuses more calls", finishedWriter),
        ("a missing digest is artifact.missing", missingDigest),
        ("racing puts and writers of the same bytes all succeed", racingPuts),
    ]

    static func expect(_ condition: Bool, _ check: String, _ detail: @autoclosure () -> String) throws {
        try Conformance.expect(condition, check, detail())
    }

    static func expectError(_ code: LedgerError.Code, _ check: String, _ body: () async throws -> Void) async throws {
        try await Conformance.expectError(code, check, body)
    }

    /// `count` deterministic bytes that differ with `seed`.
    static func sampleBytes(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8 &+ Int(seed) &* 7) }
    }

    /// Artifacts of the sizes that matter: empty, one byte, odd sizes, and larger than one I/O chunk.
    static let sampleSizes = [0, 1, 255, 4096, 65_537, (1 << 20) + 3]

    static func roundTrip(_ store: any ArtifactStore) async throws {
        for (index, size) in sampleSizes.enumerated() {
            let bytes = sampleBytes(size, seed: UInt8(index))
            let digest = try await store.put(bytes)
            try expect(digest == ArtifactDigest.of(bytes), "roundTrip", "put returned a digest of other bytes")
            try expect(try await store.contains(digest), "roundTrip", "a stored artifact of \(size) bytes is absent")
            try expect(try await store.get(digest) == bytes, "roundTrip", "\(size) bytes differ after a round trip")
        }
    }

    static func idempotentPut(_ store: any ArtifactStore) async throws {
        let bytes = sampleBytes(1000)
        let first = try await store.put(bytes)
        let second = try await store.put(bytes)
        try expect(first == second, "idempotentPut", "the same bytes got two digests")
        try expect(try await store.get(first) == bytes, "idempotentPut", "a repeated put changed the bytes")
        let other = try await store.put(sampleBytes(1000, seed: 1))
        try expect(other != first, "idempotentPut", "different bytes got the same digest")
        try expect(try await store.get(first) == bytes, "idempotentPut", "another put changed the first artifact")
    }

    static func streamingEqualsPut(_ store: any ArtifactStore) async throws {
        let bytes = sampleBytes((1 << 20) + 12_345, seed: 3)
        // Uneven chunks, including an empty one, must not change the digest.
        var chunks: [[UInt8]] = []
        var start = 0
        for size in [0, 1, 7, 4096, 65_536, 1 << 19] {
            chunks.append(Array(bytes[start..<(start + size)]))
            start += size
        }
        chunks.append(Array(bytes[start...]))
        let writer = try await store.makeWriter()
        for chunk in chunks { try writer.write(chunk) }
        let streamed = try writer.commit()
        try expect(streamed == ArtifactDigest.of(bytes), "streaming", "the writer's digest is not the bytes' digest")
        try expect(try await store.get(streamed) == bytes, "streaming", "streamed bytes differ when read back")
        try expect(try await store.put(bytes) == streamed, "streaming", "put and the writer disagree on the digest")
        // Streaming bytes that are already stored is a no-op, and so is an empty artifact.
        let again = try await store.makeWriter()
        try again.write(bytes)
        try expect(try again.commit() == streamed, "streaming", "streaming stored bytes again gave another digest")
        let empty = try await store.makeWriter()
        let emptyDigest = try empty.commit()
        try expect(emptyDigest == ArtifactDigest.of([]), "streaming", "an empty writer has the wrong digest")
        try expect(try await store.get(emptyDigest) == [], "streaming", "the empty artifact does not read back")
    }

    static func abandonedWriter(_ store: any ArtifactStore) async throws {
        let abandoned = sampleBytes(70_000, seed: 4)
        let writer = try await store.makeWriter()
        try writer.write(abandoned)
        writer.abandon()
        writer.abandon()
        try expect(
            !(try await store.contains(.of(abandoned))),
            "abandonedWriter",
            "an abandoned writer stored its bytes"
        )
        let dropped = sampleBytes(70_000, seed: 5)
        do {
            let writer = try await store.makeWriter()
            try writer.write(dropped)
        }
        try expect(!(try await store.contains(.of(dropped))), "abandonedWriter", "a dropped writer stored its bytes")
        try await expectError(.artifactMissing, "abandonedWriter") { _ = try await store.get(.of(dropped)) }
    }

    static func finishedWriter(_ store: any ArtifactStore) async throws {
        let committed = try await store.makeWriter()
        try committed.write([1, 2, 3])
        let digest = try committed.commit()
        try await expectError(.invalidArgument, "finishedWriter") { try committed.write([4]) }
        try await expectError(.invalidArgument, "finishedWriter") { _ = try committed.commit() }
        committed.abandon()
        try expect(try await store.get(digest) == [1, 2, 3], "finishedWriter", "abandon after commit removed it")
        let abandoned = try await store.makeWriter()
        abandoned.abandon()
        try await expectError(.invalidArgument, "finishedWriter") { try abandoned.write([4]) }
        try await expectError(.invalidArgument, "finishedWriter") { _ = try abandoned.commit() }
    }

    static func missingDigest(_ store: any ArtifactStore) async throws {
        let absent = ArtifactDigest.of(sampleBytes(10, seed: 6))
        try await expectError(.artifactMissing, "missingDigest") { _ = try await store.get(absent) }
        try expect(!(try await store.contains(absent)), "missingDigest", "contains reports an absent artifact")
        _ = try await store.put(sampleBytes(10, seed: 7))
        try await expectError(.artifactMissing, "missingDigest") { _ = try await store.get(absent) }
    }

    static func racingPuts(_ store: any ArtifactStore) async throws {
        let bytes = sampleBytes(200_000, seed: 8)
        let digests = try await withThrowingTaskGroup(of: ArtifactDigest.self) { group in
            for index in 0..<8 {
                group.addTask {
                    if index.isMultiple(of: 2) { return try await store.put(bytes) }
                    let writer = try await store.makeWriter()
                    try writer.write(Array(bytes[..<1000]))
                    try writer.write(Array(bytes[1000...]))
                    return try writer.commit()
                }
            }
            var digests: Set<ArtifactDigest> = []
            for try await digest in group { digests.insert(digest) }
            return digests
        }
        try expect(digests == [.of(bytes)], "racingPuts", "racing stores gave digests \(digests)")
        try expect(try await store.get(.of(bytes)) == bytes, "racingPuts", "raced bytes differ when read back")
    }
}
