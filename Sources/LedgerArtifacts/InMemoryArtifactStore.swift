public import LedgerCore
import Synchronization

/// An ``ArtifactStore`` in memory: for tests, and the reference the conformance suite is written against.
///
/// "Durable" here means for the life of the store. Reads verify the digest like every other store.
public actor InMemoryArtifactStore: ArtifactStore {
    /// Shared with this store's writers, whose `commit()` is synchronous and so cannot hop onto the actor.
    private let objects = ObjectTable()

    public init() {}

    public func put(_ bytes: [UInt8]) -> ArtifactDigest {
        let digest = ArtifactDigest.of(bytes)
        objects.insert(bytes, as: digest)
        return digest
    }

    public func makeWriter() -> any ArtifactWriter {
        InMemoryArtifactWriter(objects: objects)
    }

    public func get(_ digest: ArtifactDigest) throws(LedgerError) -> [UInt8] {
        guard let bytes = objects.bytes(for: digest) else { throw .artifactMissing(digest) }
        guard ArtifactDigest.of(bytes) == digest else {
            throw .artifactCorrupt(digest, detail: "its bytes do not hash to its digest")
        }
        return bytes
    }

    public func contains(_ digest: ArtifactDigest) -> Bool {
        objects.bytes(for: digest) != nil
    }
}

/// The artifacts of one ``InMemoryArtifactStore``, behind a lock.
private final class ObjectTable: Sendable {
    private let table = Mutex<[ArtifactDigest: [UInt8]]>([:])

    /// Stores `bytes` unless an artifact with `digest` is already there, which makes a repeat a no-op.
    func insert(_ bytes: [UInt8], as digest: ArtifactDigest) {
        table.withLock { objects in
            if objects[digest] == nil { objects[digest] = bytes }
        }
    }

    func bytes(for digest: ArtifactDigest) -> [UInt8]? {
        table.withLock { $0[digest] }
    }
}

/// Buffers the chunks and hands them to the table on `commit()`.
private final class InMemoryArtifactWriter: ArtifactWriter {
    private let objects: ObjectTable
    /// The bytes written so far, or `nil` once the writer is finished.
    private let buffer = Mutex<[UInt8]?>([])

    init(objects: ObjectTable) {
        self.objects = objects
    }

    func write(_ chunk: [UInt8]) throws(LedgerError) {
        let accepted = buffer.withLock { buffer in
            guard buffer != nil else { return false }
            buffer?.append(contentsOf: chunk)
            return true
        }
        guard accepted else { throw .writerFinished }
    }

    func commit() throws(LedgerError) -> ArtifactDigest {
        let taken = buffer.withLock { buffer in
            defer { buffer = nil }
            return buffer
        }
        guard let bytes = taken else { throw .writerFinished }
        let digest = ArtifactDigest.of(bytes)
        objects.insert(bytes, as: digest)
        return digest
    }

    func abandon() {
        buffer.withLock { $0 = nil }
    }
}
