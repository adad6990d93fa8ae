import Foundation
import LedgerArtifacts
import LedgerAudit
import LedgerCore
import LedgerPipeline
import LedgerStore
import LedgerTesting
import Synchronization
import Testing

/// A demo Audit DB of 6 weeks and 120 actors, written once for all runner tests: windows 3 to 6 have the 14 days
/// of history the features need.
enum DemoAudit {
    static let path: String = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-runner-\(getpid())")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("audit.db").path
        if !FileManager.default.fileExists(atPath: path) {
            _ = try? DemoAuditGenerator.write(
                to: path,
                configuration: DemoAuditConfiguration(weeks: 6, actors: 120, driftWeek: 5)
            )
        }
        return path
    }()

    /// Week `n` (counted from 1) of the demo.
    static func week(_ number: Int) throws -> RunWindow {
        let start = DemoAuditConfiguration().start + Int64(number - 1) * 7 * 86_400_000
        return try RunWindow(
            from: Timestamp(millisecondsSinceEpoch: start),
            to: Timestamp(millisecondsSinceEpoch: start + 7 * 86_400_000)
        )
    }
}

/// A log, an artifact store and a runner over the demo Audit DB; waits are recorded instead of slept.
struct RunnerFixture {
    let ledger: Ledger
    let artifacts = InMemoryArtifactStore()
    var runner: PipelineRunner
    let waits = Waits()
    static let deployer = TestKeys.key("deployer")

    init(retry: RetryPolicy = RetryPolicy(maxAttempts: 3, initialBackoffMs: 1000, maxBackoffMs: 8000)) async throws {
        ledger = try await TestLogs.make(notes: 0)
        for (key, name, role) in [
            (TestKeys.approver, "approver", Role.approver), (Self.deployer, "deployer", .deployer),
        ] {
            let record = KeyRecord(publicKey: key.publicKey, name: name, roles: [role])
            try await ledger.append([EventDraft(type: "key.added", data: record.jsonValue)], signedBy: TestKeys.admin)
        }
        let steps = PipelineSteps(
            ledger: ledger,
            artifacts: artifacts,
            signer: TestKeys.pipeline,
            workingDirectory: "/tmp"
        )
        let settings = PipelineSettings(
            pipeline: "access-anomaly",
            target: "production",
            auditDatabase: DemoAudit.path,
            trainer: try IsolationForestTrainer(parameters: ["trees": 30, "samples": 128], threads: 1),
            evaluation: EvaluationSettings(replicates: 200),
            retry: retry,
            configDigest: Hash256.sha256(Array("test config".utf8)),
            codeVersion: "test"
        )
        runner = PipelineRunner(steps: steps, settings: settings, clock: SteppingClock())
        let waits = self.waits
        runner.wait = { milliseconds, _ in waits.append(milliseconds) }
    }

    /// Every event of the log, in order.
    func events() async throws -> [Event] {
        try await ledger.store.allEntries().map { try SignedEvent(leaf: $0.leaf).event }
    }

    /// The events that name `run`, by type.
    func types(of run: String) async throws -> [String] {
        try await events().filter { $0.data["run"]?.stringValue == run }.map(\.type)
    }

    /// Approves (with the approver key) and deploys `name@version` to production.
    func deploy(_ name: String, _ version: Int) async throws {
        let state = await ledger.state
        let artifact = try #require(state.models.version(name, version)?.artifact)
        let fields: JSONValue = ["name": .string(name), "version": .int(version), "sha256": .string(artifact.hex)]
        try await ledger.append(
            [EventDraft(type: "model.approved", data: fields.merging(["reason": "reviewed"]))],
            signedBy: TestKeys.approver
        )
        try await ledger.append(
            [EventDraft(type: "model.deployed", data: fields.merging(["target": "production"]))],
            signedBy: Self.deployer
        )
    }
}

/// The backoffs a runner asked to wait, in order.
final class Waits: Sendable {
    private let values = Mutex<[Int]>([])

    func append(_ value: Int) { values.withLock { $0.append(value) } }

    var all: [Int] { values.withLock { $0 } }
}

extension JSONValue {
    fileprivate func merging(_ other: JSONValue) -> JSONValue {
        .object((objectValue ?? [:]).merging(other.objectValue ?? [:]) { $1 })
    }
}

@Suite("Pipeline runner")
struct PipelineRunnerTests {
    @Test("a run appends each step's event once, names the run in each, and a second trigger does nothing")
    func runOnce() async throws {
        let fixture = try await RunnerFixture()
        let window = try DemoAudit.week(3)
        let outcome = try await fixture.runner.trigger(window, by: "manual")
        #expect(outcome.disposition == .completed)
        let run = outcome.history.run
        #expect(run == "access-anomaly/2026-01-19..2026-01-26")
        let types = try await fixture.types(of: run)
        let expected = ["run.started", "data.extracted", "dataset.built", "model.trained", "model.evaluated"]
        #expect(Array(types.prefix(5)) == expected, "nothing is deployed, so drift is skipped")
        #expect(types.last == "run.completed")
        #expect(types.count == (outcome.history.registered == nil ? 6 : 7))

        let size = try await fixture.ledger.store.size()
        let again = try await fixture.runner.trigger(window, by: "schedule")
        #expect(again.disposition == .alreadyCompleted)
        #expect(again.history.run == run)
        #expect(try await fixture.ledger.store.size() == size, "a duplicate trigger appends nothing")
    }

