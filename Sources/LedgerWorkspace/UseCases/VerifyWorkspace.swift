import Foundation
public import LedgerCore
import LedgerProjections
import LedgerStore
public import LedgerTransparency

/// Verification refused its input before judging any entry: an export cut short or mangled, an unreadable head
/// record. The CLI prints the failure (as JSON with `--json`) and exits with status 3, as for a failed verification.
public struct VerificationRefused: Error, CustomStringConvertible {
    public let failure: VerificationFailure

    public init(failure: VerificationFailure) { self.failure = failure }

    public var description: String { VerificationFailed(failure: failure).description }
}

/// The read tables compared with a fresh fold of the log.
public struct ProjectionComparison: Sendable {
    /// The last seq the tables applied.
    public let head: UInt64
    /// The rows that differ from the fold, described; empty when the tables match.
    public let differences: [String]
}

/// What `ledger verify` found: the verifier's report on the log, and for a workspace the read tables' comparison.
public struct LogVerification: Sendable {
    /// The workspace's folder, or the export's path.
    public let source: String
    /// Whether a genesis hash was trusted (given, or the workspace's own).
    public let trusted: Bool
    /// The verifier's report; a column of the store that disagrees with its signed entry fails it too.
    public let report: VerificationReport
    /// The read tables' comparison; nil for an export, when the log failed, when no tables are saved, or when they
    /// are ahead of the entries verified (something appended meanwhile).
    public let projections: ProjectionComparison?
    /// With a witness policy: each checkpoint's verdict; nil without a policy or when the log failed first.
    public var witnessing: WitnessingCheck? = nil

    /// Verifies the workspace's log: its head record, its trust anchor (`trust`, default the genesis in
    /// `ledger.json`), the kept checkpoints and those in the files `checkpointFiles`, the store's index columns, and
    /// then the read tables. With a witness `policy`, the checkpoints count only when their witnesses meet its
    /// quorum (see ``WitnessingCheck/check(policy:given:kept:state:)``). Opens the log and the read tables once each, without the session's checks, so that a
    /// broken log is reported rather than refused. A missing head record is rebuilt from the largest kept checkpoint
    /// the verified log matches.
    ///
    /// - Parameter warn: receives the warnings (no head record, a head record rebuilt, read tables not checked).
    /// - Returns: the verdict; a failed verification is a value (``report`` and ``projections``), not an error.
    /// - Throws: ``VerificationRefused`` if the head record cannot be read; ``VerificationFailed`` if the read tables
    ///   applied entries the log no longer holds (a truncated log); `LedgerError` if a file or store cannot be read.
    public static func workspace(
        _ workspace: Workspace,
        trust: Hash256?,
        checkpointFiles: [String],
        policy: WitnessPolicy? = nil,
        threads: Int,
        warn: (String) -> Void
    ) async throws -> LogVerification {
        var notes = try checkpointFiles.map { (path) throws(LedgerError) in try Files.readText(path, .checkpoint) }
        let given = zip(checkpointFiles, notes).map { (source: $0, note: $1) }
        // The head record first: an append between the two reads then looks like growth, never truncation.
        let record: HeadRecord?
        do {
            record = try workspace.headRecord.load()
        } catch {
            throw VerificationRefused(failure: VerificationFailure(seq: nil, code: .checkpoint, reason: error.reason))
        }
        var heads: [KnownHead] = []
        if let record {
            heads.append(
                KnownHead(size: record.size, root: record.root, source: "the head record \(Workspace.headRecordName)")
            )
        } else {
            warn(
                "warning: no head record (\(Workspace.headRecordName)): only the kept checkpoints show whether "
                    + "entries were deleted; it is rebuilt from them"
            )
        }
        let store = try await workspace.openStore()
        let size = try await store.size()
        /// The workspace's entries with the store's index columns, checked in the verifier's decoding pass.
        var entries: [LogEntry] = []
        entries.reserveCapacity(Int(size))
        var cursor: UInt64 = 0
        while cursor < size {
            let page = try await store.entries(in: cursor..<min(size, cursor + 4096))
            guard !page.isEmpty else { break }
            entries.append(contentsOf: page)
            cursor += UInt64(page.count)
        }
        let trusted = trust ?? workspace.genesis
        let kept = try await store.checkpoints()
        var columnFailure: VerificationFailure?
        // The checkpoints table's size column, like the entries' columns, must say what its signed note says.
        for (column, note) in kept where columnFailure == nil {
            if let text = try? SignedNote.parse(note).text, let signed = try? Checkpoint(text: text),
                signed.size != column
            {
                columnFailure = VerificationFailure(
                    seq: nil,
                    code: .storage,
                    reason: "the checkpoints table was edited: the row for size \(column) holds a checkpoint "
                        + "signed for size \(signed.size)"
                )
            }
        }
        notes += kept.map(\.note)
        var report = Verifier(trustedGenesis: trusted, checkpoints: notes, heads: heads, concurrency: threads)
            .verify(entries: entries)
        if report.isVerified, let columnFailure { report = report.failing(columnFailure) }
        var witnessing: WitnessingCheck?
        if report.isVerified, let policy {
            switch WitnessingCheck.check(policy: policy, given: given, kept: kept.map(\.note), state: report.state) {
            case .success(let check): witnessing = check
            case .failure(let failure): report = report.failing(failure)
            }
        }
        if report.isVerified, record == nil {
            if let size = try rebuildHeadRecord(workspace, entries: entries, notes: notes, state: report.state) {
                warn("warning: rebuilt \(Workspace.headRecordName) from the kept checkpoint of size \(size)")
            }
        }
        entries = []
        var projections: ProjectionComparison?
        if report.isVerified {
            projections = try await compareProjections(
                workspace,
                log: store,
                verifiedSize: UInt64(report.entries),
                warn: warn
            )
        }
        return LogVerification(
            source: workspace.root.path,
            trusted: true,
            report: report,
            projections: projections,
            witnessing: witnessing
        )
    }

