import Foundation
import LedgerCore
import LedgerPipeline
import LedgerWorkspace

/// Turns a runner's notices into progress lines.
struct RunReporter: Sendable {
    let console: Console

    func lines(for notice: RunNotice) -> [String] {
        switch notice {
        case .started(let run, let trigger, _): return ["run \(run) started (trigger: \(trigger))"]
        case .resumed(let run, let next): return ["run \(run) was left open: resuming at \(next.rawValue)"]
        case .attempt(_, let step, let attempt):
            return attempt > 1 ? ["  \(pad(step)) attempt \(attempt)"] : []
        case .completed(_, let step, let events):
            return events.map { event in
                let shown = RunStep.allCases.first { event.is($0.recordingType) } ?? step
                return "  \(pad(shown)) seq \(event.seq)  \(Self.summary(of: event))"
            }
        case .skipped(_, let step, let reason): return ["  \(pad(step)) skipped: \(reason)"]
        case .failed(_, let step, let attempt, let failure, let retryInMs):
            let next = retryInMs.map { "retrying in \(String(format: "%.1f", Double($0) / 1000)) s" } ?? "giving up"
            return [
                "  \(pad(step)) attempt \(attempt) failed (\(failure.transient ? "transient" : "permanent") "
                    + "\(failure.code): \(failure.message)); \(next)"
            ]
        case .finished(let run, let status): return ["run \(run) \(status)"]
        case .interrupted(let run, let next):
            return ["run \(run) stopped before \(next.rawValue); `ledger run --resume \(run)` finishes it"]
        }
    }

    private func pad(_ step: RunStep) -> String { step.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0) }

    /// One line on what a step's event says; for data that does not have its kind's shape, why.
    static func summary(of event: Event) -> String {
        do {
            return try typedSummary(of: event)
        } catch {
            return "\(event.type): \(error.reason)"
        }
    }

    private static func typedSummary(of event: Event) throws(LedgerError) -> String {
        switch event.eventType {
        case .dataExtracted:
            let data = try event.decode(DataExtracted.self)
            return "\(data.rows) rows → snapshot sha256:\(short(data.snapshot.sha256))"
        case .datasetBuilt:
            let data = try event.decode(DatasetBuilt.self)
            return
                "\(data.rows.train) train and \(data.rows.holdout) holdout rows → dataset sha256:\(short(data.dataset.sha256))"
        case .driftMeasured:
            let data = try event.decode(DriftMeasured.self)
            let worst = data.features.max { $0.psi < $1.psi }
            let scores = data.scores.map { "; scores \(Gate.format($0.psi))" } ?? ""
            return "\(data.verdict.rawValue) (largest PSI \(worst.map { Gate.format($0.psi) } ?? "-") "
                + "on \(worst?.name ?? "?")\(scores))"
        case .modelTrained:
            let data = try event.decode(ModelTrained.self)
            return "model sha256:\(short(data.artifact.sha256)) on \(data.rows) rows in \(data.durationMs) ms"
        case .modelEvaluated:
            let data = try event.decode(ModelEvaluated.self)
            var line = "AUC-ROC \(Gate.format(data.candidate.aucRoc))"
            if let champion = data.champion {
                line += " vs \(champion.name)@\(champion.version) \(Gate.format(champion.metrics.aucRoc))"
            }
            return line + ": \(data.verdict.rawValue)"
        case .modelRegistered:
            let data = try event.decode(ModelRegistered.self)
            return "registered \(data.name)@\(data.version)"
        default:
            return event.type
        }
    }

    private static func short(_ digest: Hash256) -> String { String(digest.hex.prefix(12)) + "…" }
}
