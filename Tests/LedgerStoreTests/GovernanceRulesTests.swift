import LedgerCore
import LedgerStore
import LedgerTesting
import Testing

/// Every governance and run rule is refused at append time with a clear error and nothing written, and the same
/// event, properly signed and written around the program, is reported by the verifier at its seq.
@Suite("Governance and run rules")
struct GovernanceRulesTests {
    typealias Keys = GovernanceSimulator.Keys

    static let model = GovernanceSimulator.model
    /// A key with both the pipeline and the approver role: it may train a version, but not approve that version.
    static let dual = TestKeys.key("governance-dual")
    static let finishedRun = "access-anomaly/run-1"
    /// A run that started and trained, and is still open.
    static let openRun = "access-anomaly/run-2"

    /// An earlier event and the digest it recorded.
    struct Reference: Sendable, Hashable {
        let seq: UInt64
        let sha256: Hash256

        var jsonValue: JSONValue { ["seq": .int(seq), "sha256": .string(sha256.hex)] }
    }

    /// The hand-written base history, and what the broken events refer to.
    struct BaseLog: Sendable {
        let ledger: Ledger
        let state: LedgerState
        let extracts: [Reference]
        let datasets: [Reference]

        /// `{"name","version","sha256"}` of a registered version (an empty digest if there is none, which a case
        /// would then fail on with the wrong code).
        func fields(_ number: Int) -> [String: JSONValue] {
            [
                "name": .string(GovernanceRulesTests.model), "version": .int(number),
                "sha256": .string(state.models.version(GovernanceRulesTests.model, number)?.artifact.hex ?? ""),
            ]
        }

        func decision(_ number: Int) -> JSONValue {
            .object(fields(number).merging(["reason": "reviewed"]) { $1 })
        }

        func deployment(_ number: Int, to target: String = "production") -> JSONValue {
            .object(fields(number).merging(["target": .string(target)]) { $1 })
        }

        func rollback(_ target: String, from: Int, to: Int) -> JSONValue {
            func side(_ number: Int) -> JSONValue {
                ["version": .int(number), "sha256": fields(number)["sha256"] ?? ""]
            }
            return [
                "name": .string(GovernanceRulesTests.model), "target": .string(target), "from": side(from),
                "to": side(to), "reason": "alert volume doubled",
            ]
        }
    }

    // MARK: - Event data, in the shapes the simulator uses

    static func digest(_ label: String) -> Hash256 { Hash256.sha256(Array("governance-rules:\(label)".utf8)) }

    static func withRun(_ data: [String: JSONValue], _ run: String?) -> JSONValue {
        guard let run else { return .object(data) }
        return .object(data.merging(["run": .string(run)]) { $1 })
    }

    static func extracted(snapshot: Hash256, label: String, run: String?) -> JSONValue {
        withRun(
            [
                "source": ["kind": "sqlite"], "queryDigest": .string(digest("query-\(label)").hex),
                "window": ["from": "2026-03-02T00:00:00.000Z", "to": "2026-03-09T00:00:00.000Z"], "rows": 1000,
                "snapshot": ["sha256": .string(snapshot.hex)], "policy": "refuse", "quarantined": [:],
            ],
            run
        )
    }

    static func built(from extract: Reference, dataset: Hash256, label: String, run: String?) -> JSONValue {
        withRun(
            [
                "extract": ["seq": .int(extract.seq), "snapshot": ["sha256": .string(extract.sha256.hex)]],
                "featureSpec": ["version": 1, "sha256": .string(digest("spec").hex)],
                "dataset": ["sha256": .string(dataset.hex)],
                "manifest": ["sha256": .string(digest("manifest-\(label)").hex)],
                "split": ["holdoutFrom": "2026-03-07T00:00:00.000Z", "holdoutPercent": 20],
                "rows": ["train": 800, "holdout": 200],
                "labelled": ["train": ["anomalous": 0, "benign": 0], "holdout": ["anomalous": 10, "benign": 190]],
            ],
            run
        )
    }