    /// Verifies an exported log (`ledger verify --from`): the leaves of the file at `path` against `trust` (nil:
    /// internal consistency only) and the checkpoints in the files `checkpointFiles`, which with a witness `policy`
    /// must each meet its quorum.
    ///
    /// - Throws: ``VerificationRefused`` if the file is cut short or mangled (see ``readExport(_:)``); `LedgerError`
    ///   if a file cannot be read.
    public static func export(
        _ path: String,
        trust: Hash256?,
        checkpointFiles: [String],
        policy: WitnessPolicy? = nil,
        threads: Int
    ) throws -> LogVerification {
        let notes = try checkpointFiles.map { (path) throws(LedgerError) in try Files.readText(path, .checkpoint) }
        let leaves = try readExportRefusingMalformed(path)
        var report = Verifier(trustedGenesis: trust, checkpoints: notes, concurrency: threads).verify(leaves: leaves)
        var witnessing: WitnessingCheck?
        if report.isVerified, let policy {
            let given = zip(checkpointFiles, notes).map { (source: $0, note: $1) }
            switch WitnessingCheck.check(policy: policy, given: given, kept: [], state: report.state) {
            case .success(let check): witnessing = check
            case .failure(let failure): report = report.failing(failure)
            }
        }
        return LogVerification(
            source: path,
            trusted: trust != nil,
            report: report,
            projections: nil,
            witnessing: witnessing
        )
    }

    /// ``readExport(_:)``, with a cut or mangled file refused as a verdict on its bytes (``VerificationRefused``),
    /// not an I/O error.
    public static func readExportRefusingMalformed(_ path: String) throws -> [[UInt8]] {
        do {
            return try readExport(path)
        } catch  where error.code == .malformed {
            throw VerificationRefused(failure: VerificationFailure(seq: nil, code: error.code, reason: error.reason))
        }
    }

