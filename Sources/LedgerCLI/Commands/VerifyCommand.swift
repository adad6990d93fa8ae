import ArgumentParser
import Foundation
import LedgerCore
import LedgerProjections
import LedgerSQLite
import LedgerStore
import LedgerWorkspace

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Replay the log and check every signature, chain link, key, role, schema, rule and checkpoint.",
        discussion: """
            Reads the workspace's log, or an exported file with --from (no workspace needed). In a workspace the trust anchor defaults to the genesis hash in ledger.json, the kept checkpoints are checked too, and so are the read tables (registry, deployments, runs, lineage, drift): every row must be what a fresh fold of the verified log gives. On failure it names the first bad seq and the reason, and exits with status 3.

            Examples:
              ledger verify
              ledger verify --from log.jsonl --trust <genesis hash> \\
                --checkpoint cp-1200.txt --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(
        help: ArgumentHelp(
            "Verify an exported JSON Lines file instead of the workspace's log.",
            valueName: "FILE.jsonl"
        )
    )
    var from: String?

    @Option(help: ArgumentHelp("The genesis leaf hash the log must start with.", valueName: "GENESIS_HASH"))
    var trust: String?

    @Option(help: ArgumentHelp("A signed checkpoint the log must be consistent with (repeatable).", valueName: "FILE"))
    var checkpoint: [String] = []

    @Flag(help: "With --from and no --trust: check the log's internal consistency only.")
    var untrusted = false

    @Option(help: ArgumentHelp("Threads for signature checks (default: all cores).", valueName: "N"))
    var threads: Int?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        if let trust, Hash256(hex: trust) == nil { throw ValidationError("--trust must be 64 hex characters") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be 1 to 256") }
        if untrusted, from == nil || trust != nil {
            throw ValidationError("--untrusted applies only to --from without --trust")
        }
        if from != nil, trust == nil, !untrusted {
            throw ValidationError(
                "--from needs --trust GENESIS_HASH: without a trusted genesis, any self-consistent log verifies. Pass --untrusted to check it anyway."
            )
        }
    }

    func run() async throws {
        var leaves: [[UInt8]] = []
        /// The workspace's entries with the store's index columns, checked in the verifier's decoding pass.
        var entries: [LogEntry] = []
        var trusted = trust.flatMap { Hash256(hex: $0) }
        var notes = try checkpoint.map { try Files.readText($0, .checkpoint) }
        let source: String
        var projectionCheck: (head: UInt64, differences: [String])?
        var heads: [KnownHead] = []
        var columnFailure: VerificationFailure?
        var record: HeadRecord?
        if let from {
            leaves = try Self.readExport(from, json: json)
            source = from
        } else {
            let workspace = try workspace.locate()
            // The head record first: an append between the two reads then looks like growth, never truncation.
            do {
                record = try workspace.headRecord.load()
            } catch {
                try failVerification(VerificationFailure(seq: nil, code: .checkpoint, reason: error.reason), json: json)
            }
            if let record {
                heads.append(
                    KnownHead(
                        size: record.size,
                        root: record.root,
                        source: "the head record \(Workspace.headRecordName)"
                    )
                )
            } else {
                Console.current.err(
                    "warning: no head record (\(Workspace.headRecordName)): only the kept checkpoints show whether "
                        + "entries were deleted; it is rebuilt from them"
                )
            }
            let store = try await workspace.openStore()
            let size = try await store.size()
            entries.reserveCapacity(Int(size))
            var cursor: UInt64 = 0
            while cursor < size {
                let page = try await store.entries(in: cursor..<min(size, cursor + 4096))
                guard !page.isEmpty else { break }
                entries.append(contentsOf: page)
                cursor += UInt64(page.count)
            }
            trusted = trusted ?? workspace.genesis
            let kept = try await store.checkpoints()
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
            source = workspace.root.path
        }
        let verifier = Verifier(
            trustedGenesis: trusted,
            checkpoints: notes,
            heads: heads,
            concurrency: threads ?? ProcessInfo.processInfo.activeProcessorCount
        )
        var report = from == nil ? verifier.verify(entries: entries) : verifier.verify(leaves: leaves)
        if report.isVerified, let columnFailure { report = report.failing(columnFailure) }
        if from == nil, report.isVerified, record == nil {
            try Self.rebuildHeadRecord(try workspace.locate(), entries: entries, notes: notes, state: report.state)
        }
        leaves = []
        entries = []
        if from == nil, report.isVerified {
            projectionCheck = try await Self.checkProjections(
                try workspace.locate(),
                verifiedSize: UInt64(report.entries)
            )
        }
        let console = Console.current
        if json {
            var object: [String: JSONValue] = [
                "ok": .bool(report.isVerified), "source": .string(source), "entries": .int(report.entries),
                "size": .int(report.entries), "root": .string(report.root.hex),
                "genesis": report.genesis.map { .string($0.hex) } ?? .null,
                "trusted": .bool(trusted != nil), "checkpoints": .int(report.checkpointsVerified),
                "types": .object(report.countsByType.mapValues { .int($0) }),
            ]
            if let projectionCheck {
                object["projections"] = [
                    "head": .int(projectionCheck.head),
                    "differences": .array(projectionCheck.differences.map(JSONValue.string)),
                ]
                object["ok"] = .bool(projectionCheck.differences.isEmpty)
            }
            if let failure = report.failure {
                object["seq"] = failure.seq.map { .int($0) } ?? .null
                object["code"] = .string(failure.code.rawValue)
                object["reason"] = .string(failure.reason)
            }
            console.json(.object(object))
        } else if report.isVerified {
            console.out("verified \(report.entries) entries from \(source)")
            console.out("  size         \(report.entries)")
            console.out("  root         \(report.root.hex)")
            console.out(
                "  genesis      \(report.genesis?.hex ?? "-")\(trusted == nil ? "  (not checked: pass --trust)" : "  (trusted)")"
            )
            console.out("  checkpoints  \(report.checkpointsVerified) consistent")
            if let projectionCheck {
                console.out(
                    projectionCheck.differences.isEmpty
                        ? "  projections  match the log up to seq \(projectionCheck.head)"
                        : "  projections  \(projectionCheck.differences.count) rows differ from the log: "
                            + projectionCheck.differences.prefix(5).joined(separator: ", ")
                )
            }
            for (type, count) in report.countsByType.sorted(by: { $0.key < $1.key }) {
                console.out("  \(type)  \(count)")
            }
        }
        if let failure = report.failure {
            throw VerificationFailed(failure: failure)
        }
        if let projectionCheck, !projectionCheck.differences.isEmpty {
            throw VerificationFailed(
                failure: VerificationFailure(
                    seq: nil,
                    code: .storage,
                    reason: "the log verifies, but \(projectionCheck.differences.count) read-table rows differ from it "
                        + "(\(projectionCheck.differences.prefix(3).joined(separator: ", "))); run `ledger projections rebuild`"
                )
            )
        }
    }

    /// Compares the saved read tables with a fresh fold of the log, up to the seq they last applied; nil when none
    /// are saved or they are ahead of the entries just verified.
    static func checkProjections(
        _ workspace: Workspace,
        verifiedSize: UInt64
    ) async throws -> (head: UInt64, differences: [String])? {
        let log = try await workspace.openStore()
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
            Console.current.err(
                "note: the read tables were not checked: they are ahead of the \(verifiedSize) entries verified "
                    + "(something appended meanwhile); run verify again"
            )
            return nil
        }
        let fresh = try await ProjectionUpdater.fold(log, upTo: stored.nextSeq)
        return (stored.nextSeq - 1, stored.differences(from: fresh))
    }

    /// Writes a missing head record from the largest kept checkpoint that the verified log matches, so that a
    /// deletion below it is caught from now on. Nothing is written without a checkpoint: an unsigned head taken from
    /// the log itself would vouch for whatever the log now holds.
    static func rebuildHeadRecord(
        _ workspace: Workspace,
        entries: [LogEntry],
        notes: [String],
        state: LedgerState
    ) throws(LedgerError) {
        let sizes = notes.compactMap { try? Verifier.authenticate(checkpoint: $0, state: state).checkpoint.size }
        guard let size = sizes.max(), size >= 1, size <= UInt64(entries.count), let logID = state.logID else {
            return
        }
        // The leaf hashes were checked against the envelope bytes by the verifier that just passed.
        var frontier = MerkleFrontier()
        for entry in entries.prefix(Int(size)) { frontier.append(entry.leafHash) }
        let last = entries[Int(size) - 1].leafHash
        try workspace.headRecord.save(HeadRecord(logID: logID, frontier: frontier, lastLeafHash: last))
        Console.current.err("warning: rebuilt \(Workspace.headRecordName) from the kept checkpoint of size \(size)")
    }

    /// ``readExport(_:)`` for `verify`: a cut or mangled file is a verdict on its bytes (exit 3, and JSON with
    /// `--json`), not an I/O error.
    static func readExport(_ path: String, json: Bool) throws -> [[UInt8]] {
        let result = Result { () throws(LedgerError) in try readExport(path) }
        if case .failure(let error) = result, error.code == .malformed {
            try failVerification(VerificationFailure(seq: nil, code: error.code, reason: error.reason), json: json)
        }
        return try result.get()
    }

    /// Splits an export into leaves: one per line, each line the exact leaf bytes followed by exactly one `\n`, the
    /// last line included (as `ledger export` writes it and the auditor's script requires).
    ///
    /// Throws `event.malformed` naming the file for an empty file, a last line without its newline (a cut file),
    /// CRLF line endings and blank lines, so that these are refused before any entry is judged.
    static func readExport(_ path: String) throws(LedgerError) -> [[UInt8]] {
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
}
