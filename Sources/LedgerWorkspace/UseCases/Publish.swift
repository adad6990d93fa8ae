public import LedgerCore
import LedgerStore
public import LedgerTransparency

/// What `ledger publish` did: the checkpoint published and the files it took.
public struct PublishResult: Sendable, Hashable {
    /// The folder the log was published to.
    public let folder: String
    /// The log's id, the checkpoint's origin.
    public let logID: String
    /// What the publisher wrote and skipped.
    public let publication: TilePublication

    /// `{"out","logId","size","root","previousSize","tilesWritten","bundlesWritten","bytesWritten","skipped",
    /// "checkpointWritten"}`, what `ledger publish --json` prints.
    public var json: JSONValue {
        [
            "out": .string(folder), "logId": .string(logID), "size": .int(publication.size),
            "root": .string(publication.root.hex), "previousSize": publication.previousSize.map { .int($0) } ?? .null,
            "tilesWritten": .int(UInt64(publication.tilesWritten)),
            "bundlesWritten": .int(UInt64(publication.bundlesWritten)), "bytesWritten": .int(publication.bytesWritten),
            "skipped": .int(UInt64(publication.skipped)), "checkpointWritten": .bool(publication.checkpointWritten),
        ]
    }
}

extension WorkspaceSession {
    /// Publishes the log as C2SP tlog-tiles into `folder`: the latest checkpoint the store keeps that verifies under
    /// the log's keys, and the tiles and entry bundles of its tree (see `TilePublisher` for what is written, and
    /// when). `progress` gets the entries published so far and the checkpoint's size after each page.
    ///
    /// - Throws: `chain.checkpoint` when no kept checkpoint verifies (run `ledger checkpoint` first); the errors of
    ///   `TilePublisher.publish(store:checkpoint:progress:)`: `tile.entryTooLarge` naming the seq of a leaf over
    ///   65,535 bytes, `tile.mismatch` for a fork, a truncation or a tampered folder, `store.conflict` while another
    ///   publish runs, `store.failure` for file system errors.
    public func publish(
        to folder: String,
        progress: (@Sendable (_ published: UInt64, _ total: UInt64) -> Void)? = nil
    ) async throws(LedgerError) -> PublishResult {
        let state = await ledger.state
        var latest: String?
        for (_, note) in try await store.checkpoints().reversed() {
            // A kept row that does not verify under a log key is not a checkpoint of this log.
            if (try? Verifier.authenticate(checkpoint: note, state: state)) != nil {
                latest = note
                break
            }
        }
        guard let latest else {
            throw LedgerError(
                .checkpoint,
                "the log has no signed checkpoint to publish: run `ledger checkpoint` first, then publish again"
            )
        }
        let publication = try await TilePublisher(folder: folder).publish(
            store: store,
            checkpoint: latest,
            progress: progress
        )
        return PublishResult(folder: folder, logID: state.logID ?? "", publication: publication)
    }
}
