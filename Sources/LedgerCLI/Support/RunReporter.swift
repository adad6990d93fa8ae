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
                let shown = RunStep.allCases.first { $0.eventType == event.type } ?? step
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

    /// One line on what a step's event says.
    static func summary(of event: Event) -> String {
        let data = event.data
        switch event.type {
        case "data.extracted":
            return "\(data["rows"]?.integerValue ?? 0) rows → snapshot sha256:\(short(data["snapshot"]))"
        case "dataset.built":
            return "\(data["rows"]?["train"]?.integerValue ?? 0) train and "
                + "\(data["rows"]?["holdout"]?.integerValue ?? 0) holdout rows → dataset sha256:\(short(data["dataset"]))"
        case "drift.measured":
            let worst = (data["features"]?.arrayValue ?? []).max {
                ($0["psi"]?.doubleValue ?? 0) < ($1["psi"]?.doubleValue ?? 0)
            }
            return
                "\(data["verdict"]?.stringValue ?? "?") (largest PSI \(Gate.format(worst?["psi"]?.doubleValue ?? 0)) "
                + "on \(worst?["name"]?.stringValue ?? "?"); scores \(Gate.format(data["scores"]?["psi"]?.doubleValue ?? 0)))"
        case "model.trained":
            return "model sha256:\(short(data["artifact"])) on \(data["rows"]?.integerValue ?? 0) rows "
                + "in \(data["durationMs"]?.integerValue ?? 0) ms"
        case "model.evaluated":
            var line = "AUC-ROC \(Gate.format(data["candidate"]?["aucRoc"]?.doubleValue ?? 0))"
            if let champion = data["champion"] {
                line +=
                    " vs \(champion["name"]?.stringValue ?? "")@\(champion["version"]?.integerValue ?? 0) "
                    + "\(Gate.format(champion["metrics"]?["aucRoc"]?.doubleValue ?? 0))"
            }
            return line + ": \(data["verdict"]?.stringValue ?? "?")"
        case "model.registered":
            return "registered \(data["name"]?.stringValue ?? "")@\(data["version"]?.integerValue ?? 0)"
        default:
            return event.type
        }
    }

    private static func short(_ artifact: JSONValue?) -> String {
        String((artifact?["sha256"]?.stringValue ?? "").prefix(12)) + "…"
    }
}