    @Test("with a model deployed, the run measures drift against it and evaluates against it as champion")
    func driftAndChampion() async throws {
        let fixture = try await RunnerFixture()
        let first = try await fixture.runner.trigger(try DemoAudit.week(4), by: "manual")
        let registered = try #require(first.history.registered, "the first model passes the first-model gate")
        #expect(registered == "access-anomaly@1")
        try await fixture.deploy("access-anomaly", 1)
        let second = try await fixture.runner.trigger(try DemoAudit.week(5), by: "manual")
        #expect(second.disposition == .completed)
        let drift = try #require(second.history.completed[.drift])
        #expect(drift.data["scores"]?["model"]?["version"] == 1)
        #expect(second.history.completed[.evaluate]?.data["champion"]?["version"] == 1)
        let types = try await fixture.types(of: second.history.run)
        #expect(
            Array(types.prefix(6)) == [
                "run.started", "data.extracted", "dataset.built", "drift.measured",
                "model.trained", "model.evaluated",
            ]
        )
    }

    @Test("transient failures are retried with the seeded backoff, each recorded as step.failed")
    func transientRetries() async throws {
        var fixture = try await RunnerFixture()
        fixture.runner.beforeAttempt = { (step, attempt) throws(LedgerError) in
            if step == .train, attempt <= 2 { throw LedgerError(.storage, "disk busy, attempt \(attempt)") }
        }
        let outcome = try await fixture.runner.trigger(try DemoAudit.week(3), by: "manual")
        #expect(outcome.disposition == .completed)
        let failed = try await fixture.events().filter { $0.type == "step.failed" }
        #expect(failed.map { $0.data["attempt"]?.integerValue } == [1, 2])
        #expect(failed.allSatisfy { $0.data["step"] == "train" && $0.data["error"]?["class"] == "transient" })
        let policy = fixture.runner.settings.retry
        let expected = [1, 2].map {
            policy.backoffMs(afterAttempt: $0, step: .train, seed: outcome.history.seed)
        }
        #expect(failed.map { $0.data["retryInMs"]?.integerValue.map(Int.init) } == expected.map { $0 })
        #expect(fixture.waits.all == expected, "the runner waited what the events say")
        #expect(outcome.history.completed[.train] != nil)
    }

    @Test("the last failed attempt ends the run; a permanent failure ends it at once; --rerun starts #2")
    func failures() async throws {
        var fixture = try await RunnerFixture()
        fixture.runner.beforeAttempt = { (step, _) throws(LedgerError) in
            if step == .dataset { throw LedgerError(.storage, "always down") }
        }
        let window = try DemoAudit.week(3)
        let outcome = try await fixture.runner.trigger(window, by: "manual")
        #expect(outcome.disposition == .failed)
        let run = outcome.history.run
        #expect(
            try await fixture.types(of: run) == [
                "run.started", "data.extracted", "step.failed", "step.failed", "step.failed", "run.failed",
            ]
        )
        let last = try #require(try await fixture.events().last { $0.type == "step.failed" })
        #expect(last.data["retryInMs"] == nil, "no retry follows the last attempt")
        #expect(try await fixture.runner.trigger(window, by: "manual").disposition == .alreadyFailed)

        fixture.runner.beforeAttempt = { (step, _) throws(LedgerError) in
            if step == .extract { throw LedgerError(.invalidArgument, "bad query") }
        }
        let rerun = try await fixture.runner.trigger(window, by: "manual", rerunFailed: true)
        #expect(rerun.history.run == run + "#2")
        #expect(try await fixture.types(of: run + "#2") == ["run.started", "step.failed", "run.failed"])
        #expect(rerun.history.ended?.data["error"]?["class"] == "permanent")

        fixture.runner.beforeAttempt = nil
        let third = try await fixture.runner.trigger(window, by: "manual", rerunFailed: true)
        #expect(third.history.run == run + "#3")
        #expect(third.disposition == .completed)
        #expect(try await fixture.runner.trigger(window, by: "manual").disposition == .alreadyCompleted)
    }

    @Test("a stop between steps leaves an open run; resuming it never repeats a step and gives the same digests")
    func stopAndResume() async throws {
        let reference = try await RunnerFixture()
        let uninterrupted = try await reference.runner.trigger(try DemoAudit.week(3), by: "manual")

        for stopAfter in [RunStep.extract, .dataset, .train] {
            var fixture = try await RunnerFixture()
            let stop = fixture.runner.stop
            fixture.runner.afterStep = { step in if step == stopAfter { stop.stop() } }
            let first = try await fixture.runner.trigger(try DemoAudit.week(3), by: "manual")
            #expect(first.disposition == .interrupted)
            #expect(await fixture.runner.openRuns() == [first.history.run])

            var resumer = try await RunnerFixture()
            resumer.runner = PipelineRunner(
                steps: fixture.runner.steps,
                settings: fixture.runner.settings,
                clock: SteppingClock()
            )
            let resumed = try await resumer.runner.resume(first.history.run)
            #expect(resumed.disposition == .completed)
            #expect(resumed.resumed)
            let types = try await fixture.types(of: first.history.run)
            for step in [RunStep.extract, .dataset, .train, .evaluate] {
                #expect(types.count { $0 == step.eventType } == 1, "\(step) succeeded exactly once")
            }
            #expect(resumed.history.snapshot == uninterrupted.history.snapshot)
            #expect(resumed.history.dataset == uninterrupted.history.dataset)
            #expect(resumed.history.model == uninterrupted.history.model)
            #expect(await fixture.runner.openRuns().isEmpty)
        }
    }

    @Test("backoff grows exponentially with jitter in [b/2, b), is capped, and is the same for the same inputs")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 10, initialBackoffMs: 1000, maxBackoffMs: 16_000)
        for seed in [UInt64(0), 42, 1 << 52] {
            for attempt in 1...8 {
                let base = min(16_000, 1000 << (attempt - 1))
                let wait = policy.backoffMs(afterAttempt: attempt, step: .train, seed: seed)
                #expect(wait >= base / 2 && wait < base, "attempt \(attempt): \(wait) not in [\(base / 2), \(base))")
                #expect(wait == policy.backoffMs(afterAttempt: attempt, step: .train, seed: seed))
            }
        }
        let waits = Set((1...50).map { policy.backoffMs(afterAttempt: 3, step: .extract, seed: UInt64($0)) })
        #expect(waits.count > 40, "the jitter depends on the seed")
    }
}