    static func trained(on dataset: Reference, artifact: Hash256, run: String?) -> JSONValue {
        withRun(
            [
                "algorithm": "isolation-forest", "trainer": ["version": "ledger-iforest/1"],
                "parameters": ["trees": 100], "seed": 7, "dataset": dataset.jsonValue,
                "features": ["failed_logins_1h", "distinct_ips_24h"], "rows": 800,
                "artifact": ["sha256": .string(artifact.hex)], "durationMs": 1200,
            ],
            run
        )
    }

    /// A first-model evaluation (no champion) whose verdict and reasons are the gate's own.
    static func evaluated(model: Reference, holdout: Reference, policy: Policy) -> JSONValue {
        let candidate = 0.9
        let verdict = policy.gate.verdict(candidateAucRoc: candidate, champion: nil)
        return [
            "model": model.jsonValue, "holdout": ["dataset": holdout.jsonValue, "rows": 200, "anomalous": 10],
            "alertBudget": ["fraction": 0.05, "k": 10],
            "candidate": [
                "aucRoc": .number(candidate), "averagePrecision": 0.5, "precisionAtK": 0.4, "recallAtBudget": 0.6,
            ],
            "policy": ["sha256": .string(policy.digest.hex)], "verdict": verdict.passed ? "pass" : "fail",
            "reasons": .array(verdict.reasons.map(JSONValue.string)),
        ]
    }

    /// A `drift.measured` between two datasets; its verdict is given, not computed, so a case can get it wrong.
    static func drift(
        reference: Reference,
        current: Reference,
        psis: [Double],
        verdict: String,
        scores: [String: JSONValue]? = nil
    ) -> JSONValue {
        let features = zip(["failed_logins_1h", "distinct_ips_24h", "bytes_out_1h"], psis).map { name, psi in
            JSONValue.object([
                "name": .string(name), "psi": .number(psi),
                "ks": ["statistic": .number(psi / 2), "pValue": .number(1 - psi)], "wasserstein": .number(psi * 3),
            ])
        }
        var data: [String: JSONValue] = [
            "reference": ["dataset": reference.jsonValue], "current": ["dataset": current.jsonValue],
            "features": .array(features), "thresholds": ["moderate": 0.1, "significant": 0.25],
            "verdict": .string(verdict),
        ]
        if let scores {
            data["scores"] = .object(
                scores.merging([
                    "psi": 0.04, "ks": ["statistic": 0.02, "pValue": 0.9], "wasserstein": 0.1,
                ]) { $1 }
            )
        }
        return .object(data)
    }

    static func runStarted(_ run: String) -> JSONValue {
        [
            "run": .string(run), "trigger": "schedule",
            "window": ["from": "2026-03-02T00:00:00.000Z", "to": "2026-03-09T00:00:00.000Z"],
            "config": ["sha256": .string(digest("config").hex)], "code": ["version": "0.1.0"],
        ]
    }

    static func stepFailed(_ run: String) -> JSONValue {
        [
            "run": .string(run), "step": "train", "attempt": 1,
            "error": ["class": "transient", "code": "store.failure", "message": "simulated outage"], "retryInMs": 500,
        ]
    }

    // MARK: - The base history

    /// Appends valid events through the real append path and remembers what later events refer to.
    struct HistoryWriter {
        let ledger: Ledger
        private(set) var extracts: [Reference] = []
        private(set) var datasets: [Reference] = []
        private var labels = 0

        init(ledger: Ledger) { self.ledger = ledger }

        @discardableResult
        func append(_ type: String, _ data: JSONValue, by key: SigningKey) async throws -> UInt64 {
            let appended = try await ledger.append([EventDraft(type: type, data: data)], signedBy: key)
            return try #require(appended.first?.event.seq)
        }

        private mutating func label() -> String {
            labels += 1
            return "\(labels)"
        }

        mutating func extract(by key: SigningKey, run: String? = nil) async throws -> Reference {
            let label = label()
            let snapshot = GovernanceRulesTests.digest("snapshot-\(label)")
            let seq = try await append(
                "data.extracted",
                GovernanceRulesTests.extracted(snapshot: snapshot, label: label, run: run),
                by: key
            )
            extracts.append(Reference(seq: seq, sha256: snapshot))
            return Reference(seq: seq, sha256: snapshot)
        }

