import Foundation
import LedgerCore
import LedgerPostgres
import LedgerTestSupport
import LedgerTesting
import Testing

/// The shared deployment: the log and projections in PostgreSQL, the artifacts in S3-compatible storage. The same
/// commands as on the embedded default, the same results, and what only a server can do to you: stop.
@Suite("PostgreSQL and S3 backends", .serialized, .enabled(if: TestServices.sharedBackendsEnabled))
struct SharedBackendTests {
    /// `ledger append` of a note, signed with the workspace's pipeline key.
    static func appendNote(_ text: String, to workspace: TestWorkspace) async -> CLIResult {
        await workspace.run(
            "append",
            "--key",
            workspace.root + "/keys/pipeline.key",
            "--type",
            "note.added",
            "--data",
            "{\"text\":\"\(text)\"}"
        )
    }

    @Test("the pipeline end to end on PostgreSQL and S3 gives the digests and verdicts it gives on SQLite and files")
    func pipelineEndToEnd() async throws {
        let (embedded, source) = try await PipelineCommandTests.deployedWorkspace(backends: [])
        let (shared, _) = try await PipelineCommandTests.deployedWorkspace(
            backends: try TestServices.sharedWorkspaceArguments()
        )
        let config = try CanonicalJSON.parse(try String(contentsOfFile: shared.root + "/ledger.json", encoding: .utf8))
        #expect(config["log"]?.stringValue?.hasPrefix("postgres://") == true)
        #expect(config["artifacts"]?.stringValue?.hasPrefix("s3://") == true)
        #expect(!FileManager.default.fileExists(atPath: shared.root + "/ledger.db"))

        // The drift week: every step, drift included, on both.
        var outcomes: [JSONValue] = []
        for workspace in [embedded, shared] {
            let result = await workspace.run(
                "run",
                "--window",
                PipelineCommandTests.week5,
                "--source",
                source,
                "--json"
            )
            #expect(result.status == 0, "\(result.err)")
            outcomes.append(try #require(result.json?["runs"]?.arrayValue?.first))
        }
        #expect(outcomes[1]["status"] == "completed")
        for member in ["snapshot", "dataset", "model", "verdict", "registered", "drift"] {
            #expect(outcomes[0][member] == outcomes[1][member], "\(member)")
        }
        // The read side comes from PostgreSQL's tables and says what SQLite's says.
        for query in [["registry", "--json"], ["deployments", "--json"], ["drift", "--json"]] {
            let (a, b) = (await embedded.run(query), await shared.run(query))
            #expect(b.status == 0, "\(query): \(b.err)")
            #expect(a.json?.arrayValue?.count == b.json?.arrayValue?.count, "\(query)")
        }
        let verify = await shared.run("verify", "--json")
        #expect(verify.status == 0, "\(verify.out) \(verify.err)")
        #expect(verify.json?["projections"]?["differences"]?.arrayValue?.isEmpty == true, "\(verify.out)")
        let reproduce = await shared.run("reproduce", "access-anomaly@1", "--json")
        #expect(reproduce.status == 0, "\(reproduce.err)")
    }

    @Test("`ledger migrate --to postgres://` copies a SQLite log root for root, resumes, and switches the workspace")
    func migrate() async throws {
        let (workspace, _) = try await PipelineCommandTests.deployedWorkspace(backends: [])
        let before = await workspace.run("verify", "--json")
        let root = try #require(before.json?["root"]?.stringValue)
        let entries = try #require(before.json?["entries"]?.integerValue)
        let target = TestServices.withoutPassword(try TestServices.freshPostgresURL())

        let copy = await workspace.run("migrate", "--to", target, "--json")
        #expect(copy.status == 0, "\(copy.err)")
        #expect(copy.json?["root"]?.stringValue == root)
        #expect(copy.json?["copied"]?.integerValue == entries)
        #expect(copy.json?["switched"] == .bool(false))

        // Again: nothing left to copy, and this time the workspace switches to the new log.
        let again = await workspace.run("migrate", "--to", target, "--switch", "--json")
        #expect(again.status == 0, "\(again.err)")
        #expect(again.json?["copied"]?.integerValue == 0)
        let config = try CanonicalJSON.parse(
            try String(contentsOfFile: workspace.root + "/ledger.json", encoding: .utf8)
        )
        #expect(config["log"]?.stringValue == target)
        let after = await workspace.run("verify", "--json")
        #expect(after.status == 0, "\(after.err)")
        #expect(after.json?["root"]?.stringValue == root)

        // The migrated log takes new events through the normal path.
        let note = await Self.appendNote("after the move", to: workspace)
        #expect(note.status == 0, "\(note.err)")
        #expect(try await workspace.size() == entries + 1)

        // A target that holds another log is refused, and nothing is written to it.
        let (other, _) = try await PipelineCommandTests.deployedWorkspace(backends: [])
        let refused = await other.run("migrate", "--to", target)
        #expect(refused.status != 0)
        #expect(refused.err.contains("already holds a different log"), "\(refused.err)")
        #expect(try await workspace.size() == entries + 1)
    }

    @Test(
        "`ledger run`s of one window from three workspace folders on one PostgreSQL log: one runs it, the others wait for the log's run lock and find it done",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func runsFromSeveralMachines() async throws {
        let (workspace, source) = try await PipelineCommandTests.deployedWorkspace(
            backends: try TestServices.sharedWorkspaceArguments()
        )
        // Copies of the folder share the log, not the folder's lock file: as workspaces on three machines would.
        let machines = try (0..<3).map { _ in try PipelineCommandTests.copy(workspace) }
        let config = try CanonicalJSON.parse(
            try String(contentsOfFile: workspace.root + "/ledger.json", encoding: .utf8)
        )
        let url = try #require(config["log"]?.stringValue)

        // While somebody elsewhere holds the log's lock, a run is refused at once, naming the holder.
        let held = try await PostgresRunLock.connect(
            to: try await PostgresEventStore.open(url),
            holder: "a test on another machine"
        )
        try #require(try await held.tryTake())
        let before = try await workspace.size()
        let refused = await machines[0].run("run", "--window", PipelineCommandTests.week5, "--source", source)
        #expect(refused.status == 1)
        #expect(refused.err.contains("holds the pipeline's run lock in the log's database"), "\(refused.err)")
        #expect(refused.err.contains("a test on another machine"), "\(refused.err)")
        #expect(try await workspace.size() == before, "a refused run appended")
        held.release()

        let outcomes = try await PipelineCommandTests.runWeek5AtOnce(source: source, in: machines)
        #expect(outcomes.map(\.status) == [0, 0, 0], "without the log's lock, the later two fail on the log's rules")
        #expect(outcomes.map(\.disposition).sorted() == ["already-completed", "already-completed", "completed"])
        let log = await workspace.run("log", "--json")
        let types = (log.json?.arrayValue ?? []).compactMap { $0["type"]?.stringValue }
        #expect(types.count { $0 == "run.started" } == 2, "the week-4 run and one week-5 run")
        #expect(types.count { $0 == "run.completed" } == 2, "\(types)")
        #expect(await workspace.run("verify").status == 0)
    }

    @Test(
        "`ledger serve` on PostgreSQL and S3 switches to a version deployed by another process at once (NOTIFY, not the poll)",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func serveSwitchesOnNotify() async throws {
        let (workspace, source) = try await PipelineCommandTests.deployedWorkspace(
            backends: try TestServices.sharedWorkspaceArguments()
        )
        let serve = try await ServeProcess.start(workspace, ["--poll", "600"])
        defer { if serve.process.isRunning { serve.process.terminate() } }
        #expect(try await serve.get("/v1/model").1?["model"]?["version"]?.integerValue == 1)

        let run = await workspace.run("run", "--window", PipelineCommandTests.week5, "--source", source, "--json")
        #expect(run.json?["runs"]?.arrayValue?.first?["registered"] == "access-anomaly@2", "\(run.err)")
        #expect(await workspace.run("approve", "access-anomaly@2", "--reason", "reviewed").status == 0)
        #expect(await workspace.run("deploy", "access-anomaly@2", "--target", "production").status == 0)
        let deployed = ContinuousClock.now
        var version: Int64?
        while version != 2 && ContinuousClock.now - deployed < .seconds(30) {
            try await Task.sleep(for: .milliseconds(50))
            version = try await serve.get("/v1/model").1?["model"]?["version"]?.integerValue
        }
        #expect(version == 2, "the service polls every 600 s, so only NOTIFY can switch it within 30 s")
        let verify = await workspace.run("verify", "--json")
        #expect(verify.status == 0, "\(verify.out)")
        serve.process.terminate()
        serve.process.waitUntilExit()
        #expect(serve.process.terminationStatus == 0)
    }

    @Test(
        "`ledger events --follow` on PostgreSQL prints an event appended by another process at once (NOTIFY, not the poll)",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func followWakesOnNotify() async throws {
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let workspace = try await TestWorkspace.make(backends: try TestServices.sharedWorkspaceArguments())
        let size = try await workspace.size()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "events", "--follow", "--poll", "3600", "--after", String(size - 1), "--limit", "1", "--workspace",
            workspace.root,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        try await Task.sleep(for: .seconds(1))  // the follower reads the log, then waits for a signal
        let started = ContinuousClock.now
        let note = await Self.appendNote("wake up", to: workspace)
        #expect(note.status == 0, "\(note.err)")
        let watchdog = Task {
            try await Task.sleep(for: .seconds(20))
            process.terminate()
        }
        process.waitUntilExit()
        watchdog.cancel()
        let elapsed = ContinuousClock.now - started
        let line = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(line.contains("wake up"))
        #expect(elapsed < .seconds(10), "the follower polls hourly, so only NOTIFY can wake it: \(elapsed)")
    }
}

/// PostgreSQL stopped in the middle of a run, on a server of the test's own (`Scripts/services pg-outage`).
@Suite("PostgreSQL outage", .serialized, .enabled(if: TestServices.outageEnabled))
struct PostgresOutageTests {
    /// Stops or starts the outage server, with system(3): Foundation's `Process` never saw the shell exit once
    /// `pg_ctl start` had left a server running behind it.
    static func control(_ action: String) throws {
        let command = try #require(TestServices.postgresOutageControl, "LEDGER_TEST_POSTGRES_OUTAGE_CTL")
        let status = system("\(command) \(action) >/dev/null 2>&1")
        #expect(status == 0, "\(command) \(action)")
    }

    @Test(
        "a run whose PostgreSQL stops fails cleanly with a clear error, and resumes once it is back: nothing lost, nothing twice",
        .enabled(if: ExternalTools.faultsBinary != nil || ExternalTools.required)
    )
    func outageMidRun() async throws {
        let binary = try #require(ExternalTools.faultsBinary, "the ledger-faults executable was not built")
        let base = try #require(TestServices.postgresOutageURL, "LEDGER_TEST_POSTGRES_OUTAGE_URL")
        let store = TestServices.withoutPassword(try TestServices.freshPostgresURL(base))
        let (workspace, source) = try await PipelineCommandTests.deployedWorkspace(backends: ["--store", store])
        let (reference, _) = try await PipelineCommandTests.deployedWorkspace(backends: [])
        let uninterrupted = await reference.run(
            "run",
            "--window",
            PipelineCommandTests.week5,
            "--source",
            source,
            "--json"
        )
        let expected = try #require(uninterrupted.json?["runs"]?.arrayValue?.first, "\(uninterrupted.err)")
        let run = try #require(expected["run"]?.stringValue)

        // The run waits 20 s before training (long enough on a loaded CI machine); the server is stopped while it
        // waits, so its next append, model.trained, finds no server.
        let output = try TemporaryFolder()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "run", "--window", PipelineCommandTests.week5, "--source", source, "--workspace", workspace.root,
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["LEDGER_FAULTS": "slow:train:20000"]) { $1 }
        _ = FileManager.default.createFile(atPath: output.path("err"), contents: nil)
        process.standardError = try FileHandle(forWritingTo: output.url.appendingPathComponent("err"))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var types: [String] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while !types.contains("drift.measured") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            types = await PipelineCommandTests.events(of: run, in: workspace).compactMap { $0["type"]?.stringValue }
        }
        try #require(types.contains("drift.measured"), "the run did not get to training")
        try #require(!types.contains("model.trained"), "the run trained before the server could be stopped")
        try Self.control("stop")
        do {
            process.waitUntilExit()
            let err = try String(contentsOfFile: output.path("err"), encoding: .utf8)
            #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(err)")
            #expect(err.contains("PostgreSQL at postgres://ledger@127.0.0.1"), "\(err)")
            #expect(!err.contains("ledger-test"), "the password never appears")
        }
        try Self.control("start")

        let resumed = await workspace.run("run", "--window", PipelineCommandTests.week5, "--source", source, "--json")
        #expect(resumed.status == 0, "\(resumed.err)")
        let outcome = resumed.json?["runs"]?.arrayValue?.last
        #expect(outcome?["status"] == "completed")
        for member in ["snapshot", "dataset", "model", "verdict", "registered", "drift"] {
            #expect(outcome?[member] == expected[member], "\(member)")
        }
        types = await PipelineCommandTests.events(of: run, in: workspace).compactMap { $0["type"]?.stringValue }
        for type in [
            "run.started", "data.extracted", "dataset.built", "drift.measured", "model.trained", "model.evaluated",
            "run.completed",
        ] {
            #expect(types.count { $0 == type } == 1, "\(type): \(types)")
        }
        let verify = await workspace.run("verify", "--json")
        #expect(verify.status == 0, "\(verify.out) \(verify.err)")
    }
}