@Suite("Pipeline scheduler")
struct PipelineSchedulerTests {
    /// 03:00 UTC on the Monday that ends week `n` of the demo.
    static func monday(after week: Int) throws -> Timestamp {
        Timestamp(millisecondsSinceEpoch: try DemoAudit.week(week).to.millisecondsSinceEpoch + 3 * 3_600_000)
    }

    @Test("after downtime the scheduler runs every missed window once, oldest first, and never again")
    func catchUp() async throws {
        let fixture = try await RunnerFixture()
        let scheduler = PipelineScheduler(
            runner: fixture.runner,
            schedule: CronSchedule.mondayAtThree,
            windowDays: 7,
            log: { _ in }
        )
        // First start, on Wednesday of week 4: only the latest complete week runs.
        let wednesday = Timestamp(
            millisecondsSinceEpoch: try Self.monday(after: 3).millisecondsSinceEpoch + 2 * 86_400_000
        )
        #expect(try await scheduler.dueWindows(now: wednesday) == [try DemoAudit.week(3)])
        try await scheduler.catchUp(now: wednesday)
        // Down for two weeks: weeks 4 and 5 are due, in order.
        let later = try Self.monday(after: 5)
        #expect(try await scheduler.dueWindows(now: later) == [try DemoAudit.week(4), try DemoAudit.week(5)])
        try await scheduler.catchUp(now: later)
        try await scheduler.catchUp(now: later)
        #expect(try await scheduler.dueWindows(now: later).isEmpty)

        let started = try await fixture.events().filter { $0.type == "run.started" }
        let weeks = [try DemoAudit.week(3), try DemoAudit.week(4), try DemoAudit.week(5)]
        #expect(
            started.map { $0.data["run"]?.stringValue ?? "" } == weeks.map { fixture.runner.settings.runID(for: $0) }
        )
        #expect(started.allSatisfy { $0.data["trigger"] == "schedule" })
        #expect(try await fixture.events().count { $0.type == "run.completed" } == 3)
    }

    @Test("a scheduler started after a crash finishes the open run before anything else")
    func resumesOpenRunFirst() async throws {
        var fixture = try await RunnerFixture()
        let stop = fixture.runner.stop
        fixture.runner.afterStep = { step in if step == .dataset { stop.stop() } }
        let crashed = try await fixture.runner.trigger(try DemoAudit.week(3), by: "schedule")
        #expect(crashed.disposition == .interrupted)

        let runner = PipelineRunner(
            steps: fixture.runner.steps,
            settings: fixture.runner.settings,
            clock: SteppingClock()
        )
        let scheduler = PipelineScheduler(runner: runner, schedule: .mondayAtThree, windowDays: 7, log: { _ in })
        try await scheduler.catchUp(now: try Self.monday(after: 4))
        let types = try await fixture.events().map(\.type).filter { $0.hasPrefix("run.") }
        #expect(types == ["run.started", "run.completed", "run.started", "run.completed"])
    }
}