        mutating func buildDataset(from extract: Reference, by key: SigningKey) async throws -> Reference {
            let label = label()
            let dataset = GovernanceRulesTests.digest("dataset-\(label)")
            let seq = try await append(
                "dataset.built",
                GovernanceRulesTests.built(from: extract, dataset: dataset, label: label, run: nil),
                by: key
            )
            datasets.append(Reference(seq: seq, sha256: dataset))
            return Reference(seq: seq, sha256: dataset)
        }

        /// data.extracted → dataset.built → model.trained → model.evaluated (pass) → model.registered, all signed by
        /// `key`; returns the new version's number.
        mutating func registerVersion(trainedBy key: SigningKey) async throws -> Int {
            let dataset = try await buildDataset(from: try await extract(by: key), by: key)
            let artifact = GovernanceRulesTests.digest("model-\(label())")
            let trainedSeq = try await append(
                "model.trained",
                GovernanceRulesTests.trained(on: dataset, artifact: artifact, run: nil),
                by: key
            )
            let model = Reference(seq: trainedSeq, sha256: artifact)
            let policy = await ledger.state.policy
            let evaluationSeq = try await append(
                "model.evaluated",
                GovernanceRulesTests.evaluated(model: model, holdout: dataset, policy: policy),
                by: key
            )
            let version = (await ledger.state.models.versions[GovernanceRulesTests.model]?.count ?? 0) + 1
            try await append(
                "model.registered",
                [
                    "name": .string(GovernanceRulesTests.model), "version": .int(version), "model": model.jsonValue,
                    "evaluation": ["seq": .int(evaluationSeq)],
                ],
                by: key
            )
            return version
        }
    }

    /// The base history:
    /// - v1, trained by the pipeline, approved by both approvers and deployed to production;
    /// - v2, approved by A and deployed to production; production then rolls back to v1 (a valid rollback), and B
    ///   rejects v2, which no longer serves;
    /// - v3 rejected by B; v4 approved and deployed to staging, then replaced there by v1 and retired;
    /// - v5, trained by the dual key, approved by A and never deployed;
    /// - a valid drift.measured that scores v1; run 1 started, extracted, had a failed step and completed;
    /// - the policy then requires 2 approvals, and v6 is registered with 1.
    static func baseLog() async throws -> BaseLog {
        let ledger = try await GovernanceSimulator.makeLedger()
        var writer = HistoryWriter(ledger: ledger)
        let approverA = Keys.approvers[0]
        let approverB = Keys.approvers[1]
        let dualRecord = KeyRecord(publicKey: dual.publicKey, name: "dual", roles: [.pipeline, .approver])
        try await writer.append("key.added", dualRecord.jsonValue, by: Keys.admin)

        func governance(_ type: String, by key: SigningKey, _ data: (BaseLog) -> JSONValue) async throws {
            let base = BaseLog(ledger: ledger, state: await ledger.state, extracts: [], datasets: [])
            try await writer.append(type, data(base), by: key)
        }
        func decide(_ type: String, _ number: Int, by key: SigningKey) async throws {
            try await governance(type, by: key) { $0.decision(number) }
        }

        let v1 = try await writer.registerVersion(trainedBy: Keys.pipeline)
        try await decide("model.approved", v1, by: approverA)
        try await decide("model.approved", v1, by: approverB)
        try await governance("model.deployed", by: Keys.deployer) { $0.deployment(v1) }

        let v2 = try await writer.registerVersion(trainedBy: Keys.pipeline)
        try await decide("model.approved", v2, by: approverA)
        try await governance("model.deployed", by: Keys.deployer) { $0.deployment(v2) }
        try await governance("model.rolledBack", by: Keys.deployer) { $0.rollback("production", from: v2, to: v1) }
        try await decide("model.rejected", v2, by: approverB)

        let v3 = try await writer.registerVersion(trainedBy: Keys.pipeline)
        try await decide("model.rejected", v3, by: approverB)
        let v4 = try await writer.registerVersion(trainedBy: Keys.pipeline)
        try await decide("model.approved", v4, by: approverA)
        try await governance("model.deployed", by: Keys.deployer) { $0.deployment(v4, to: "staging") }
        try await governance("model.deployed", by: Keys.deployer) { $0.deployment(v1, to: "staging") }
        try await governance("model.retired", by: Keys.deployer) { .object($0.fields(v4)) }
        let v5 = try await writer.registerVersion(trainedBy: dual)
        try await decide("model.approved", v5, by: approverA)

        let datasets = writer.datasets
        try await governance("drift.measured", by: Keys.pipeline) { base in
            drift(
                reference: datasets[0],
                current: datasets[1],
                psis: [0.05, 0.12, 0.02],
                verdict: "moderate",
                scores: ["model": .object(base.fields(v1))]
            )
        }
        try await writer.append("run.started", runStarted(finishedRun), by: Keys.pipeline)
        _ = try await writer.extract(by: Keys.pipeline, run: finishedRun)
        try await writer.append("step.failed", stepFailed(finishedRun), by: Keys.pipeline)
        try await writer.append("run.completed", ["run": .string(finishedRun)], by: Keys.pipeline)
        try await writer.append("run.started", runStarted(openRun), by: Keys.pipeline)
        try await writer.append(
            "model.trained",
            trained(on: datasets[0], artifact: digest("run 2's model"), run: openRun),
            by: Keys.pipeline
        )

        try await writer.append(
            "policy.set",
            ["policy": Policy(requiredApprovals: 2).jsonValue],
            by: Keys.admin
        )
        let v6 = try await writer.registerVersion(trainedBy: Keys.pipeline)
        try await decide("model.approved", v6, by: approverA)
        #expect([v1, v2, v3, v4, v5, v6] == Array(1...6))

        return BaseLog(ledger: ledger, state: await ledger.state, extracts: writer.extracts, datasets: writer.datasets)
    }

