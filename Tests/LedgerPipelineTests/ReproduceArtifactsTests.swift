import Foundation
import LedgerArtifacts
import LedgerCore
import LedgerPipeline
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

/// `Reproduction` reads every artifact the lineage names back through the store, which checks its digest, and names
/// the one that is damaged or missing (issue 16, case 7: a corrupted model file used to reproduce as `identical`).
@Suite("Reproduce: every stored artifact of the lineage")
struct ReproduceArtifactsTests {
    /// A registered `toy@1` whose snapshot, dataset, manifest and model are all in a folder store.
    struct Lineage {
        let fixture: ModelFixture
        let folder: TemporaryFolder
        let store: FileArtifactStore
        let version: ModelRules.Version
        let snapshot: ArtifactDigest
        let dataset: ArtifactDigest
        let manifest: ArtifactDigest

        /// With `challenger`, a second version `toy@2` (seed 12) is evaluated against `toy@1` under a gate that
        /// lets it pass, and is the version reproduced.
        init(challenger: Bool = false) async throws {
            let permissive = Policy(gate: Gate(minImprovement: -1, minLowerBound: -1))
            fixture = try await ModelFixture(policy: challenger ? permissive : Policy())
            folder = try TemporaryFolder("reproduce-artifacts")
            store = try FileArtifactStore(root: folder.path("artifacts"))
            let csv = SyntheticDataset.csv()
            snapshot = try store.put(Array("an Audit DB snapshot\n".utf8))
            manifest = try store.put(Array("{\"manifest\":1}\n".utf8))
            dataset = try store.put(csv)
            _ = await fixture.artifacts.put(csv)
            let extractSeq = try await fixture.ledger.store.size()
            let zero = String(repeating: "0", count: 64)
            try await fixture.ledger.append(
                [
                    EventDraft(
                        type: "data.extracted",
                        subject: [Subject(name: "snapshot", sha256: snapshot.sha256)],
                        data: [
                            "source": ["kind": "sqlite"], "queryDigest": .string(zero),
                            "window": ["from": "2026-01-01T00:00:00.000Z", "to": "2026-02-01T00:00:00.000Z"],
                            "rows": 1, "snapshot": ["sha256": .string(snapshot.sha256.hex)], "policy": "refuse",
                            "quarantined": [:],
                        ]
                    ),
                    EventDraft(
                        type: "dataset.built",
                        subject: [
                            Subject(name: "dataset", sha256: dataset.sha256),
                            Subject(name: "manifest", sha256: manifest.sha256),
                        ],
                        data: [
                            "extract": ["seq": .int(extractSeq), "snapshot": ["sha256": .string(snapshot.sha256.hex)]],
                            "featureSpec": ["version": 1, "sha256": .string(zero)],
                            "dataset": ["sha256": .string(dataset.sha256.hex)],
                            "manifest": ["sha256": .string(manifest.sha256.hex)],
                            "split": ["holdoutFrom": "2026-01-01T00:00:00.000Z", "holdoutPercent": 20],
                            "rows": ["train": 1, "holdout": 1],
                            "labelled": [
                                "train": ["anomalous": 0, "benign": 1], "holdout": ["anomalous": 1, "benign": 1],
                            ],
                        ]
                    ),
                ],
                signedBy: TestKeys.pipeline
            )
            let trained = try await fixture.steps.train(dataset: dataset, trainer: IsolationForestTrainer(), seed: 11)
            _ = try await fixture.steps.evaluate(
                model: trained.artifact,
                champion: nil,
                settings: EvaluationSettings(),
                registerAs: "toy"
            )
            _ = try store.put(try await fixture.artifacts.get(trained.artifact))
            let first = try #require(await fixture.ledger.state.models.version("toy", 1))
            guard challenger else {
                version = first
                return
            }
            let second = try await fixture.steps.train(dataset: dataset, trainer: IsolationForestTrainer(), seed: 12)
            let evaluated = try await fixture.steps.evaluate(
                model: second.artifact,
                champion: first,
                settings: EvaluationSettings(),
                registerAs: "toy"
            )
            try #require(evaluated.registered?.version == 2, "\(evaluated.judgement.verdict.reasons)")
            _ = try store.put(try await fixture.artifacts.get(second.artifact))
            version = try #require(await fixture.ledger.state.models.version("toy", 2))
            champion = ArtifactDigest(sha256: first.artifact)
        }

        /// The model `toy@2` was evaluated against, with `challenger`.
        var champion: ArtifactDigest?

        var model: ArtifactDigest { ArtifactDigest(sha256: version.artifact) }

        func path(of digest: ArtifactDigest) -> String {
            let hex = digest.sha256.hex
            return folder.path("artifacts/sha256/\(hex.prefix(2))/\(hex)")
        }

