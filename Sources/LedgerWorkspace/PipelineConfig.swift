import LedgerAudit
public import LedgerCore
public import LedgerPipeline
import LedgerPostgresConnection

/// The `"pipeline"` member of `ledger.json`: where the runs read from, which windows they cover, when the
/// scheduler fires, how failed steps are retried, and which drift starts a run between schedules.
///
/// Every member is optional; `ledger init` writes the defaults out so they can be edited:
///
/// ```json
/// "pipeline": {"source": "sqlite:audit.db", "schedule": "0 3 * * 1", "windowDays": 7, "holdoutPercent": 20,
///              "retry": {"maxAttempts": 3, "initialBackoffMs": 2000, "maxBackoffMs": 60000},
///              "driftTrigger": "significant"}
/// ```
///
/// `source` is the Audit DB (`sqlite:PATH`, relative to the workspace, or `postgres://USER@HOST:PORT/DATABASE`,
/// whose password comes from `PGPASSWORD`: `ledger.json` holds no secrets); it has no default. A run's window is the
/// `windowDays` days that end at the UTC midnight at or before the schedule's fire time, so the default schedule
/// (Mondays at 03:00 UTC) runs the week from Monday to Monday.
public struct PipelineConfig: Sendable {
    public var source: String?
    public var schedule = CronSchedule.defaultExpression
    public var windowDays = 7
    public var holdoutPercent = 20
    public var retry = RetryPolicy()
    /// The drift verdict at which `ledger drift check` starts a run: `moderate` or `significant`.
    public var driftTrigger = "significant"

    public init() {}

    public init(json: JSONValue, configPath: String) throws(LedgerError) {
        func fail(_ reason: String) -> LedgerError { LedgerError(.file, "\(configPath): pipeline.\(reason)") }
        guard let members = json.objectValue else {
            throw LedgerError(.file, "\(configPath): \"pipeline\" must be an object")
        }
        let known: Set = ["source", "schedule", "windowDays", "holdoutPercent", "retry", "driftTrigger"]
        if let unknown = members.keys.filter({ !known.contains($0) }).sorted().first {
            throw fail("\(unknown) is not a setting (known: \(known.sorted().joined(separator: ", ")))")
        }
        if let value = members["source"] {
            guard let source = value.stringValue, AuditSourceOption.hasKnownScheme(source) else {
                throw fail(
                    "source must be sqlite:PATH or \(AuditSourceOption.postgresShape), such as \"sqlite:audit.db\""
                )
            }
            let location: AuditSourceLocation
            do { location = try AuditSourceLocation(parsing: source) } catch { throw fail("source: \(error.reason)") }
            guard !location.holdsPassword else { throw fail("source: \(Workspace.noPasswordInConfig)") }
            self.source = source
        }
        if let value = members["schedule"] {
            guard let text = value.stringValue else { throw fail("schedule must be a cron expression") }
            do { _ = try CronSchedule(text) } catch { throw fail("schedule: \(error.reason)") }
            schedule = text
        }
        if let value = members["windowDays"] {
            guard let days = value.integerValue, (1...366).contains(days) else {
                throw fail("windowDays must be 1 to 366")
            }
            windowDays = Int(days)
        }
        if let value = members["holdoutPercent"] {
            guard let percent = value.integerValue, (1...99).contains(percent) else {
                throw fail("holdoutPercent must be 1 to 99")
            }
            holdoutPercent = Int(percent)
        }
        if let value = members["retry"] {
            let names: Set = ["maxAttempts", "initialBackoffMs", "maxBackoffMs"]
            guard let object = value.objectValue, object.keys.allSatisfy(names.contains),
                object.values.allSatisfy({ $0.integerValue != nil })
            else {
                throw fail("retry is an object of whole numbers: maxAttempts, initialBackoffMs and maxBackoffMs")
            }
            let attempts = value["maxAttempts"]?.integerValue ?? Int64(retry.maxAttempts)
            let initial = value["initialBackoffMs"]?.integerValue ?? Int64(retry.initialBackoffMs)
            let maximum = value["maxBackoffMs"]?.integerValue ?? Int64(retry.maxBackoffMs)
            guard RetryPolicy.attemptRange.contains(Int(attempts)), initial >= 0, initial <= maximum,
                maximum <= 86_400_000
            else {
                throw fail(
                    "retry takes maxAttempts (1 to 1000), initialBackoffMs and maxBackoffMs "
                        + "(0 <= initial <= max <= 86400000)"
                )
            }
            retry = RetryPolicy(maxAttempts: Int(attempts), initialBackoffMs: Int(initial), maxBackoffMs: Int(maximum))
        }
        if let value = members["driftTrigger"] {
            guard let level = value.stringValue, ["moderate", "significant"].contains(level) else {
                throw fail("driftTrigger must be \"moderate\" or \"significant\"")
            }
            driftTrigger = level
        }
    }

    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "schedule": .string(schedule), "windowDays": .int(windowDays), "holdoutPercent": .int(holdoutPercent),
            "retry": [
                "maxAttempts": .int(retry.maxAttempts), "initialBackoffMs": .int(retry.initialBackoffMs),
                "maxBackoffMs": .int(retry.maxBackoffMs),
            ],
            "driftTrigger": .string(driftTrigger),
        ]
        if let source { members["source"] = .string(source) }
        return .object(members)
    }
}

/// What `--source` and `pipeline.source` accept: an Audit DB as ``AuditSourceLocation`` parses it.
public enum AuditSourceOption {
    public static let postgresShape = "postgres://USER@HOST[:PORT]/DATABASE"

    public static func hasKnownScheme(_ text: String) -> Bool {
        text.hasPrefix("sqlite:") || PostgresLocation.isPostgresURL(text)
    }
}
