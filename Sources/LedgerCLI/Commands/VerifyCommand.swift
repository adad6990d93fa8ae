import ArgumentParser
import Foundation
import LedgerCore
import LedgerTransparency
import LedgerWorkspace

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Replay the log and check every signature, chain link, key, role, schema, rule and checkpoint.",
        discussion: """
            Reads the workspace's log, or an exported file with --from (no workspace needed). In a workspace the trust anchor defaults to the genesis hash in ledger.json, the kept checkpoints are checked too, and so are the read tables (registry, deployments, runs, lineage, drift): every row must be what a fresh fold of the verified log gives. On failure it names the first bad seq and the reason, and exits with status 3.

            With --policy FILE (a C2SP tlog-policy: the log, the witnesses' vkeys and the quorum), a checkpoint counts only when its witnesses' cosignatures meet the quorum: a --checkpoint without its quorum, a bad cosignature, or no checkpoint with the quorum fails the verification (status 3, naming the missing witnesses). Kept checkpoints without the quorum (signed before witnessing began) are listed and do not count.

            Examples:
              ledger verify
              ledger verify --from log.jsonl --trust <genesis hash> \\
                --checkpoint cp-1200.txt --json
              ledger verify --policy witnesses.policy --checkpoint cp-1200.txt
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

    @Option(
        help: ArgumentHelp(
            "A tlog-policy file: checkpoints count only when its quorum of witnesses cosigned them.",
            valueName: "FILE"
        )
    )
    var policy: String?

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
        let verification: LogVerification
        let threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let witnessPolicy = try policy.map { (path) throws(LedgerError) in
            try WitnessPolicy(bytes: Files.read(path, .policy))
        }
        do {
            if let from {
                verification = try LogVerification.export(
                    from,
                    trust: trust.flatMap { Hash256(hex: $0) },
                    checkpointFiles: checkpoint,
                    policy: witnessPolicy,
                    threads: threads
                )
            } else {
                verification = try await LogVerification.workspace(
                    try workspace.locate(),
                    trust: trust.flatMap { Hash256(hex: $0) },
                    checkpointFiles: checkpoint,
                    policy: witnessPolicy,
                    threads: threads
                ) { Console.current.err($0) }
            }
        } catch let refused as VerificationRefused {
            try failVerification(refused.failure, json: json)
        }
        let report = verification.report
        let projectionCheck = verification.projections
        let console = Console.current
        if json {
            var object: [String: JSONValue] = [
                "ok": .bool(report.isVerified), "source": .string(verification.source), "entries": .int(report.entries),
                "size": .int(report.entries), "root": .string(report.root.hex),
                "genesis": report.genesis.map { .string($0.hex) } ?? .null,
                "trusted": .bool(verification.trusted), "checkpoints": .int(report.checkpointsVerified),
                "types": .object(report.countsByType.mapValues { .int($0) }),
            ]
            if let projectionCheck {
                object["projections"] = [
                    "head": .int(projectionCheck.head),
                    "differences": .array(projectionCheck.differences.map(JSONValue.string)),
                ]
                object["ok"] = .bool(projectionCheck.differences.isEmpty)
            }
            if let witnessing = verification.witnessing {
                object["witnessed"] = witnessing.largestWitnessed.map { witnessedJSON($0) } ?? .null
                object["unwitnessed"] = .array(witnessing.unwitnessed.map { witnessedJSON($0) })
            }
            if let failure = report.failure {
                object["seq"] = failure.seq.map { .int($0) } ?? .null
                object["code"] = .string(failure.code.rawValue)
                object["reason"] = .string(failure.reason)
            }
            console.json(.object(object))
        } else if report.isVerified {
            console.out("verified \(report.entries) entries from \(verification.source)")
            console.out("  size         \(report.entries)")
            console.out("  root         \(report.root.hex)")
            console.out(
                "  genesis      \(report.genesis?.hex ?? "-")\(verification.trusted ? "  (trusted)" : "  (not checked: pass --trust)")"
            )
            console.out("  checkpoints  \(report.checkpointsVerified) consistent")
            if let witnessing = verification.witnessing, let largest = witnessing.largestWitnessed {
                let names = largest.verdict.cosignatures.map(\.witness.name).joined(separator: ", ")
                console.out(
                    "  witnessed    up to size \(largest.verdict.checkpoint.size) (quorum met: \(names.isEmpty ? "none needed" : names)); "
                        + "\(witnessing.witnessed.count) of \(witnessing.checkpoints.count) checkpoints meet the quorum"
                )
                for unwitnessed in witnessing.unwitnessed {
                    console.err(
                        "note: the kept checkpoint of size \(unwitnessed.verdict.checkpoint.size) does not count: "
                            + unwitnessed.verdict.explanation
                    )
                }
            }
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

    private func witnessedJSON(_ judged: PolicyCheckpointVerdict) -> JSONValue {
        [
            "size": .int(judged.verdict.checkpoint.size), "source": .string(judged.source),
            "quorum": .bool(judged.verdict.isMet),
            "cosignatures": .array(
                judged.verdict.cosignatures.map {
                    ["witness": .string($0.witness.name), "timestamp": .int($0.timestamp)]
                }
            ),
            "missing": .array(judged.verdict.missingWitnesses.map(JSONValue.string)),
        ]
    }

    /// ``LogVerification/readExport(_:)``, for the commands that read an export.
    static func readExport(_ path: String) throws(LedgerError) -> [[UInt8]] {
        try LogVerification.readExport(path)
    }

    /// ``LogVerification/readExport(_:)`` for `verify` and `restore`: a cut or mangled file is a verdict on its bytes
    /// (exit 3, and JSON with `--json`), not an I/O error.
    static func readExport(_ path: String, json: Bool) throws -> [[UInt8]] {
        do {
            return try LogVerification.readExportRefusingMalformed(path)
        } catch let refused as VerificationRefused {
            try failVerification(refused.failure, json: json)
        }
    }
}
