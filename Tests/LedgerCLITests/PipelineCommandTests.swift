import Foundation
import LedgerCore
import LedgerPipeline
import LedgerTestSupport
import LedgerTesting
import Testing

/// `ledger run`, `ledger schedule` and `ledger drift check` as a user runs them, including real processes that
/// are killed, race each other, and are asked to stop.
@Suite("Pipeline commands", .serialized)
struct PipelineCommandTests {
    static let week4 = "2026-01-26..2026-02-02"
    static let week5 = "2026-02-02..2026-02-09"

    /// A workspace over a demo Audit DB (6 weeks, 120 actors, drift from week 5) whose week-4 model is approved and
    /// deployed, so that a week-5 run has every step, drift included.
    static func deployedWorkspace(backends: [String]? = nil) async throws -> (workspace: TestWorkspace, source: String)
    {
        let workspace = try await TestWorkspace.make(backends: backends)
        let audit = workspace.folder.path("audit.db")
        let demo = await ledger(
            "demo",
            "audit-db",
            "--out",
            audit,
            "--weeks",
            "6",
            "--actors",
            "120",
            "--drift-week",
            "5"
        )
        #expect(demo.status == 0, "\(demo.err)")
        let source = "sqlite:\(audit)"
        let first = await workspace.run("run", "--window", week4, "--source", source, "--json")
        #expect(first.status == 0, "\(first.err)")
        #expect(first.json?["runs"]?.arrayValue?.first?["registered"] == "access-anomaly@1")
        #expect(await workspace.run("approve", "access-anomaly@1", "--reason", "reviewed").status == 0)
        #expect(await workspace.run("deploy", "access-anomaly@1", "--target", "production").status == 0)
        return (workspace, source)
    }

    /// A copy of `workspace`'s folder (log, projections, artifacts, keys), sharing nothing with it.
    static func copy(_ workspace: TestWorkspace) throws -> TestWorkspace {
        let folder = try TemporaryFolder()
        let root = folder.path("ws")
        try FileManager.default.copyItem(atPath: workspace.root, toPath: root)
        return TestWorkspace(
            folder: folder,
            root: root,
            genesis: workspace.genesis,
            adminKey: workspace.adminKey,
            logKey: workspace.logKey,
            logID: workspace.logID
        )
    }

    /// The events of `run`, as `ledger log --json` prints them.
    static func events(of run: String, in workspace: TestWorkspace) async -> [JSONValue] {
        let log = await workspace.run("log", "--json")
        return (log.json?.arrayValue ?? []).filter { $0["data"]?["run"]?.stringValue == run }
    }

