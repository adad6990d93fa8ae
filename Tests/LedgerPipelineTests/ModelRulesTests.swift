import LedgerArtifacts
import LedgerCore
import LedgerPipeline
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

/// Every model rule is refused at append time with nothing written, and caught by the verifier when a properly
/// signed event that breaks it is written around the program.
@Suite("Model rules")
struct ModelRulesTests {
    /// A log that ends with a registered `toy@1`, and the data of its three model events.
    static func registeredLog() async throws -> (
        fixture: ModelFixture, trained: JSONValue, evaluated: JSONValue, registered: JSONValue
    ) {
        let fixture = try await ModelFixture()
        let (_, trained, evaluated) = try await fixture.trainAndEvaluate()
        let log = LogReader(store: fixture.ledger.store)
        return (
            fixture,
            try await log.event(at: trained.seq, ofType: "model.trained").data,
            try await log.event(at: evaluated.seq, ofType: "model.evaluated").data,
            try await log.event(at: evaluated.seq + 1, ofType: "model.registered").data
        )
    }

    static func replacing(_ json: JSONValue, _ path: [String], with value: JSONValue?) -> JSONValue {
        guard let first = path.first, var members = json.objectValue else { return value ?? .null }
        if path.count == 1 {
            members[first] = value
        } else {
            members[first] = replacing(members[first] ?? [:], Array(path.dropFirst()), with: value)
        }
        return .object(members)
    }

    /// The broken events: each is the valid event of its type with one thing changed.
    static let cases: [(name: String, type: String, change: [String], value: JSONValue?)] = [
        ("model.trained of a seq that is not dataset.built", "model.trained", ["dataset", "seq"], 0),
        (
            "model.trained of a dataset digest the log never recorded", "model.trained", ["dataset", "sha256"],
            .string(String(repeating: "ab", count: 32))
        ),
        (
            "model.evaluated of a model never trained", "model.evaluated", ["model", "sha256"],
            .string(String(repeating: "cd", count: 32))
        ),
        (
            "model.evaluated under another policy", "model.evaluated", ["policy", "sha256"],
            .string(String(repeating: "ef", count: 32))
        ),
        (
            "model.evaluated claiming pass for an AUC-ROC below the minimum", "model.evaluated",
            ["candidate", "aucRoc"], 0.5
        ),
        ("model.evaluated claiming fail for metrics that pass", "model.evaluated", ["verdict"], "fail"),
        (
            "model.evaluated with a champion that is not registered", "model.evaluated", ["champion"],
            [
                "name": "ghost", "version": 1, "sha256": .string(String(repeating: "00", count: 32)),
                "metrics": ["aucRoc": 0.5, "averagePrecision": 0.5, "precisionAtK": 0.5, "recallAtBudget": 0.5],
            ]
        ),
        ("model.registered skipping a version", "model.registered", ["version"], 3),
        ("model.registered of the same artifact twice", "model.registered", [], nil),
        ("model.registered with a name that MODEL@VERSION cannot parse", "model.registered", ["name"], "a@b"),
    ]

    @Test("a broken model event is refused when appending, and nothing is written", arguments: cases.indices)
    func refusedAtAppend(index: Int) async throws {
        let testCase = Self.cases[index]
        let (fixture, trained, evaluated, registered) = try await Self.registeredLog()
        let valid = ["model.trained": trained, "model.evaluated": evaluated, "model.registered": registered][
            testCase.type
        ]
        var data = try #require(valid)
        if !testCase.change.isEmpty { data = Self.replacing(data, testCase.change, with: testCase.value) }
        if testCase.type == "model.registered", testCase.change.isEmpty {
            data = Self.replacing(data, ["version"], with: 2)  // version 2 of the artifact that is already version 1
        }
        let size = try await fixture.ledger.store.size()
        await #expect(throws: LedgerError.self, "\(testCase.name)") {
            try await fixture.ledger.append([EventDraft(type: testCase.type, data: data)], signedBy: TestKeys.pipeline)
        }
        #expect(try await fixture.ledger.store.size() == size)

        // Written around the program, the same event is reported by the verifier at its seq.
        let state = await fixture.ledger.state
        let leaves = try await fixture.ledger.store.allEntries().map(\.leaf)
        let event = try Forgery.next(
            after: state,
            type: testCase.type,
            data: data,
            signedBy: TestKeys.pipeline
        )
        let forged = event.leaf
        let report = Verifier().verify(leaves: leaves + [forged])
        #expect(report.failure?.seq == state.size, "\(testCase.name): \(report.failure?.description ?? "verified")")
        #expect([LedgerError.Code.policy, .schema].contains(report.failure?.code))
    }

    @Test("a model.registered naming a failed evaluation is refused")
    func registeringAFailure() async throws {
        let fixture = try await ModelFixture()
        let (_, trained, evaluated) = try await fixture.trainAndEvaluate(SyntheticDataset.csv(separable: false))
        #expect(!evaluated.judgement.verdict.passed)
        let forged = EventDraft(
            type: "model.registered",
            data: [
                "name": "toy", "version": 1,
                "model": ["seq": .int(trained.seq), "sha256": .string(trained.artifact.sha256.hex)],
                "evaluation": ["seq": .int(evaluated.seq)],
            ]
        )
        await #expect(throws: LedgerError.self) {
            try await fixture.ledger.append([forged], signedBy: TestKeys.pipeline)
        }
    }
}

@Suite("Dataset lineage rule")
struct DatasetLineageTests {
    @Test("a dataset.built naming a snapshot that no data.extracted recorded is refused, and verify reports it")
    func unknownSnapshot() async throws {
        let fixture = try await ModelFixture()
        _ = try await fixture.record(dataset: SyntheticDataset.csv())
        let log = LogReader(store: fixture.ledger.store)
        let size = try await fixture.ledger.store.size()
        let valid = try await log.event(at: size - 1, ofType: "dataset.built").data
        let broken = [
            ModelRulesTests.replacing(
                valid,
                ["extract", "snapshot", "sha256"],
                with: .string(String(repeating: "ab", count: 32))
            ),
            ModelRulesTests.replacing(valid, ["extract", "seq"], with: 0),
        ]
        for data in broken {
            await #expect(throws: LedgerError.self) {
                try await fixture.ledger.append(
                    [EventDraft(type: "dataset.built", data: data)],
                    signedBy: TestKeys.pipeline
                )
            }
            let state = await fixture.ledger.state
            let event = try Forgery.next(
                after: state,
                type: "dataset.built",
                data: data,
                signedBy: TestKeys.pipeline
            )
            let leaves = try await fixture.ledger.store.allEntries().map(\.leaf)
            let report = Verifier().verify(
                leaves: leaves + [event.leaf]
            )
            #expect(report.failure?.seq == state.size)
            #expect(report.failure?.code == .policy)
        }
        #expect(try await fixture.ledger.store.size() == size)
    }
}