    // MARK: - The broken events

    /// One broken event: what it is, who signs it, and the code and words its refusal must carry.
    struct RuleCase: Sendable {
        let name: String
        let code: LedgerError.Code
        /// Words the reason must contain: the key fact of the refusal.
        let reason: String
        let type: String
        let key: SigningKey
        let data: @Sendable (BaseLog) -> JSONValue

        init(
            _ name: String,
            _ type: String,
            by key: SigningKey,
            code: LedgerError.Code = .policy,
            reason: String,
            data: @escaping @Sendable (BaseLog) -> JSONValue
        ) {
            self.name = name
            self.type = type
            self.key = key
            self.code = code
            self.reason = reason
            self.data = data
        }
    }

    static let cases: [RuleCase] = [
        RuleCase(
            "approve a version that is not registered",
            "model.approved",
            by: Keys.approvers[0],
            reason: "access-anomaly@9 is not a registered version"
        ) { base in
            .object(base.fields(1).merging(["version": 9, "reason": "ok"]) { $1 })
        },
        RuleCase(
            "approve with a sha256 that is not the version's artifact",
            "model.approved",
            by: Keys.approvers[1],
            reason: "not the one this event names"
        ) { base in
            .object(base.fields(5).merging(["sha256": .string(digest("other bytes").hex), "reason": "ok"]) { $1 })
        },
        RuleCase("the key that trained v5 approves it", "model.approved", by: dual, reason: "separation of duties") {
            $0.decision(5)
        },
        RuleCase(
            "approver A approves v1 a second time",
            "model.approved",
            by: Keys.approvers[0],
            reason: "each approver counts once"
        ) { $0.decision(1) },
        RuleCase(
            "approve v3, which was rejected",
            "model.approved",
            by: Keys.approvers[0],
            reason: "access-anomaly@3 was rejected"
        ) { $0.decision(3) },
        RuleCase(
            "approve v4, which was retired",
            "model.approved",
            by: Keys.approvers[1],
            reason: "access-anomaly@4 was retired"
        ) { $0.decision(4) },
        RuleCase(
            "approver A rejects v1, which it already approved",
            "model.rejected",
            by: Keys.approvers[0],
            reason: "already decided on access-anomaly@1"
        ) { $0.decision(1) },
        RuleCase(
            "deploy v6 with 1 of the 2 approvals",
            "model.deployed",
            by: Keys.deployer,
            reason: "has 1 of the 2 distinct approvals"
        ) { $0.deployment(6) },
        RuleCase(
            "deploy v4, which was retired",
            "model.deployed",
            by: Keys.deployer,
            reason: "access-anomaly@4 was retired"
        ) { $0.deployment(4) },
        RuleCase(
            "deploy v3, which was rejected",
            "model.deployed",
            by: Keys.deployer,
            reason: "access-anomaly@3 was rejected"
        ) { $0.deployment(3) },
        RuleCase(
            "deploy v1 to production, which it already serves",
            "model.deployed",
            by: Keys.deployer,
            reason: "access-anomaly@1 already serves production"
        ) { $0.deployment(1) },
        RuleCase(
            "roll production back to v5, approved but never deployed there",
            "model.rolledBack",
            by: Keys.deployer,
            reason: "never served production"
        ) { $0.rollback("production", from: 1, to: 5) },
        RuleCase(
            "roll back from a version that does not serve the target",
            "model.rolledBack",
            by: Keys.deployer,
            reason: "access-anomaly@1 serves production, not access-anomaly@2"
        ) {
            $0.rollback("production", from: 2, to: 1)
        },
        RuleCase(
            "roll back a target that nothing serves",
            "model.rolledBack",
            by: Keys.deployer,
            reason: "nothing to roll back"
        ) { $0.rollback("canary", from: 1, to: 2) },
        RuleCase(
            "roll production back to v2, vetoed after it served",
            "model.rolledBack",
            by: Keys.deployer,
            reason: "access-anomaly@2 was rejected"
        ) { $0.rollback("production", from: 1, to: 2) },
        RuleCase(
            "roll staging back to v4, retired after it served",
            "model.rolledBack",
            by: Keys.deployer,
            reason: "access-anomaly@4 was retired"
        ) { $0.rollback("staging", from: 1, to: 4) },
        RuleCase(
            "retire v1 while it serves production",
            "model.retired",
            by: Keys.deployer,
            reason: "serves production"
        ) { .object($0.fields(1)) },
        RuleCase("retire v4 again", "model.retired", by: Keys.deployer, reason: "already retired") {
            .object($0.fields(4))
        },
        RuleCase(
            "run.completed for a run that already finished",
            "run.completed",
            by: Keys.pipeline,
            reason: "which finished at seq"
        ) { _ in ["run": .string(finishedRun)] },
        RuleCase("run.started reusing a run id", "run.started", by: Keys.pipeline, reason: "already started") { _ in
            runStarted(finishedRun)
        },
        RuleCase(
            "step.failed for a run that never started",
            "step.failed",
            by: Keys.pipeline,
            reason: "never started"
        ) { _ in stepFailed("access-anomaly/run-ghost") },
        RuleCase(
            "a model.trained naming a finished run",
            "model.trained",
            by: Keys.pipeline,
            reason: "which finished at seq"
        ) { base in
            trained(on: base.datasets[0], artifact: digest("late model"), run: finishedRun)
        },
        RuleCase(
            "a second model.trained for a run that already trained",
            "model.trained",
            by: Keys.pipeline,
            reason: "already has its model.trained"
        ) { base in
            trained(on: base.datasets[0], artifact: digest("run 2's second model"), run: openRun)
        },
        RuleCase(
            "a drift.measured whose verdict does not follow from its PSIs",
            "drift.measured",
            by: Keys.pipeline,
            reason: "does not follow from its numbers"
        ) { base in
            drift(reference: base.datasets[0], current: base.datasets[1], psis: [0.05, 0.3, 0.02], verdict: "stable")
        },
        RuleCase(
            "a drift.measured naming a seq that is not a dataset.built",
            "drift.measured",
            by: Keys.pipeline,
            reason: "which is not a dataset.built"
        ) { base in
            drift(reference: base.extracts[0], current: base.datasets[1], psis: [0.01, 0.02, 0.03], verdict: "stable")
        },
        RuleCase(
            "a drift.measured scoring a version that is not registered",
            "drift.measured",
            by: Keys.pipeline,
            reason: "scores.model"
        ) { base in
            drift(
                reference: base.datasets[0],
                current: base.datasets[1],
                psis: [0.01, 0.02, 0.03],
                verdict: "stable",
                scores: ["model": .object(base.fields(1).merging(["version": 9]) { $1 })]
            )
        },
        RuleCase(
            "model.deployed signed by an approver key",
            "model.deployed",
            by: Keys.approvers[0],
            code: .roleNotAllowed,
            reason: "lacks the deployer role"
        ) { $0.deployment(1, to: "canary") },
    ]