    @Test(
        "SIGKILL at every step boundary and inside every step, then resume: each step once, the same digests",
        .enabled(if: ExternalTools.faultsBinary != nil || ExternalTools.required)
    )
    func crashAndResume() async throws {
        let binary = try #require(ExternalTools.faultsBinary, "the ledger-faults executable was not built")
        // The base is on SQLite, so that a folder copy branches it; in the shared pass each branch's log is then
        // migrated into a fresh PostgreSQL schema before the run that is killed.
        let (base, source) = try await Self.deployedWorkspace(backends: [])
        let reference = try Self.copy(base)
        let uninterrupted = await reference.run("run", "--window", Self.week5, "--source", source, "--json")
        let expected = try #require(uninterrupted.json?["runs"]?.arrayValue?.first, "\(uninterrupted.err)")
        let run = try #require(expected["run"]?.stringValue)
        #expect(expected["drift"] != nil, "the reference run measured drift")

        // Killing before step N is the same point as killing after step N-1, so "before" is only needed once.
        let faults =
            ["kill-before:extract"]
            + ["extract", "dataset", "drift", "train", "evaluate"].flatMap {
                ["kill-inside:\($0)", "kill-after:\($0)"]
            }
        for (index, fault) in faults.enumerated() {
            let workspace = try Self.copy(base)
            if TestServices.sharedWorkspaces {
                let store = TestServices.withoutPassword(try TestServices.freshPostgresURL())
                let migrated = await workspace.run("migrate", "--to", store, "--switch")
                try #require(migrated.status == 0, "\(migrated.err)")
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["run", "--window", Self.week5, "--source", source, "--workspace", workspace.root]
            process.environment = ProcessInfo.processInfo.environment.merging(["LEDGER_FAULTS": fault]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL, "\(fault)")

            // Alternate between the two ways a run is finished: --resume, and the next trigger.
            let how = index.isMultiple(of: 2) ? ["--resume", run] : ["--window", Self.week5]
            let resumed = await workspace.run(["run"] + how + ["--source", source, "--json"])
            #expect(resumed.status == 0, "\(fault): \(resumed.err)")
            let outcome = resumed.json?["runs"]?.arrayValue?.last
            #expect(outcome?["status"] == "completed", "\(fault)")
            for member in ["snapshot", "dataset", "model", "verdict", "registered", "drift"] {
                #expect(outcome?[member] == expected[member], "\(fault): \(member)")
            }
            let types = await Self.events(of: run, in: workspace).compactMap { $0["type"]?.stringValue }
            for type in [
                "run.started", "data.extracted", "dataset.built", "drift.measured", "model.trained",
                "model.evaluated", "run.completed",
            ] {
                #expect(types.count { $0 == type } == 1, "\(fault): \(type) \(types)")
            }
            let registrations = types.count { $0 == "model.registered" }
            #expect(registrations == (expected["registered"]?.stringValue == nil ? 0 : 1), "\(fault)")
            let verify = await workspace.run("verify", "--json")
            #expect(verify.status == 0, "\(fault): \(verify.out) \(verify.err)")
        }
    }

    @Test(
        "concurrent `ledger run`s of one window: one runs it, the other waits and finds it done",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func concurrentRuns() async throws {
        let (workspace, source) = try await Self.deployedWorkspace()
        let outcomes = try await Self.runWeek5AtOnce(source: source, in: Array(repeating: workspace, count: 3))
        #expect(outcomes.map(\.status) == [0, 0, 0])
        #expect(outcomes.map(\.disposition).sorted() == ["already-completed", "already-completed", "completed"])
        let log = await workspace.run("log", "--json")
        let started = (log.json?.arrayValue ?? []).filter { $0["type"] == "run.started" }
        #expect(started.count == 2, "the week-4 run and one week-5 run")
        #expect(await workspace.run("verify").status == 0)
    }

    /// Starts one `ledger run --window week5 --wait 300` process per workspace, all at once, and waits for them:
    /// each one's exit status and the disposition its `--json` output gives the run. It waits without holding a
    /// thread: a blocking wait of a minute would starve the other tests' tasks on a 2-core machine.
    static func runWeek5AtOnce(
        source: String,
        in workspaces: [TestWorkspace]
    ) async throws -> [(status: Int32, disposition: String)] {
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let outputs = try workspaces.map { _ in try TemporaryFolder() }
        var exits: [AsyncStream<Void>] = []
        let processes = try zip(workspaces, outputs).map { workspace, output in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [
                "run", "--window", Self.week5, "--source", source, "--wait", "300", "--json", "--workspace",
                workspace.root,
            ]
            _ = FileManager.default.createFile(atPath: output.path("out"), contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: output.url.appendingPathComponent("out"))
            process.standardError = FileHandle.nullDevice
            let (exit, exited) = AsyncStream<Void>.makeStream()
            process.terminationHandler = { _ in exited.finish() }
            exits.append(exit)
            try process.run()
            return process
        }
        for exit in exits { for await _ in exit {} }
        return zip(processes, outputs).map { process, output in
            let text = (try? String(contentsOfFile: output.path("out"), encoding: .utf8)) ?? ""
            let json = try? CanonicalJSON.parse(text)
            let disposition = json?["runs"]?.arrayValue?.first?["disposition"]?.stringValue ?? ""
            return (process.terminationStatus, disposition)
        }
    }

    @Test("a second `ledger run` while one holds the lock is refused with a message naming the holder")
    func lockRefusal() async throws {
        let workspace = try await TestWorkspace.make()
        let lock = try await RunLock.acquire(
            at: URL(fileURLWithPath: workspace.root).appendingPathComponent("run.lock").path,
            purpose: "a test holding the lock"
        )
        let before = try await workspace.size()
        let refused = await workspace.run("run", "--window", Self.week5, "--source", "sqlite:/nonexistent.db")
        #expect(refused.status == 1)
        #expect(refused.err.contains("another process holds the pipeline's run lock"))
        #expect(refused.err.contains("a test holding the lock"))
        #expect(try await workspace.size() == before)
        lock.release()
    }

    @Test("`ledger run` without a source, or with a bad window or trigger, explains itself and appends nothing")
    func badInput() async throws {
        let workspace = try await TestWorkspace.make()
        let before = try await workspace.size()
        let noSource = await workspace.run("run", "--window", Self.week5)
        #expect(noSource.status == 1)
        #expect(noSource.err.contains("no Audit DB: pass --source sqlite:PATH"))
        for (arguments, message) in [
            (["run", "--window", "2026-02-09..2026-02-02"], "--window must be FROM..TO"),
            (["run", "--trigger", "cron"], "--trigger must be manual, schedule or drift"),
            (["run", "--resume", "x", "--rerun"], "--resume and --abandon name a run that exists"),
            (["run", "--resume", "x", "--abandon", "x"], "pass --resume or --abandon, not both"),
            (["schedule", "--cron", "61 * * * *"], "--cron"),
        ] {
            let result = await workspace.run(arguments)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.err.contains(message), "\(arguments): \(result.err)")
        }
        let noFile = await workspace.run("run", "--window", Self.week5, "--source", "sqlite:/nonexistent/audit.db")
        #expect(noFile.status == 1)
        #expect(noFile.err.contains("no Audit DB at /nonexistent/audit.db"))
        let audit = try workspace.folder.write("", to: "empty.db")
        let missing = await workspace.run("run", "--resume", "access-anomaly/nope", "--source", "sqlite:\(audit)")
        #expect(missing.status == 1)
        #expect(missing.err.contains("the log has no run access-anomaly/nope"))
        #expect(try await workspace.size() == before)
    }

    /// Rewrites the workspace's ledger.json with `change` applied to its JSON.
    static func configure(_ workspace: TestWorkspace, _ change: (inout JSONObject) -> Void) throws {
        let path = URL(fileURLWithPath: workspace.root).appendingPathComponent("ledger.json").path
        var config = try CanonicalJSON.parse(try String(contentsOfFile: path, encoding: .utf8)).objectValue ?? [:]
        change(&config)
        try Data(try CanonicalJSON.encode(.object(config))).write(to: URL(fileURLWithPath: path))
    }

    @Test("`ledger drift check` reports stable data, and starts one drift run when the drift crosses the trigger")
    func driftCheck() async throws {
        let (workspace, source) = try await Self.deployedWorkspace()
        let week6 = "2026-02-09..2026-02-16"
        // The deployed model's own week: stable, no run.
        let own = await workspace.run("drift", "check", "--window", Self.week4, "--source", source, "--json")
        #expect(own.status == 0, "\(own.err)")
        #expect(own.json?["verdict"] == "stable")
        #expect(own.json?["triggered"] == false)
        // The drifted week crosses "moderate" but not the default trigger, "significant".
        let below = await workspace.run("drift", "check", "--window", week6, "--source", source, "--json")
        #expect(below.json?["verdict"] == "moderate", "\(below.out)")
        #expect(below.json?["triggered"] == false)
        let before = try await workspace.size()
        try Self.configure(workspace) { config in
            var pipeline = config["pipeline"]?.objectValue ?? [:]
            pipeline["driftTrigger"] = "moderate"
            config["pipeline"] = .object(pipeline)
        }
        let dry = await workspace.run("drift", "check", "--window", week6, "--source", source, "--dry-run", "--json")
        #expect(dry.json?["triggered"] == false)
        #expect(try await workspace.size() == before, "a check and a dry run append nothing")

        let triggered = await workspace.run("drift", "check", "--window", week6, "--source", source, "--json")
        #expect(triggered.status == 0, "\(triggered.err)")
        #expect(triggered.json?["triggered"] == true)
        let run = try #require(triggered.json?["run"]?.stringValue)
        let events = await Self.events(of: run, in: workspace)
        #expect(events.first?["data"]?["trigger"] == "drift")
        #expect(events.contains { $0["type"] == "drift.measured" && $0["data"]?["verdict"] == "moderate" })
        #expect(events.last?["type"] == "run.completed")

        let again = await workspace.run("drift", "check", "--window", week6, "--source", source, "--json")
        #expect(again.status == 0, "\(again.err)")
        let log = await workspace.run("log", "--json")
        let driftRuns = (log.json?.arrayValue ?? []).filter {
            $0["type"] == "run.started" && $0["data"]?["trigger"] == "drift"
        }
        #expect(driftRuns.count == 1, "a second check starts no second drift run")
    }

    @Test("init --source sets pipeline.source, read relative to the workspace")
    func initSource() async throws {
        let folder = try TemporaryFolder()
        let root = folder.path("ws")
        #expect(await ledger("init", root, "--source", "sqlite:audit.db").status == 0)
        let config = try CanonicalJSON.parse(try String(contentsOfFile: root + "/ledger.json", encoding: .utf8))
        #expect(config["pipeline"]?["source"] == "sqlite:audit.db")
        let missing = await ledger("run", "--window", Self.week5, "--workspace", root)
        #expect(missing.status == 1)
        let expected = "no Audit DB at \(root)/audit.db (pipeline.source in ledger.json)"
        #expect(missing.err.contains(expected), "\(missing.err)")
        let bad = await ledger("init", folder.path("other"), "--source", "audit.db")
        #expect(bad.status == 2)
        #expect(bad.err.contains("--source must be sqlite:PATH"))
    }

    @Test("a pipeline setting that is not one, or has the wrong type, is refused with the file and the setting named")
    func badPipelineConfig() async throws {
        let workspace = try await TestWorkspace.make()
        for (pipeline, message) in [
            (["retry": ["maxAttempt": 5]] as JSONValue, "pipeline.retry is an object of whole numbers"),
            (["retry": ["maxAttempts": "5"]], "pipeline.retry is an object of whole numbers"),
            (["windowDays": 0], "pipeline.windowDays must be 1 to 366"),
            (["schedule": "every monday"], "pipeline.schedule"),
            (["driftTrigger": "high"], "pipeline.driftTrigger must be"),
            (["sources": "sqlite:a.db"], "pipeline.sources is not a setting"),
        ] {
            try Self.configure(workspace) { $0["pipeline"] = pipeline }
            let result = await workspace.run("run", "--window", Self.week5, "--source", "sqlite:/x.db")
            #expect(result.status == 1, "\(pipeline)")
            #expect(result.err.contains(message), "\(pipeline): \(result.err)")
        }
    }

    @Test(
        "SIGTERM mid-run: the step finishes, the run stays open, exit 0; the next start finishes it",
        .enabled(if: ExternalTools.faultsBinary != nil || ExternalTools.required)
    )
    func scheduleStopsMidRun() async throws {
        let binary = try #require(ExternalTools.faultsBinary, "the ledger-faults executable was not built")
        let workspace = try await TestWorkspace.make()
        // Three weeks of demo data ending at the last Monday: the window the schedule picks now has data.
        let week: Int64 = 7 * 86_400_000
        let now = Date().timeIntervalSince1970 * 1000
        let lastMonday = try #require(
            CronSchedule("0 0 * * 1").previousFire(
                atOrBefore: Timestamp(millisecondsSinceEpoch: Int64(now))
            )
        )
        let start = Timestamp(millisecondsSinceEpoch: lastMonday.millisecondsSinceEpoch - 3 * week)
        let audit = workspace.folder.path("audit.db")
        let demo = await ledger(
            "demo",
            "audit-db",
            "--out",
            audit,
            "--weeks",
            "3",
            "--actors",
            "120",
            "--start",
            String(start.rfc3339.prefix(10))
        )
        #expect(demo.status == 0, "\(demo.err)")
        let output = workspace.folder.path("schedule.log")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "schedule", "--cron", "0 0 * * 1", "--source", "sqlite:\(audit)", "--workspace", workspace.root,
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["LEDGER_FAULTS": "slow:train:3000"]) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for the dataset step, then stop it while the train step has begun.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline,
            !(try String(contentsOfFile: output, encoding: .utf8)).contains("\"step\":\"dataset\"")
        {
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        let records = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").compactMap {
            try? CanonicalJSON.parse(String($0))
        }
        let messages = records.compactMap { $0["msg"]?.stringValue }
        #expect(messages.contains("stopping: the current step finishes first"))
        #expect(messages.contains("run stopped; it resumes at the next start"), "\(messages)")
        #expect(messages.last == "scheduler stopped")
        let trained = records.first { $0["msg"] == "step completed" && $0["step"] == "train" }
        #expect(trained != nil, "the step that had begun finished before the stop")
        let run = try #require(records.first { $0["msg"] == "run started" }?["run"]?.stringValue)