    /// Splits an export into leaves: one per line, each line the exact leaf bytes followed by exactly one `\n`, the
    /// last line included (as `ledger export` writes it and the auditor's script requires).
    ///
    /// Throws `event.malformed` naming the file for an empty file, a last line without its newline (a cut file),
    /// CRLF line endings and blank lines, so that these are refused before any entry is judged.
    public static func readExport(_ path: String) throws(LedgerError) -> [[UInt8]] {
        let bytes = try Files.read(path, .export)
        guard let last = bytes.last else {
            throw LedgerError(.malformed, "\(path) is empty; an export starts with the genesis entry")
        }
        guard last == 0x0a else {
            throw LedgerError(
                .malformed,
                "the last line of \(path) lacks its final newline: the file may be cut short (every line of an "
                    + "export, the last included, ends with exactly one \\n)"
            )
        }
        var lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false).map(Array.init)
        lines.removeLast()  // the empty text after the final newline
        // Say what is wrong with the file itself rather than report a bad entry.
        if lines.contains(where: { $0.last == 0x0d }) {
            throw LedgerError(
                .malformed,
                "\(path) has CRLF line endings; each line of an export must be exactly the leaf bytes (convert with dos2unix)"
            )
        }
        if let blank = lines.firstIndex(where: \.isEmpty) {
            throw LedgerError(
                .malformed,
                "\(path) has a blank line at line \(blank + 1); an export has one entry per line"
            )
        }
        return lines
    }

    /// Compares the saved read tables with a fresh fold of the log, up to the seq they last applied; nil when none
    /// are saved or they are ahead of the entries just verified.
    static func compareProjections(
        _ workspace: Workspace,
        log: any EventStore,
        verifiedSize: UInt64,
        warn: (String) -> Void
    ) async throws -> ProjectionComparison? {
        guard let tables = try await workspace.openProjections(beside: log, create: false),
            let stored = try await tables.load()
        else { return nil }
        guard stored.nextSeq <= verifiedSize else {
            // Either something appended while verify read the log, or the log lost entries the tables had applied.
            let now = try await log.size()
            guard now >= stored.nextSeq else {
                throw VerificationFailed(
                    failure: VerificationFailure(
                        seq: nil,
                        code: .checkpoint,
                        reason: "the read tables applied \(stored.nextSeq) entries, but the log has \(now): entries "
                            + "\(now)..<\(stored.nextSeq) were deleted (truncated log)"
                    )
                )
            }
            warn(
                "note: the read tables were not checked: they are ahead of the \(verifiedSize) entries verified "
                    + "(something appended meanwhile); run verify again"
            )
            return nil
        }
        let fresh = try await ProjectionUpdater.fold(log, upTo: stored.nextSeq)
        return ProjectionComparison(head: stored.nextSeq - 1, differences: stored.differences(from: fresh))
    }

    /// Writes a missing head record from the largest kept checkpoint that the verified log matches, so that a
    /// deletion below it is caught from now on. Nothing is written without a checkpoint: an unsigned head taken from
    /// the log itself would vouch for whatever the log now holds.
    ///
    /// - Returns: the size of the checkpoint it was rebuilt from, or nil if none fits.
    static func rebuildHeadRecord(
        _ workspace: Workspace,
        entries: [LogEntry],
        notes: [String],
        state: LedgerState
    ) throws(LedgerError) -> UInt64? {
        let sizes = notes.compactMap { try? Verifier.authenticate(checkpoint: $0, state: state).checkpoint.size }
        guard let size = sizes.max(), size >= 1, size <= UInt64(entries.count), let logID = state.logID else {
            return nil
        }
        // The leaf hashes were checked against the envelope bytes by the verifier that just passed.
        var frontier = MerkleFrontier()
        for entry in entries.prefix(Int(size)) { frontier.append(entry.leafHash) }
        let last = entries[Int(size) - 1].leafHash
        try workspace.headRecord.save(HeadRecord(logID: logID, frontier: frontier, lastLeafHash: last))
        return size
    }
}

/// One checkpoint judged under a witness policy.
public struct PolicyCheckpointVerdict: Sendable {
    /// The file it was given in, or `kept` for one kept in the store.
    public let source: String
    /// The policy's verdict: who cosigned, and whether the quorum is met.
    public let verdict: QuorumVerdict
}

