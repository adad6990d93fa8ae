public import LedgerCore

/// Where the pipeline keeps its bulk data (snapshots, datasets, manifests, models), each under the
/// SHA-256 of its bytes.
///
/// The contract every implementation keeps, and that `ArtifactStoreConformance` checks:
/// - An artifact is named by its content: storing the same bytes again gives the same digest and changes
///   nothing, and there is no way to store other bytes under a digest.
/// - **Durable** means: once `put` or a writer's `commit()` returns, the artifact survives a crash or power
///   loss of this machine, and is visible to every later call in any process using the same store.
/// - Nothing half-written is ever visible: an artifact is either absent or complete.
/// - Every read verifies: `get` MUST NOT return bytes whose SHA-256 differs from the digest asked for.
/// - Errors are ``LedgerError``s: `artifact.missing`, `artifact.corrupt`, `store.failure` for a storage
///   failure, and `argument.invalid` for a misused writer.
public protocol ArtifactStore: Sendable {
    /// Stores `bytes` under their digest and returns it.
    ///
    /// Idempotent: a second `put` of identical bytes is a no-op that returns the same digest. Durable when
    /// it returns; a failed `put` leaves no trace.
    func put(_ bytes: [UInt8]) async throws(LedgerError) -> ArtifactDigest

    /// Starts streaming an artifact in, for one too large to hold in memory.
    ///
    /// The caller writes chunks in order through the writer, then calls `commit()`, which makes the artifact
    /// durable and returns its digest, computed while writing. A writer that is abandoned, or released
    /// without `commit()`, stores nothing and leaves nothing behind.
    func makeWriter() async throws(LedgerError) -> any ArtifactWriter

    /// The bytes stored under `digest`, verified.
    ///
    /// Throws `artifact.missing` if there is no such artifact, and `artifact.corrupt`, naming the digest, if
    /// the stored bytes do not hash to it (modified, truncated, extended or replaced). Damaged bytes are
    /// never returned.
    func get(_ digest: ArtifactDigest) async throws(LedgerError) -> [UInt8]

    /// Whether an artifact is stored under `digest`.
    ///
    /// Reports presence only and reads no content: a damaged artifact still counts as present, and only
    /// `get` tells it is damaged.
    func contains(_ digest: ArtifactDigest) async throws(LedgerError) -> Bool
}

/// One artifact being streamed into an ``ArtifactStore``.
///
/// A writer is used once: any number of `write` calls, then exactly one of `commit()` or `abandon()`.
/// Calls are serialised, but chunks written from several tasks at once land in no defined order, so write
/// from one task. After `commit()`, `abandon()` or a failed call the writer is finished: `write` and
/// `commit()` throw `argument.invalid`, and `abandon()` does nothing.
public protocol ArtifactWriter: AnyObject, Sendable {
    /// Appends `chunk` to the artifact. On a storage failure the writer is abandoned and the error thrown.
    func write(_ chunk: [UInt8]) throws(LedgerError)

    /// Makes the artifact durable under its digest and returns the digest.
    ///
    /// If the same bytes are already stored this is a no-op apart from discarding what was written.
    func commit() throws(LedgerError) -> ArtifactDigest

    /// Discards everything written. Nothing is stored and nothing is left behind.
    func abandon()
}

extension LedgerError.Code {
    /// No artifact with the digest asked for is in the store.
    public static let artifactMissing = Self(rawValue: "artifact.missing")
    /// A stored artifact whose bytes no longer hash to its digest: modified, truncated, extended or
    /// replaced. Its bytes are never returned.
    public static let artifactCorrupt = Self(rawValue: "artifact.corrupt")
}

extension LedgerError {
    static func artifactMissing(_ digest: ArtifactDigest) -> LedgerError {
        LedgerError(.artifactMissing, "artifact \(digest) is not in the store")
    }

    static func artifactCorrupt(_ digest: ArtifactDigest, detail: String) -> LedgerError {
        LedgerError(.artifactCorrupt, "artifact \(digest) is corrupt: \(detail); it will not be used")
    }

    static let writerFinished = LedgerError(
        .invalidArgument,
        "this artifact writer is finished: it was committed, abandoned or failed"
    )
}