    @Test("the base history verifies")
    func baseVerifies() async throws {
        let base = try await Self.baseLog()
        let report = Verifier().verify(leaves: try await base.ledger.store.allEntries().map(\.leaf))
        #expect(report.isVerified, "\(report.failure?.description ?? "")")
        #expect(report.state == base.state)
    }

    @Test("folding the base log's events gives the targets' history")
    func foldedState() async throws {
        let base = try await Self.baseLog()
        var state = LedgerState()
        for entry in try await base.ledger.store.allEntries() {
            let signed = try SignedEvent(leaf: entry.leaf)
            try state.check(signed, signer: try state.signer(of: signed.envelope, event: signed.event))
            state.apply(signed)
        }
        let production = try #require(state.models.targets["production"])
        #expect(production.current?.name == Self.model)
        #expect(production.current?.version == 1, "production rolled back to v1")
        #expect(production.served == ["access-anomaly@1", "access-anomaly@2"])
        let staging = try #require(state.models.targets["staging"])
        #expect(staging.current?.version == 1)
        #expect(staging.served == ["access-anomaly@4", "access-anomaly@1"])
        #expect(state.models.version(Self.model, 2)?.rejections.count == 1, "vetoed after it served")
        #expect(state.models.version(Self.model, 4)?.retiredAt != nil)
        #expect(state.runs.finished[Self.finishedRun] != nil)
        #expect(state.policy.requiredApprovals == 2)
        #expect(state == base.state, "the fold agrees with the append path's state")
    }

