import Foundation
public import LedgerCore
import LedgerProjections
import LedgerStore

/// What `ledger restore` put back.
public struct LogRestoration: Sendable {
    /// Entries appended.
    public let restored: UInt64
    /// The log's size before: the first seq appended.
    public let from: UInt64
    /// The log's size after.
    public let to: UInt64
    /// The RFC 9162 root of the restored log's first ``to`` entries.
    public let root: Hash256
    /// The head record's size, which the export matched; nil without a head record.
    public let headRecordSize: UInt64?
    /// The export's entries beyond ``to`` that were not appended (beyond the head record, without `all`).
    public let notRestored: UInt64
}

extension Workspace {
    /// Puts back the entries the log lost, from the export at `path`: the whole export is verified first against the
    /// trust anchor, the log's kept checkpoints and the head record; the entries the log kept must be the export's
    /// own, byte for byte; then the missing ones, up to the head record's size (or all of them with `all`), are
    /// appended in transactions of at most 1,024 entries and the read tables catch up. A missing log is created only
    /// once the export verified. The log and the read tables are opened once each; the head record is never edited.
    ///
    /// - Parameter warn: receives a warning if the read tables did not catch up (the entries are back regardless).
    /// - Throws: ``VerificationRefused`` if the export is mangled, fails verification, or differs from the entries the
    ///   log kept; `LedgerError` (`invalidArgument`) if there is nothing to restore, or if a file or store fails.
    public func restoreLog(
        from path: String,
        all: Bool,
        threads: Int,
        warn: (String) -> Void
    ) async throws -> LogRestoration {
        let record = try headRecord.load()
        let leaves = try LogVerification.readExportRefusingMalformed(path)
        // An existing log's kept checkpoints bind the export too; a missing log is made only once the export verified.
        let existing = try? await openStore()
        let kept = try await existing?.checkpoints().map(\.note) ?? []
        let heads = record.map {
            [KnownHead(size: $0.size, root: $0.root, source: "the head record \(Workspace.headRecordName)")]
        }
        let report = Verifier(
            trustedGenesis: genesis,
            checkpoints: kept,
            heads: heads ?? [],
            concurrency: threads
        ).verify(leaves: leaves)
        if let failure = report.failure {
            throw VerificationRefused(
                failure: VerificationFailure(
                    seq: failure.seq,
                    code: failure.code,
                    reason: "the export \(path) cannot be restored from: \(failure.reason)"
                )
            )
        }
        let store: any EventStore
        if let existing { store = existing } else { store = try await openStore(create: true) }
        let size = try await store.size()
        let target = all ? UInt64(leaves.count) : min(UInt64(leaves.count), record?.size ?? UInt64(leaves.count))
        guard size < target else {
            throw LedgerError(
                .invalidArgument,
                "the log already has \(size) entries"
                    + (target < UInt64(leaves.count)
                        ? ", all its head record holds; the export's \(UInt64(leaves.count) - target) later entries "
                            + "are appended only with --all"
                        : " and the export \(leaves.count): there is nothing to restore")
            )
        }
        // The entries the log kept must be the export's own: restore only appends what is missing.
        var cursor: UInt64 = 0
        while cursor < size {
            let page = try await store.entries(in: cursor..<min(size, cursor + 4096))
            guard !page.isEmpty else { break }
            for entry in page where entry.leaf != leaves[Int(entry.seq)] {
                throw VerificationRefused(
                    failure: VerificationFailure(
                        seq: entry.seq,
                        code: .checkpoint,
                        reason: "the log's entry at seq \(entry.seq) is not the export's: the two histories differ, "
                            + "and restore never merges them"
                    )
                )
            }
            cursor += UInt64(page.count)
        }
        var restored: UInt64 = 0
        var next = size
        while next < target {
            let end = min(target, next + 1024)
            var batch: [LogEntry] = []
            batch.reserveCapacity(Int(end - next))
            for seq in next..<end { batch.append(LogEntry(try SignedEvent(leaf: leaves[Int(seq)]))) }
            try await store.append(batch, expecting: next)
            restored += end - next
            next = end
        }
        // The entries are back whatever the read tables say; tables still ahead of the log are reported, not fatal.
        do {
            _ = try await ProjectionUpdater.catchUp(log: store, into: try await openProjections(beside: store))
        } catch {
            warn("warning: the read tables did not catch up: \(error.reason)")
        }
        var frontier = MerkleFrontier()
        for leaf in leaves.prefix(Int(target)) { frontier.append(MerkleTree.leafHash(leaf)) }
        return LogRestoration(
            restored: restored,
            from: size,
            to: target,
            root: frontier.root,
            headRecordSize: record?.size,
            notRestored: UInt64(leaves.count) - target
        )
    }
}