/// The checkpoints of a verification judged under a witness policy (`ledger verify --policy`).
public struct WitnessingCheck: Sendable {
    /// Every checkpoint judged, given ones first, then the kept ones smallest size first.
    public let checkpoints: [PolicyCheckpointVerdict]

    /// The checkpoints that meet the quorum.
    public var witnessed: [PolicyCheckpointVerdict] { checkpoints.filter(\.verdict.isMet) }
    /// The kept checkpoints that do not meet the quorum and so do not count (signed before witnessing began, or
    /// never cosigned).
    public var unwitnessed: [PolicyCheckpointVerdict] { checkpoints.filter { !$0.verdict.isMet } }
    /// The largest checkpoint that meets the quorum.
    public var largestWitnessed: PolicyCheckpointVerdict? {
        witnessed.max { $0.verdict.checkpoint.size < $1.verdict.checkpoint.size }
    }

    /// Judges checkpoints that already verified against the log (their log signature and root) under `policy`.
    ///
    /// The log keys known from context are the log's `log`-role keys in force at each checkpoint's size, named after
    /// the log's origin; a policy that lists logs uses only its own. A checkpoint given by the caller must meet the
    /// quorum; a kept one that does not is listed in ``unwitnessed`` and does not count; and at least one checkpoint
    /// must meet it.
    ///
    /// - Returns: the verdicts, or the failure: a bad cosignature or log signature (code `witness.badCosignature` or
    ///   `chain.checkpoint`), a given checkpoint without its quorum, or no checkpoint with it (`witness.quorum`,
    ///   naming the missing witnesses).
    public static func check(
        policy: WitnessPolicy,
        given: [(source: String, note: String)],
        kept: [String],
        state: LedgerState
    ) -> Result<WitnessingCheck, VerificationFailure> {
        let origin = state.logID ?? ""
        var judged: [PolicyCheckpointVerdict] = []
        for (source, text) in given + kept.map({ (source: "kept", note: $0) }) {
            let verdict: QuorumVerdict
            do {
                let note = try SignedNote.parse(text)
                let size = try Checkpoint(text: note.text).size
                let known = state.logKeys(atSize: size).compactMap {
                    try? NoteVerifier(name: origin, publicKey: $0.publicKey.rawRepresentation)
                }
                verdict = try policy.evaluate(note, knownLogs: known)
            } catch let error as LedgerError {
                return .failure(
                    VerificationFailure(seq: nil, code: error.code, reason: "\(describe(source)): \(error.reason)")
                )
            } catch {
                return .failure(
                    VerificationFailure(seq: nil, code: .checkpoint, reason: "\(describe(source)): \(error)")
                )
            }
            if !verdict.isMet, source != "kept" {
                return .failure(
                    VerificationFailure(
                        seq: nil,
                        code: .witnessQuorum,
                        reason: "the checkpoint of size \(verdict.checkpoint.size) in \(source) does not count under "
                            + "the policy: \(verdict.explanation)"
                    )
                )
            }
            judged.append(PolicyCheckpointVerdict(source: source, verdict: verdict))
        }
        let check = WitnessingCheck(checkpoints: judged)
        guard check.largestWitnessed != nil else {
            let largest = judged.max { $0.verdict.checkpoint.size < $1.verdict.checkpoint.size }
            return .failure(
                VerificationFailure(
                    seq: nil,
                    code: .witnessQuorum,
                    reason: largest.map {
                        "no checkpoint meets the policy's quorum; the largest, of size \($0.verdict.checkpoint.size): "
                            + $0.verdict.explanation
                    }
                        ?? "no checkpoint to check against the policy: keep one with `ledger checkpoint --witness` or give one with --checkpoint"
                )
            )
        }
        return .success(check)
    }

    private static func describe(_ source: String) -> String {
        source == "kept" ? "a kept checkpoint" : "the checkpoint in \(source)"
    }
}