    @Test(
        "a broken governance or run event is refused when appending, and the verifier reports it at its seq",
        arguments: cases.indices
    )
    func refusedAndReported(index: Int) async throws {
        let testCase = Self.cases[index]
        let base = try await Self.baseLog()
        let data = testCase.data(base)
        let size = try await base.ledger.store.size()

        let error = await #expect(throws: LedgerError.self, "\(testCase.name)") {
            try await base.ledger.append([EventDraft(type: testCase.type, data: data)], signedBy: testCase.key)
        }
        #expect(error?.code == testCase.code, "\(testCase.name): \(error?.description ?? "appended")")
        #expect(
            error?.reason.contains(testCase.reason) == true,
            "\(testCase.name): \(error?.reason ?? "appended")"
        )
        #expect(try await base.ledger.store.size() == size, "\(testCase.name): a refused append changed the log")

        // Written around the program, the same event is reported by the verifier at its seq.
        let state = base.state
        let event = try Forgery.next(
            after: state,
            type: testCase.type,
            data: data,
            signedBy: testCase.key
        )
        let forged = event.leaf
        let leaves = try await base.ledger.store.allEntries().map(\.leaf)
        let report = Verifier().verify(leaves: leaves + [forged])
        let failure = try #require(report.failure, "\(testCase.name): the verifier accepted it")
        #expect(failure.seq == state.size, "\(testCase.name): \(failure)")
        #expect(failure.code == testCase.code, "\(testCase.name): \(failure)")
        #expect(failure.reason.contains(testCase.reason), "\(testCase.name): \(failure)")
    }
}
