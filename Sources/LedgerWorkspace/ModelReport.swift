import Foundation
public import LedgerCore
import LedgerPipeline
import LedgerProjections
import LedgerSQLite
import LedgerStore

/// Everything `ledger report` shows about one version, read from the log, its projections and a fresh verification;
/// rendered as one self-contained HTML file (inline CSS and SVG, no scripts, nothing fetched) or as Markdown.
public struct ModelReport {
    public struct TimelineEntry {
        public let seq: UInt64
        public let time: Timestamp
        public let type: String
        public let signer: String
        public let keyID: String
        public let summary: String
        public let leafHash: Hash256
        public let proof: [Hash256]
    }

    public struct Series {
        public let name: String
        public let values: [Double]
    }

    public let name: String
    public let version: Int
    public let status: String
    public let logID: String
    public let genesis: Hash256
    public let artifact: String
    public let window: String
    public let dataset: String
    public let datasetRows: String
    public let features: [String]
    public let algorithm: String
    public let parameters: JSONValue
    public let seed: JSONValue
    public let candidate: [(String, String)]
    public let champion: String?
    public let difference: String?
    public let verdict: String
    public let reasons: [String]
    public let policy: String
    public let approvals: [String]
    public let serving: [String]
    public let limitations: [String]
    public let timeline: [TimelineEntry]
    /// Drift measurements in order: their labels, then one series per feature and the scores.
    public let driftLabels: [String]
    public let drift: [Series]
    public let thresholds: (moderate: Double, significant: Double)
    public let verification: (entries: Int, root: Hash256, checkpoint: String?)
    public let reproduce: String

