import LedgerArtifacts
import LedgerCore
import LedgerML
import LedgerPipeline
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

/// A small labelled dataset in the `dataset build` format: a dense cluster, with far-away anomalies.
enum SyntheticDataset {
    /// `holdout,a,b,c,label`: `train` rows of inliers (with a few unlabeled), then `holdout` labelled rows of which
    /// every `anomalyEvery`-th is an outlier.
    /// With `separable` false the "anomalies" are drawn like the inliers, so no model can beat chance.
    static func csv(
        train: Int = 400,
        holdout: Int = 200,
        anomalyEvery: Int = 10,
        separable: Bool = true,
        seed: UInt64 = 7
    ) -> [UInt8] {
        var state = seed
        func uniform() -> Double {
            // SplitMix64: enough for test data, and the same on every platform.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        func inlier() -> [Double] { (0..<3).map { _ in uniform() * 2 - 1 } }
        func outlier() -> [Double] {
            separable ? (0..<3).map { _ in (uniform() < 0.5 ? -1 : 1) * (4 + uniform() * 3) } : inlier()
        }
        var text = "holdout,a,b,c,label\n"
        for row in 0..<train {
            text += "0," + inlier().map { "\($0)" }.joined(separator: ",") + (row % 7 == 0 ? ",\n" : ",0\n")
        }
        for row in 0..<holdout {
            let anomalous = (row + 1) % anomalyEvery == 0
            let values = anomalous ? outlier() : inlier()
            text += "1," + values.map { "\($0)" }.joined(separator: ",") + (anomalous ? ",1\n" : ",0\n")
        }
        return Array(text.utf8)
    }
}

/// A log with a pipeline key and datasets recorded by `dataset.built`, for the model steps.
struct ModelFixture {
    let ledger: Ledger
    let artifacts = InMemoryArtifactStore()
    let steps: PipelineSteps

    init(policy: Policy = Policy()) async throws {
        ledger = try await TestLogs.make(notes: 0)
        if policy != Policy() {
            try await ledger.append(
                [EventDraft(type: "policy.set", data: ["policy": policy.jsonValue])],
                signedBy: TestKeys.admin
            )
        }
        steps = PipelineSteps(ledger: ledger, artifacts: artifacts, signer: TestKeys.pipeline, workingDirectory: "/tmp")
    }