        // The next start resumes the open run first and finishes it.
        let once = await workspace.run("schedule", "--once", "--cron", "0 0 * * 1", "--source", "sqlite:\(audit)")
        #expect(once.status == 0, "\(once.err)")
        let types = await Self.events(of: run, in: workspace).compactMap { $0["type"]?.stringValue }
        #expect(types.filter { $0 == "model.trained" }.count == 1)
        #expect(types.last == "run.completed", "\(types)")
        #expect(await workspace.run("verify").status == 0)
    }

    @Test(
        "`ledger schedule` logs JSON lines and exits 0 on SIGTERM",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func scheduleStopsOnSigterm() async throws {
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let workspace = try await TestWorkspace.make()
        let audit = workspace.folder.path("audit.db")
        #expect(await ledger("demo", "audit-db", "--out", audit, "--weeks", "3", "--actors", "20").status == 0)
        let output = workspace.folder.path("schedule.log")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["schedule", "--source", "sqlite:\(audit)", "--workspace", workspace.root]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The demo has no rows in the latest window, so the catch-up run fails for good; then it sleeps.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !(try String(contentsOfFile: output, encoding: .utf8)).contains("sleeping until") {
            try await Task.sleep(for: .milliseconds(100))
        }
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        let records = lines.compactMap { try? CanonicalJSON.parse(String($0)) }
        #expect(records.count == lines.count, "every line is a JSON object")
        #expect(records.allSatisfy { $0["time"] != nil && $0["level"] != nil && $0["msg"] != nil })
        let messages = records.compactMap { $0["msg"]?.stringValue }
        #expect(messages.first == "scheduler started")
        #expect(messages.contains("run failed"))
        #expect(messages.last == "scheduler stopped")
        let failed = records.first { $0["msg"] == "step failed" }
        #expect(failed?["code"] == "extract.empty")
        #expect(await workspace.run("verify").status == 0)
    }
}