    /// Reads the report of `name@version` from the workspace. Signs a checkpoint of the log as it is now with the
    /// log key (and keeps it), so the inclusion proofs shown can be checked against a signed root.
    public static func read(_ workspace: Workspace, name: String, version: Int) async throws -> ModelReport {
        let store = try await workspace.openStore()
        let size = try await store.size()
        let leaves = try await store.leaves(upTo: size)
        let report = Verifier(trustedGenesis: workspace.genesis, concurrency: 2, keepEvents: true).verify(
            leaves: leaves
        )
        if let failure = report.failure { throw VerificationFailed(failure: failure) }
        let state = report.state
        // Everything shown comes from the leaves just verified, not from the read tables (a cache).
        var projections = Projections()
        var changes = Projections.Changes(recording: false)
        for verified in report.events {
            try projections.apply(verified.event, leafHash: verified.signed.leafHash, changes: &changes)
        }
        guard let entry = projections.registry[VersionKey(name, version)] else {
            throw LedgerError(.invalidArgument, "\(name)@\(version) is not a registered version")
        }
        var checkpoint: String?
        let logKeyPath = try workspace.keyFile(for: .log)
        if Files.exists(logKeyPath) {
            checkpoint = try await LogProofs.checkpoint(
                store: store,
                state: state,
                signer: try KeyFiles.loadPrivateKey(logKeyPath)
            )["note"]?.stringValue
        }
        let reader = LogReader(store: store)
        let trained = try await reader.event(at: entry.trained.seq, of: ModelTrained.self).data
        let evaluated = try await reader.event(at: entry.evaluation.seq, of: ModelEvaluated.self).data
        let built = try await reader.event(at: trained.dataset.seq, of: DatasetBuilt.self).data
        let extracted = try await reader.event(at: built.extract.seq, of: DataExtracted.self).data

        let hashes = leaves.map { MerkleTree.leafHash($0) }
        var timeline: [TimelineEntry] = []
        for node in (projections.lineage(of: VersionKey(name, version)) ?? []).sorted(by: {
            $0.stamp.seq < $1.stamp.seq
        }) {
            let seq = node.stamp.seq
            timeline.append(
                TimelineEntry(
                    seq: seq,
                    time: node.stamp.time,
                    type: node.type,
                    signer: projections.who(node.stamp.actor),
                    keyID: node.stamp.actor,
                    summary: node.detail.sorted { $0.key < $1.key }.map { "\($0.key) \(Self.text($0.value))" }
                        .joined(separator: ", "),
                    leafHash: hashes[Int(seq)],
                    proof: try MerkleTree.inclusionProof(leafIndex: Int(seq), leafHashes: hashes)
                )
            )
        }

        let candidate = evaluated.candidate
        let metrics: [(String, String)] = [
            ("AUC-ROC", candidate.aucRoc), ("average precision", candidate.averagePrecision),
            ("precision@k", candidate.precisionAtK), ("recall@k", candidate.recallAtBudget),
        ].map { ($0.0, Gate.format($0.1)) }
        let champion = evaluated.champion.map { champion in
            "\(champion.name)@\(champion.version): AUC-ROC \(Gate.format(champion.metrics.aucRoc))"
        }
        let difference = evaluated.difference.map { difference in
            "AUC-ROC difference \(Gate.format(difference.aucRoc)), "
                + "\(Int((difference.confidence * 100).rounded())) % interval "
                + "[\(Gate.format(difference.lower)), \(Gate.format(difference.upper))] "
                + "(paired bootstrap, \(difference.replicates) replicates, seed \(difference.seed))"
        }
        let policyDigest = evaluated.policy.sha256.hex
        let policy =
            policyDigest == state.policy.digest.hex
            ? "\(Self.text(state.policy.jsonValue)) (sha256 \(policyDigest.prefix(16))…, still in force)"
            : "sha256 \(policyDigest) (replaced since; the current policy is \(Self.text(state.policy.jsonValue)))"

        let records = projections.driftRecords()
        var drift: [Series] = []
        let names = records.first?.features.map(\.name) ?? []
        for feature in names {
            drift.append(
                Series(
                    name: feature,
                    values: records.map { $0.features.first { $0.name == feature }?.statistics.psi ?? 0 }
                )
            )
        }
        if records.contains(where: { $0.scores != nil }) {
            drift.append(Series(name: "anomaly scores", values: records.map { $0.scores?.psi ?? 0 }))
        }
        let holdout = built.labelled.holdout
        return ModelReport(
            name: name,
            version: version,
            status: entry.status.rawValue,
            logID: state.logID ?? workspace.logID,
            genesis: workspace.genesis,
            artifact: entry.artifact,
            window: "\(extracted.window.from.rfc3339) ..< \(extracted.window.to.rfc3339)",
            dataset: entry.dataset,
            datasetRows:
                "\(built.rows.train) training and \(built.rows.holdout) holdout rows; holdout labels: \(holdout.anomalous) anomalous, \(holdout.benign) benign",
            features: trained.features,
            algorithm: trained.algorithm,
            parameters: trained.parameters,
            seed: .int(trained.seed),
            candidate: metrics,
            champion: champion,
            difference: difference,
            verdict: evaluated.verdict.rawValue,
            reasons: evaluated.reasons,
            policy: policy,
            approvals: entry.approvals.map {
                "\(projections.who($0.stamp.actor)) at seq \($0.stamp.seq)" + ($0.reason.map { ": \($0)" } ?? "")
            },
            serving: entry.serving,
            limitations: [
                "Unsupervised: the Isolation Forest learns what is rare, not what is malicious; rare but legitimate work scores high.",
                "Judged on \(holdout.anomalous) labelled anomalies in the holdout: a small set, so the metrics are noisy (see the interval).",
                "Labels come from analysts, who label few events and make mistakes; unlabelled windows are treated as unknown.",
                "Features cover one actor-hour with a 14-day history: slow attacks spread over days and first-day actors are hard to judge.",
                "Trained on the window above only: behaviour that drifted since (see the drift charts) is not reflected.",
            ],
            timeline: timeline,
            driftLabels: records.map { "seq \($0.measured.seq)" },
            drift: drift,
            thresholds: (workspace.model.drift.moderate, workspace.model.drift.significant),
            verification: (report.entries, report.root, checkpoint),
            reproduce:
                "ledger reproduce \(name)@\(version) --source sqlite:AUDIT.db --workspace '\(workspace.root.path.replacingOccurrences(of: "'", with: "'\\''"))'"
        )
    }

    public static func text(_ value: JSONValue) -> String {
        if let string = value.stringValue { return string }
        return (try? CanonicalJSON.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