    /// Stores `csv` and appends a `data.extracted` (of a snapshot that is not stored) and a `dataset.built` that
    /// records the dataset.
    func record(dataset csv: [UInt8]) async throws -> ArtifactDigest {
        let digest = await artifacts.put(csv)
        let zero = String(repeating: "0", count: 64)
        let extractSeq = try await ledger.store.size()
        try await ledger.append(
            [
                EventDraft(
                    type: "data.extracted",
                    data: [
                        "source": ["kind": "sqlite"], "queryDigest": .string(zero),
                        "window": ["from": "2026-01-01T00:00:00.000Z", "to": "2026-02-01T00:00:00.000Z"],
                        "rows": 1, "snapshot": ["sha256": .string(zero)], "policy": "refuse", "quarantined": [:],
                    ]
                ),
                EventDraft(
                    type: "dataset.built",
                    data: [
                        "extract": ["seq": .int(extractSeq), "snapshot": ["sha256": .string(zero)]],
                        "featureSpec": ["version": 1, "sha256": .string(zero)],
                        "dataset": ["sha256": .string(digest.sha256.hex)], "manifest": ["sha256": .string(zero)],
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
        return digest
    }

    /// Records `csv`, trains `trainer` on it with `seed`, and evaluates the model as a first model of `toy`.
    func trainAndEvaluate(
        _ csv: [UInt8] = SyntheticDataset.csv(),
        trainer: any Trainer = IsolationForestTrainer(),
        seed: UInt64? = 1
    ) async throws -> (dataset: ArtifactDigest, trained: PipelineSteps.Trained, evaluated: PipelineSteps.Evaluated) {
        let dataset = try await record(dataset: csv)
        let trained = try await steps.train(dataset: dataset, trainer: trainer, seed: seed)
        let evaluated = try await steps.evaluate(
            model: trained.artifact,
            champion: nil,
            settings: EvaluationSettings(),
            registerAs: "toy"
        )
        return (dataset, trained, evaluated)
    }
}

@Suite("Train, evaluate, register")
struct ModelStepsTests {
    @Test("train → evaluate → register: a first model that passes becomes version 1, and the log verifies")
    func firstModel() async throws {
        let fixture = try await ModelFixture()
        let (_, trained, evaluated) = try await fixture.trainAndEvaluate(seed: nil)
        #expect(trained.rows == 400)
        #expect(await fixture.artifacts.contains(trained.artifact))
        #expect(evaluated.judgement.verdict.passed, "\(evaluated.judgement.verdict.reasons)")
        #expect(evaluated.judgement.candidate.aucRoc > 0.95)
        #expect(evaluated.registered?.name == "toy")
        #expect(evaluated.registered?.version == 1)
        let state = await fixture.ledger.state
        #expect(state.models.version("toy", 1)?.artifact == trained.artifact.sha256)
        #expect(state.models.version("toy", 1)?.trainedBy == TestKeys.pipeline.keyID)

        let leaves = try await fixture.ledger.store.allEntries().map(\.leaf)
        #expect(Verifier().verify(leaves: leaves).failure == nil)
    }

    @Test("the same dataset and seed give the same artifact; another seed gives another")
    func deterministicTraining() async throws {
        let fixture = try await ModelFixture()
        let dataset = try await fixture.record(dataset: SyntheticDataset.csv())
        let first = try await fixture.steps.train(dataset: dataset, trainer: IsolationForestTrainer(), seed: 5)
        let again = try await fixture.steps.train(
            dataset: dataset,
            trainer: IsolationForestTrainer(threads: 2),
            seed: 5
        )
        let other = try await fixture.steps.train(dataset: dataset, trainer: IsolationForestTrainer(), seed: 6)
        #expect(first.artifact == again.artifact)
        #expect(first.artifact != other.artifact)
    }

    @Test("a candidate worse than the champion is not registered, and model.evaluated records why")
    func worseThanChampion() async throws {
        let fixture = try await ModelFixture()
        let (dataset, _, _) = try await fixture.trainAndEvaluate()
        let champion = try #require(await fixture.ledger.state.models.version("toy", 1))

        // One tree over two rows: barely better than chance.
        let weak = try await fixture.steps.train(
            dataset: dataset,
            trainer: IsolationForestTrainer(trees: 1, samples: 2),
            seed: 3
        )
        let size = try await fixture.ledger.store.size()
        let evaluated = try await fixture.steps.evaluate(
            model: weak.artifact,
            champion: champion,
            settings: EvaluationSettings(replicates: 200),
            registerAs: "toy"
        )
        #expect(!evaluated.judgement.verdict.passed)
        #expect(evaluated.registered == nil)
        #expect(try await fixture.ledger.store.size() == size + 1, "model.evaluated only")
        #expect(await fixture.ledger.state.models.versions["toy"]?.count == 1)
        let event = try await LogReader(store: fixture.ledger.store).event(at: size, ofType: "model.evaluated")
        #expect(event.data["verdict"] == "fail")
        #expect(event.data["champion"]?["version"] == 1)
        let reasons = event.data["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(
            reasons.contains { $0.hasPrefix("improvement over the champion's AUC-ROC") && $0.contains(" < ") },
            "\(reasons)"
        )
        let difference = try #require(event.data["difference"])
        #expect(difference["aucRoc"]?.doubleValue ?? 0 < 0)
        #expect(difference["lower"]?.doubleValue ?? 0 <= difference["upper"]?.doubleValue ?? 0)
    }

    @Test("a first model below the policy's minimum is not registered")
    func belowPolicy() async throws {
        let fixture = try await ModelFixture()
        let (_, _, evaluated) = try await fixture.trainAndEvaluate(SyntheticDataset.csv(separable: false))
        #expect(!evaluated.judgement.verdict.passed)
        let reasons = evaluated.judgement.verdict.reasons
        #expect(reasons.contains { $0.hasPrefix("first model (no champion): AUC-ROC") && $0.contains(" < 0.7000") })
        #expect(evaluated.registered == nil)
    }

    @Test("bad input appends nothing: unknown dataset, unknown model, a holdout without anomalies, a bad name")
    func badInput() async throws {
        let fixture = try await ModelFixture()
        let size = try await fixture.ledger.store.size()
        await #expect(throws: LedgerError.self) {
            try await fixture.steps.train(dataset: .of([1, 2, 3]), trainer: IsolationForestTrainer(), seed: nil)
        }
        await #expect(throws: LedgerError.self) {
            try await fixture.steps.evaluate(
                model: .of([1]),
                champion: nil,
                settings: EvaluationSettings(),
                registerAs: "toy"
            )
        }
        #expect(try await fixture.ledger.store.size() == size)

        let noAnomalies = try await fixture.record(dataset: SyntheticDataset.csv(anomalyEvery: 1_000_000))
        let trained = try await fixture.steps.train(dataset: noAnomalies, trainer: IsolationForestTrainer(), seed: 1)
        let before = try await fixture.ledger.store.size()
        await #expect(throws: LedgerError.self) {
            try await fixture.steps.evaluate(
                model: trained.artifact,
                champion: nil,
                settings: EvaluationSettings(),
                registerAs: "toy"
            )
        }
        await #expect(throws: LedgerError.self) {
            try await fixture.steps.evaluate(
                model: trained.artifact,
                champion: nil,
                settings: EvaluationSettings(),
                registerAs: "bad@name"
            )
        }
        #expect(try await fixture.ledger.store.size() == before)
    }
}
