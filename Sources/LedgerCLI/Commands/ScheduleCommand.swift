import ArgumentParser
import Foundation
import LedgerCore
import LedgerPipeline
import LedgerStore
import LedgerWorkspace

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Run the pipeline on a cron schedule, in the foreground, until stopped.",
        discussion: """
            Fires on a five-field cron expression in UTC (default: ledger.json's pipeline.schedule, else "0 3 * * 1", Mondays at 03:00). Each fire runs, with trigger schedule, the window of pipeline.windowDays days (default 7) ending at the UTC midnight at or before it: the same window `ledger run` picks.

            After downtime it catches up: it runs the window of every fire time since the last scheduled run, oldest first, each exactly once (run ids come from windows, so restarts never run a window twice). Open runs left by a crash are resumed first. A failed run is logged and the schedule goes on; an error that stops a run, such as an unreachable store, is retried a minute later.

            SIGTERM or SIGINT stops it cleanly: the current step finishes, the run stays open to resume at the next start, and the exit status is 0. It logs one JSON object per line to standard output: time, level, msg, and the run's fields. With --once it catches up and exits instead of waiting.

            Example:
              ledger schedule --source sqlite:audit.db
              ledger schedule --cron "0 3 * * *" --once
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("The schedule, 5 fields in UTC (default: pipeline.schedule).", valueName: "EXPR"))
    var cron: String?

    @Option(
        help: ArgumentHelp(
            "The Audit DB, sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE (default: ledger.json's pipeline.source).",
            valueName: "SOURCE"
        )
    )
    var source: String?

    @Flag(help: "Catch up on due windows, then exit instead of waiting for the next fire.")
    var once = false

    @OptionGroup var threading: ThreadsOption

    func validate() throws {
        if let cron {
            do { _ = try CronSchedule(cron) } catch { throw ValidationError("--cron: \(error.reason)") }
        }
        if let source { _ = try AuditSourceOption.validate(source) }
    }

    func run() async throws {
        let session = try await workspace.open()
        let workspace = session.workspace
        let console = Console.current
        let clock = SystemClock()
        let log = console.jsonLogger(clock: clock)
        let stop = StopSignal()
        let signals = SignalTrap([SIGTERM, SIGINT]) { signal in
            log(["msg": "stopping: the current step finishes first", "signal": .int(Int(signal))])
            stop.stop()
        }
        defer { signals.cancel() }
        let runner = try await session.pipelineRunner(
            source: source,
            threads: threading.threads,
            requireSource: false,
            stop: stop
        ) {
            notice in
            if let record = Self.record(notice) { log(record) }
        }
        var scheduler = PipelineScheduler(
            runner: runner,
            schedule: try CronSchedule(cron ?? workspace.pipeline.schedule),
            windowDays: workspace.pipeline.windowDays,
            log: log
        )
        scheduler.lock = { () throws(LedgerError) in
            try await session.acquireRunLock(purpose: "ledger schedule", waitSeconds: 3600, stop: stop)
        }
        if once {
            try await scheduler.catchUp(now: clock.now())
        } else {
            await scheduler.run()
        }
    }

    /// The log record of a runner's notice; attempts that are not retries say nothing.
    static func record(_ notice: RunNotice) -> [String: JSONValue]? {
        switch notice {
        case .started(let run, let trigger, let window):
            return [
                "msg": "run started", "run": .string(run), "trigger": .string(trigger),
                "window": .string(window.description),
            ]
        case .resumed(let run, let next):
            return ["msg": "run resumed", "run": .string(run), "step": .string(next.rawValue)]
        case .attempt(let run, let step, let attempt):
            guard attempt > 1 else { return nil }
            return [
                "msg": "step retried", "run": .string(run), "step": .string(step.rawValue), "attempt": .int(attempt),
            ]
        case .completed(let run, let step, let events):
            return [
                "msg": "step completed", "run": .string(run), "step": .string(step.rawValue),
                "seqs": .array(events.map { .int($0.seq) }),
                "summary": .string(events.map(RunReporter.summary(of:)).joined(separator: "; ")),
            ]
        case .skipped(let run, let step, let reason):
            return [
                "msg": "step skipped", "run": .string(run), "step": .string(step.rawValue), "reason": .string(reason),
            ]
        case .failed(let run, let step, let attempt, let failure, let retryInMs):
            var record: [String: JSONValue] = [
                "level": "warning", "msg": "step failed", "run": .string(run), "step": .string(step.rawValue),
                "attempt": .int(attempt), "code": .string(failure.code), "error": .string(failure.message),
                "class": .string(failure.transient ? "transient" : "permanent"),
            ]
            if let retryInMs { record["retryInMs"] = .int(retryInMs) }
            return record
        case .finished(let run, let status):
            return ["msg": .string("run \(status)"), "run": .string(run)]
        case .interrupted(let run, let next):
            return [
                "msg": "run stopped; it resumes at the next start", "run": .string(run), "step": .string(next.rawValue),
            ]
        }
    }
}

/// Calls `handler` on the given signals instead of letting them kill the process, until cancelled.
final class SignalTrap {
    private let sources: [any DispatchSourceSignal]

    init(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
