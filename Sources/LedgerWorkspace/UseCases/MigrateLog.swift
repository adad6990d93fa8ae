import Foundation
public import LedgerCore
import LedgerPostgres
import LedgerPostgresConnection
import LedgerStore

/// What `ledger migrate` copied.
public struct LogMigration: Sendable {
    /// Entries in the workspace's log.
    public let entries: UInt64
    /// Entries copied by this run (a resumed run copies only what the target lacked).
    public let copied: UInt64
    /// The kept checkpoints copied by this run.
    public let checkpoints: Int
    /// The RFC 9162 root both logs have.
    public let root: Hash256
    /// The PostgreSQL log, its password redacted.
    public let target: String
    /// Whether `ledger.json` now names the new log.
    public let switched: Bool
}

extension Workspace {
    /// Copies the workspace's SQLite log into the PostgreSQL log at `url`, entry for entry (the signed envelopes,
    /// byte for byte) with every kept checkpoint, after verifying it against the trust anchor, its checkpoints and
    /// its head record; then verifies the copy read back from the database and compares size, root and genesis. A
    /// target that holds a prefix of this log is continued; with `switch`, `ledger.json` is rewritten (atomically)
    /// to name the new log once the roots match. Each log is opened once.
    ///
    /// - Parameters:
    ///   - note: receives a note when a previous run is resumed.
    ///   - progress: receives (entries copied, entries in all) after each batch.
    /// - Throws: ``VerificationFailed`` if the log or its copy fails verification; `LedgerError` (`invalidArgument`
    ///   if the log is already in PostgreSQL or the target holds another log, `storage` if the copy differs) or what
    ///   the stores throw.
    public func migrateLog(
        to url: String,
        switch: Bool,
        note: (String) -> Void,
        progress: (UInt64, UInt64) -> Void
    ) async throws -> LogMigration {
        guard case .sqlite = try logLocation else {
            throw LedgerError(.invalidArgument, "the workspace's log is already in PostgreSQL (\(logURL))")
        }
        // The head record first, as `verify` reads it: a log that lost its tail is not copied anywhere.
        let record = try headRecord.load()
        let source = try await openStore()
        let size = try await source.size()
        let leaves = try await source.leaves(upTo: size)
        let before = Verifier(
            trustedGenesis: genesis,
            checkpoints: try await source.checkpoints().map(\.note),
            heads: record.map {
                [KnownHead(size: $0.size, root: $0.root, source: "the head record \(Workspace.headRecordName)")]
            } ?? []
        ).verify(leaves: leaves)
        if let failure = before.failure { throw VerificationFailed(failure: failure) }

        let target = try await PostgresEventStore.open(url, create: true)
        var copied = try await target.size()
        if copied > 0 {
            // Resuming is safe only onto a prefix of this very log.
            let common = min(copied, size)
            guard copied <= size,
                try await target.leafHashes(upTo: common) == (try await source.leafHashes(upTo: common))
            else {
                throw LedgerError(
                    .invalidArgument,
                    "\(target.location) already holds a different log; choose another schema"
                )
            }
            note("resuming: the target already holds the first \(copied) entries of this log")
        }
        let alreadyThere = copied
        while copied < size {
            let batch = try await source.entries(in: copied..<min(size, copied + 1000))
            try await target.append(batch, expecting: copied)
            copied += UInt64(batch.count)
            progress(copied, size)
        }
        let kept = Set(try await target.checkpoints().map(\.size))
        var checkpoints = 0
        for checkpoint in try await source.checkpoints() where !kept.contains(checkpoint.size) {
            try await target.keepCheckpoint(checkpoint.note, size: checkpoint.size)
            checkpoints += 1
        }

        // Root for root: the copy is read back from the database and verified on its own.
        let copy = try await target.leaves(upTo: try await target.size())
        let after = Verifier(trustedGenesis: genesis).verify(leaves: copy)
        if let failure = after.failure { throw VerificationFailed(failure: failure) }
        guard after.entries == before.entries, after.root == before.root, after.genesis == before.genesis else {
            throw LedgerError(
                .storage,
                "the copy differs: \(after.entries) entries with root \(after.root.hex), expected \(before.entries) with \(before.root.hex)"
            )
        }
        if `switch` {
            var config = configJSON.objectValue ?? [:]
            config["log"] = .string(url)
            try Files.writeAtomically(
                try CanonicalJSON.encode(.object(config)) + [0x0a],
                to: root.appendingPathComponent(Workspace.configName).path
            )
        }
        return LogMigration(
            entries: size,
            copied: copied - alreadyThere,
            checkpoints: checkpoints,
            root: after.root,
            target: target.location.description,
            switched: `switch`
        )
    }
}
