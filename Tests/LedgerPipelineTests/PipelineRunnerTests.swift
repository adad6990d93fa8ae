import Foundation
import LedgerArtifacts
import LedgerAudit
import LedgerCore
import LedgerPipeline
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Synchronization
import Testing

/// A demo Audit DB of 6 weeks and 120 actors, written once for all runner tests: windows 3 to 6 have the 14 days
/// of history the features need.
enum DemoAudit {
    static let path: String = {
        let path = TestScratch.path("runner-audit", suffix: ".db")
        _ = try? DemoAuditGenerator.write(
            to: path,
            configuration: DemoAuditConfiguration(weeks: 6, actors: 120, driftWeek: 5)
        )
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
            auditSource: .sqlite(path: DemoAudit.path),
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

    /// A runner as another process would have it: its own ledger over the same store (and so its own view of
    /// the log), the same artifacts and settings.
    func secondProcess(settings: PipelineSettings? = nil) async throws -> PipelineRunner {
        let ledger = try await Ledger.open(store: self.ledger.store, clock: SteppingClock())
        let steps = PipelineSteps(
            ledger: ledger,
            artifacts: artifacts,
            signer: TestKeys.pipeline,
            workingDirectory: "/tmp"
        )
        var runner = PipelineRunner(steps: steps, settings: settings ?? self.runner.settings, clock: SteppingClock())
        runner.wait = { _, _ in }
        return runner
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
        let seed = try #require(outcome.history.seed)
        let expected = [1, 2].map {
            policy.backoffMs(afterAttempt: $0, step: .train, seed: seed)
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

    @Test("a stop between steps leaves an open run; another process resumes it, never repeats a step, same digests")
    func stopAndResume() async throws {
        let reference = try await RunnerFixture()
        let uninterrupted = try await reference.runner.trigger(try DemoAudit.week(3), by: "manual")

        for stopAfter in [RunStep.extract, .dataset, .train] {
            var fixture = try await RunnerFixture()
            let stop = fixture.runner.stop
            fixture.runner.afterStep = { step in if step == stopAfter { stop.stop() } }
            let first = try await fixture.runner.trigger(try DemoAudit.week(3), by: "manual")
            #expect(first.disposition == .interrupted)
            #expect(try await fixture.runner.openRuns() == [first.history.run])

            let resumed = try await fixture.secondProcess().resume(first.history.run)
            #expect(resumed.disposition == .completed)
            #expect(resumed.resumed)
            let types = try await fixture.types(of: first.history.run)
            for step in [RunStep.extract, .dataset, .train, .evaluate] {
                #expect(types.count { $0 == step.eventType } == 1, "\(step) succeeded exactly once")
            }
            #expect(resumed.history.snapshot == uninterrupted.history.snapshot)
            #expect(resumed.history.dataset == uninterrupted.history.dataset)
            #expect(resumed.history.model == uninterrupted.history.model)
            #expect(try await fixture.runner.openRuns().isEmpty)
        }
    }

    @Test("a runner whose view of the log is stale resumes after another process moved the run on: no step twice")
    func staleResume() async throws {
        var fixture = try await RunnerFixture()
        let stop = fixture.runner.stop
        fixture.runner.afterStep = { step in if step == .dataset { stop.stop() } }
        let run = try await fixture.runner.trigger(try DemoAudit.week(3), by: "manual").history.run

        // Another process takes the run through training, then stops.
        var other = try await fixture.secondProcess()
        let otherStop = other.stop
        other.afterStep = { step in if step == .train { otherStop.stop() } }
        #expect(try await other.resume(run).disposition == .interrupted)

        // The first runner's ledger still thinks the run ends at its dataset.
        fixture.runner.afterStep = nil
        let finished = try await PipelineRunner(
            steps: fixture.runner.steps,
            settings: fixture.runner.settings,
            clock: SteppingClock()
        ).resume(run)
        #expect(finished.disposition == .completed)
        let types = try await fixture.types(of: run)
        for type in ["data.extracted", "dataset.built", "model.trained", "model.evaluated", "run.completed"] {
            #expect(types.count { $0 == type } == 1, "\(type): \(types)")
        }
        // And the log refuses a second step event for the run outright, from any writer.
        let trained = try #require(finished.history.completed[.train])
        await #expect(throws: LedgerError.self) {
            try await fixture.ledger.append(
                [EventDraft(type: "model.trained", data: trained.data)],
                signedBy: TestKeys.pipeline
            )
        }
    }

    @Test("the champion is the one serving when the run started, however late it resumes")
    func championFixedAtStart() async throws {
        var fixture = try await RunnerFixture()
        _ = try #require(try await fixture.runner.trigger(try DemoAudit.week(4), by: "manual").history.registered)
        let stop = fixture.runner.stop
        fixture.runner.afterStep = { step in if step == .dataset { stop.stop() } }
        let run = try await fixture.runner.trigger(try DemoAudit.week(5), by: "manual").history.run
        // v1 is deployed after the run started: the run still has no champion.
        try await fixture.deploy("access-anomaly", 1)
        let resumed = try await fixture.secondProcess().resume(run)
        #expect(resumed.disposition == .completed)
        #expect(resumed.history.completed[.drift] == nil, "nothing served when it started: no drift reference")
        #expect(resumed.history.completed[.evaluate]?.data["champion"] == nil, "judged as a first model")
        // The next window's run starts with v1 serving: drift against it, evaluated against it.
        let next = try await fixture.secondProcess().trigger(try DemoAudit.week(6), by: "manual")
        #expect(next.disposition == .completed)
        #expect(next.history.completed[.drift]?.data["scores"]?["model"]?["version"] == 1)
        #expect(next.history.completed[.evaluate]?.data["champion"]?["version"] == 1)
    }

    @Test("a run resumes only with the configuration it started with; abandon ends it and a rerun starts #2")
    func configurationChange() async throws {
        var fixture = try await RunnerFixture()
        let stop = fixture.runner.stop
        fixture.runner.afterStep = { step in if step == .extract { stop.stop() } }
        let run = try await fixture.runner.trigger(try DemoAudit.week(3), by: "manual").history.run
        var changed = fixture.runner.settings
        changed.configDigest = Hash256.sha256(Array("another config".utf8))
        let other = try await fixture.secondProcess(settings: changed)
        let size = try await fixture.ledger.store.size()
        let refusal = await #expect(throws: LedgerError.self) { try await other.resume(run) }
        #expect(refusal?.code == .runChanged)
        #expect(refusal?.reason.contains("ledger run --abandon \(run)") == true)
        #expect(try await fixture.ledger.store.size() == size, "a refused resume appends nothing")

        let abandoned = try await other.abandon(run, reason: "the trainer settings changed")
        #expect(abandoned.disposition == .failed)
        #expect(abandoned.history.ended?.data["error"]?["code"] == "run.abandoned")
        #expect(abandoned.history.ended?.data["step"] == "dataset")
        let rerun = try await other.trigger(try DemoAudit.week(3), by: "manual", rerunFailed: true)
        #expect(rerun.history.run == run + "#2")
        #expect(rerun.disposition == .completed)
    }

    @Test("a window that has not ended is refused and nothing is appended")
    func futureWindow() async throws {
        let fixture = try await RunnerFixture()
        let size = try await fixture.ledger.store.size()
        // The fixture's clock starts on 2026-03-03 at 09:00 UTC.
        let open = try RunWindow(
            from: try #require(Timestamp(rfc3339: "2026-03-02T00:00:00.000Z")),
            to: try #require(Timestamp(rfc3339: "2026-03-09T00:00:00.000Z"))
        )
        let error = await #expect(throws: LedgerError.self) { try await fixture.runner.trigger(open, by: "manual") }
        #expect(error?.reason.contains("has not ended yet") == true)
        #expect(try await fixture.ledger.store.size() == size)
    }

    @Test("a registration stays right when another writer appends while the candidate is evaluated")
    func registrationUnderConcurrency() async throws {
        var fixture = try await RunnerFixture()
        let other = try await fixture.secondProcess()
        // Just before the evaluation is appended, another process appends: this runner's view is then stale.
        fixture.runner = PipelineRunner(
            steps: {
                var steps = fixture.runner.steps
                steps.willAppend = { type in
                    if type == "model.evaluated" {
                        _ = try? await other.steps.ledger.append(
                            [TestLogs.note("meanwhile")],
                            signedBy: TestKeys.pipeline
                        )
                    }
                }
                return steps
            }(),
            settings: fixture.runner.settings,
            clock: SteppingClock()
        )
        let outcome = try await fixture.runner.trigger(try DemoAudit.week(4), by: "manual")
        #expect(outcome.disposition == .completed)
        let evaluated = try #require(outcome.history.completed[.evaluate])
        let registered = try #require(outcome.history.completed[.register], "the gate passed and it registered")
        #expect(registered.data["evaluation"]?["seq"]?.integerValue == Int64(evaluated.seq))
        let notes = try await fixture.events().filter { $0.type == "note.added" }
        #expect(notes.count == 1 && notes[0].seq < evaluated.seq)
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