@Suite("Quickstart")
struct QuickstartTests {
    @Test(
        "quickstart: a verified log, caught tampering, drift flagged from the drift week on, a retrained model that pays off"
    )
    func quickstart() async throws {
        let folder = try TemporaryFolder()
        let result = await ledger("quickstart", "--dir", folder.path("qs"), "--events", "20", "--json")
        try #require(result.status == 0, "\(result.err)")
        let summary = try #require(result.json)
        #expect(summary["verified"] == true)
        #expect(summary["tampered"]?["seq"] == 11, "a note: seq 0 is genesis, 1 adds alice, 2 sets the policy")
        #expect(summary["truncated"]?["seq"]?.integerValue != nil)
        #expect(summary["reproduced"]?["identical"] == true, "\(summary["reproduced"] ?? .null)")
        let serving = try #require(summary["serving"]?.stringValue)
        let registry = await ledger("registry", serving, "--json", "--workspace", folder.path("qs"))
        #expect(registry.json?["status"] == "deployed", "\(registry.out)")
        let again = await ledger("quickstart", "--dir", folder.path("qs"))
        #expect(again.status == 1, "quickstart refuses a folder that already holds a workspace")

        // The auditor's script (docs/auditor-guide.md) on the quickstart's own export and its tampered copy.
        if let python = ExternalTools.python {
            let genesis = try #require(summary["genesis"]?.stringValue)
            let check = ["--trust", genesis, "--checkpoint", folder.path("qs/checkpoint.txt")]
            let verified = try runProcess(python, [AuditorScriptTests.script, folder.path("qs/log.jsonl")] + check)
            #expect(verified.status == 0, "\(verified.out) \(verified.err)")
            let answer = try CanonicalJSON.parse(verified.out.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(answer["root"] == summary["root"], "the script's root is the one ledger verify found")
            for copy in ["tampered.jsonl", "truncated.jsonl"] {
                let caught = try runProcess(python, [AuditorScriptTests.script, folder.path("qs/\(copy)")] + check)
                #expect(caught.status == 1, "\(copy): \(caught.out)")
            }
        } else {
            #expect(!ExternalTools.required, "CI needs the Python peers for the auditor's script")
        }
        let weeks = try #require(summary["weeks"]?.arrayValue)
        #expect(weeks.count == 10)
        let driftStart = try #require(Timestamp(rfc3339: "2026-02-23T00:00:00.000Z"))
        func from(_ week: JSONValue) -> Timestamp? {
            week["window"]?["from"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
        }
        let before = weeks.filter { from($0).map { $0 < driftStart } == true && $0["drift"]?.stringValue != nil }
        #expect(!before.isEmpty)
        #expect(before.allSatisfy { $0["drift"] == "stable" }, "no drift before the drift week: \(before)")
        let driftWeek = try #require(weeks.first { from($0) == driftStart })
        #expect(driftWeek["drift"] != "stable", "drift flagged in the drift week")
        // The first model retrained on drifted data that passes the gate: better than the stale champion.
        let retrained = try #require(
            weeks.first { from($0).map { $0 >= driftStart } == true && $0["registered"]?.stringValue != nil },
            "a model retrained after the drift was registered"
        )
        let candidate = try #require(retrained["candidateAucRoc"]?.doubleValue)
        let champion = try #require(retrained["championAucRoc"]?.doubleValue)
        #expect(candidate > champion, "retrained \(candidate) vs stale champion \(champion)")
    }
}
