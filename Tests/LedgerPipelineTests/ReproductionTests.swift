import LedgerArtifacts
import LedgerCore
import LedgerML
import LedgerPipeline
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

/// The built-in trainer under another version name: what a log written by an older build looks like.
struct RenamedTrainer: Trainer {
    let inner = IsolationForestTrainer()
    let version: String

    func identity() -> TrainerIdentity { TrainerIdentity(algorithm: IsolationForest.algorithm, version: version) }
    var parameters: JSONValue { inner.parameters }
    func train(_ data: TrainingData, datasetCSV: [UInt8], seed: UInt64) throws(LedgerError) -> [UInt8] {
        try inner.train(data, datasetCSV: datasetCSV, seed: seed)
    }
    func scores(model: [UInt8], rows: FeatureMatrix) throws(LedgerError) -> [Double] {
        try inner.scores(model: model, rows: rows)
    }
}

@Suite("Reproduce")
struct ReproductionTests {
    static func registered(with trainer: any Trainer) async throws -> (ModelFixture, ModelRules.Version) {
        let fixture = try await ModelFixture()
        _ = try await fixture.trainAndEvaluate(trainer: trainer, seed: 11)
        return (fixture, try #require(await fixture.ledger.state.models.version("toy", 1)))
    }

    /// Reproduces `version` from the fixture's log, reading artifacts from `artifacts` (default: the fixture's).
    static func run(
        _ fixture: ModelFixture,
        _ version: ModelRules.Version,
        artifacts: (any ArtifactStore)? = nil
    ) async throws -> Reproduction {
        try await Reproduction.run(
            version,
            store: fixture.ledger.store,
            state: await fixture.ledger.state,
            artifacts: artifacts ?? fixture.artifacts,
            workingDirectory: "/tmp",
            auditSource: nil
        )
    }

    @Test("a model, its trainer and its metrics reproduce; a changed trainer version is named")
    func trainerVersion() async throws {
        // The fixture's dataset.built names no real snapshot, so the dataset step differs in both runs; the
        // trainer, model and metrics steps are what this test is about.
        let (fixture, version) = try await Self.registered(with: IsolationForestTrainer())
        let same = try await Self.run(fixture, version)
        let outcomes = Dictionary(uniqueKeysWithValues: same.checks.map { ($0.step, $0.outcome) })
        #expect(outcomes["trainer"] == .identical)
        #expect(outcomes["model"] == .identical)
        #expect(outcomes["metrics"] == .identical)
        #expect(outcomes["audit rows"] == .skipped)

        let (older, olderVersion) = try await Self.registered(with: RenamedTrainer(version: "ledger-iforest/0"))
        let changed = try await Self.run(older, olderVersion)
        let trainer = try #require(changed.checks.first { $0.step == "trainer" })
        #expect(trainer.outcome == .differs)
        #expect(trainer.detail.contains("recorded ledger-iforest/0, this build has \(IsolationForest.trainerVersion)"))
        #expect(!changed.isIdentical)
    }

    @Test("a dataset artifact that is gone is reported, not a crash")
    func missingDataset() async throws {
        let fixture = try await ModelFixture()
        let (dataset, _, _) = try await fixture.trainAndEvaluate(seed: 11)
        let version = try #require(await fixture.ledger.state.models.version("toy", 1))
        let reproduction = try await Self.run(fixture, version, artifacts: InMemoryArtifactStore())
        let check = try #require(reproduction.checks.first { $0.step == "dataset artifact" })
        #expect(check.outcome == .differs)
        #expect(check.detail.contains(dataset.description), "\(check.detail)")
    }
}
