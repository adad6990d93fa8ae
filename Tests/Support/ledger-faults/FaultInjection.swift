import Foundation
import LedgerCLI
import LedgerCore
import LedgerPipeline
import LedgerWorkspace

/// Faults for the crash and retry tests, from the environment variable `LEDGER_FAULTS` of `ledger-faults` (never
/// read by `ledger`): a comma-separated list of
///
/// - `kill-before:STEP`: SIGKILL this process just before the step's first attempt,
/// - `kill-inside:STEP`: SIGKILL it after the step's work and artifacts, just before its event is appended,
/// - `kill-after:STEP`: SIGKILL it just after the step's event is appended,
/// - `fail:STEP:N`: make the step's first N attempts fail with a transient `store.failure`,
/// - `fail-permanent:STEP`: make the step fail with a permanent `argument.invalid`,
/// - `slow:STEP:MS`: wait MS milliseconds before each attempt of the step (to stop a process in the middle).
///
/// An unknown entry is an error, so a typo cannot pass silently.
struct FaultInjection: Sendable {
    private var killBefore: Set<RunStep> = []
    private var killInside: Set<String> = []
    private var killAfter: Set<RunStep> = []
    private var failures: [RunStep: Int] = [:]
    private var permanent: Set<RunStep> = []
    private var delays: [RunStep: Int] = [:]

    init(_ text: String) throws(LedgerError) {
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: ":").map(String.init)
            guard parts.count >= 2, let step = RunStep(rawValue: parts[1]) else {
                throw LedgerError(.invalidArgument, "LEDGER_FAULTS: \(item) is not a fault")
            }
            switch (parts[0], parts.count) {
            case ("kill-before", 2): killBefore.insert(step)
            case ("kill-inside", 2): killInside.insert(step.eventType)
            case ("kill-after", 2): killAfter.insert(step)
            case ("fail-permanent", 2): permanent.insert(step)
            case ("slow", 3):
                guard let milliseconds = Int(parts[2]), milliseconds > 0 else {
                    throw LedgerError(
                        .invalidArgument,
                        "LEDGER_FAULTS: \(item) needs milliseconds, such as slow:train:2000"
                    )
                }
                delays[step] = milliseconds
            case ("fail", 3):
                guard let count = Int(parts[2]), count > 0 else {
                    throw LedgerError(.invalidArgument, "LEDGER_FAULTS: \(item) needs a count, such as fail:train:2")
                }
                failures[step] = count
            default: throw LedgerError(.invalidArgument, "LEDGER_FAULTS: \(item) is not a fault")
            }
        }
    }

    private static func kill() -> Never {
        _ = Foundation.kill(getpid(), SIGKILL)
        fatalError("SIGKILL did not stop the process")
    }

    /// The faults as the hooks the command tree installs in every pipeline run.
    var hooks: PipelineHooks {
        PipelineHooks(beforeAttempt: beforeAttempt, willAppend: willAppend, afterStep: afterStep)
    }

    var beforeAttempt: (@Sendable (RunStep, Int) async throws(LedgerError) -> Void)? {
        guard !killBefore.isEmpty || !failures.isEmpty || !permanent.isEmpty || !delays.isEmpty else { return nil }
        return { [self] (step, attempt) throws(LedgerError) in
            if let delay = delays[step] { try? await Task.sleep(for: .milliseconds(delay)) }
            if killBefore.contains(step) { Self.kill() }
            if permanent.contains(step) { throw LedgerError(.invalidArgument, "injected permanent fault") }
            if attempt <= failures[step, default: 0] {
                throw LedgerError(.storage, "injected transient fault, attempt \(attempt)")
            }
        }
    }

    var willAppend: (@Sendable (String) async -> Void)? {
        guard !killInside.isEmpty else { return nil }
        return { [killInside] type in if killInside.contains(type) { Self.kill() } }
    }

    var afterStep: (@Sendable (RunStep) async -> Void)? {
        guard !killAfter.isEmpty else { return nil }
        return { [killAfter] step in if killAfter.contains(step) { Self.kill() } }
    }
}