        /// Flips one bit of the stored file of `digest`, as a disk fault or an attacker would.
        func corrupt(_ digest: ArtifactDigest) throws {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path(of: digest)))
            bytes[bytes.count / 2] ^= 0x04
            try bytes.write(to: URL(fileURLWithPath: path(of: digest)))
        }

        func reproduce() async throws -> [String: Reproduction.Check] {
            let reproduction = try await Reproduction.run(
                version,
                store: fixture.ledger.store,
                state: await fixture.ledger.state,
                artifacts: store,
                workingDirectory: "/tmp",
                auditSource: nil
            )
            var checks: [String: Reproduction.Check] = [:]
            for check in reproduction.checks { checks[check.step] = check }
            #expect(checks.count == reproduction.checks.count, "each step is checked once")
            #expect(reproduction.isIdentical == !checks.values.contains { $0.outcome == .differs })
            return checks
        }
    }

    static let artifactSteps = ["snapshot artifact", "dataset artifact", "manifest artifact", "model artifact"]

    @Test("intact: the snapshot, dataset, manifest and model each read back intact; the model retrains identical")
    func intact() async throws {
        let lineage = try await Lineage()
        let checks = try await lineage.reproduce()
        for step in Self.artifactSteps {
            #expect(checks[step]?.outcome == .identical, "\(step): \(checks[step]?.detail ?? "no check")")
        }
        #expect(checks["model artifact"]?.detail.contains(lineage.model.description) == true)
        #expect(checks["model"]?.outcome == .identical)
        #expect(checks["metrics"]?.outcome == .identical)
    }

    @Test("a corrupted model file is named, though retraining still gives the registered digest")
    func corruptedModel() async throws {
        let lineage = try await Lineage()
        try lineage.corrupt(lineage.model)
        let checks = try await lineage.reproduce()
        let model = try #require(checks["model artifact"])
        #expect(model.outcome == .differs)
        #expect(model.detail.contains(lineage.model.description) && model.detail.contains("corrupt"), "\(model.detail)")
        #expect(checks["model"]?.outcome == .identical, "the retrained model still matches the record")
        for step in Self.artifactSteps where step != "model artifact" {
            #expect(checks[step]?.outcome == .identical, "\(step)")
        }
    }

    @Test("a corrupted dataset is named; retraining and the metrics are skipped, naming it")
    func corruptedDataset() async throws {
        let lineage = try await Lineage()
        try lineage.corrupt(lineage.dataset)
        let checks = try await lineage.reproduce()
        #expect(checks["dataset artifact"]?.outcome == .differs)
        #expect(checks["dataset artifact"]?.detail.contains("corrupt") == true)
        for step in ["model", "metrics"] {
            #expect(checks[step]?.outcome == .skipped, "\(step)")
            #expect(checks[step]?.detail.contains("dataset artifact \(lineage.dataset)") == true, "\(step)")
        }
        #expect(checks["model artifact"]?.outcome == .identical)
    }

    @Test("a missing artifact is named as missing, whichever it is", arguments: ["snapshot", "manifest", "model"])
    func missingArtifact(name: String) async throws {
        let lineage = try await Lineage()
        let digest = ["snapshot": lineage.snapshot, "manifest": lineage.manifest, "model": lineage.model][name]
        let missing = try #require(digest)
        try FileManager.default.removeItem(atPath: lineage.path(of: missing))
        let checks = try await lineage.reproduce()
        let check = try #require(checks["\(name) artifact"])
        #expect(check.outcome == .differs)
        #expect(check.detail == "\(missing) is missing from the artifact store")
        for step in Self.artifactSteps where step != "\(name) artifact" {
            #expect(checks[step]?.outcome == .identical, "\(step)")
        }
        if name == "snapshot" {
            #expect(checks["dataset"]?.outcome == .skipped, "the dataset cannot be rebuilt without its snapshot")
        }
    }

    @Test("a challenger's champion model is read back too: damaged, it is named and the metrics are skipped")
    func championModel() async throws {
        let lineage = try await Lineage(challenger: true)
        let champion = try #require(lineage.champion)
        let intact = try await lineage.reproduce()
        #expect(intact["champion model artifact"]?.outcome == .identical)
        #expect(intact["metrics"]?.outcome == .identical, "\(intact["metrics"]?.detail ?? "")")
        try lineage.corrupt(champion)
        let checks = try await lineage.reproduce()
        #expect(checks["champion model artifact"]?.outcome == .differs)
        #expect(checks["champion model artifact"]?.detail.contains(champion.description) == true)
        #expect(checks["metrics"]?.outcome == .skipped)
        #expect(checks["model"]?.outcome == .identical)
    }
}
