import ArgumentParser
import Foundation
import LedgerAudit
import LedgerCore
import LedgerPostgresConnection
import LedgerWorkspace

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Write demo inputs for trying the pipeline without real data.",
        discussion: """
            Example:
              ledger demo audit-db --out audit.db
            """,
        subcommands: [DemoAuditDBCommand.self]
    )
}

struct DemoAuditDBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-db",
        abstract: "Write a realistic, deterministic demo Audit DB to a new SQLite file or into PostgreSQL.",
        discussion: """
            The file follows the Audit DB contract in audit/ (tables audit_events and audit_labels). People work their own hours in their own time zones with habitual actions, resources, addresses and countries; services run around the clock. About 0.75% of events belong to injected incidents: credential stuffing, exfiltration, privilege misuse, access from a new country and off-hours sessions. Analysts label about 30% of anomalous and 2% of benign events, with a few mistakes. From --drift-week on, a new product feature changes the action mix and volumes, and a new office adds a country. Activity starts on Monday 2026-01-05 (UTC), or on the UTC midnight --start names: with a recent start, `ledger run` and `ledger schedule` find data in the windows they pick by default.

            The same options give the same file, byte for byte (with the same SQLite library): compare the sha256. The defaults write about a million events in seconds. An existing file is never replaced.

            With --out postgres://USER@HOST[:PORT]/DATABASE[?schema=NAME] (the password in the URL or PGPASSWORD) the same rows go into PostgreSQL instead, in the contract's PostgreSQL tables (audit/postgres/schema.sql), created in the schema (itself created if missing) in one transaction; a schema that already holds audit_events is refused. Extracting any window from it gives the snapshot the SQLite file gives.

            Example:
              ledger demo audit-db --out audit.db
              ledger demo audit-db --out 'postgres://ledger@127.0.0.1:5432/audit?schema=demo'
              ledger demo audit-db --out small.db --weeks 2 --actors 40 --seed 3 --json
              ledger demo audit-db --out recent.db --weeks 4 --start 2026-10-26
            """
    )

    @Option(
        help: ArgumentHelp(
            "The SQLite file to create (it must not exist), or a postgres:// URL whose schema holds no Audit DB.",
            valueName: "FILE|URL"
        )
    )
    var out: String

    @Option(help: ArgumentHelp("Weeks of activity: 1 to 260.", valueName: "N"))
    var weeks = 12

    @Option(help: ArgumentHelp("Actors, people and services together: 5 to 100,000.", valueName: "N"))
    var actors = 300

    @Option(help: ArgumentHelp("The seed of every random choice.", valueName: "SEED"))
    var seed: UInt64 = 7

    @Option(
        help: ArgumentHelp(
            "The week, counted from 1, from which behaviour drifts; later than --weeks means none.",
            valueName: "W"
        )
    )
    var driftWeek = 8

    @Option(help: ArgumentHelp("The first day of activity, a UTC date (default: 2026-01-05).", valueName: "DATE"))
    var start: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    /// The start in milliseconds, or nil if --start is not a date.
    var startMilliseconds: Int64? {
        guard let start else { return DemoAuditConfiguration().start }
        guard start.count == 10, let time = Timestamp(userInput: start) else { return nil }
        return time.millisecondsSinceEpoch
    }

    func validate() throws {
        guard startMilliseconds != nil else { throw ValidationError("--start must be a date such as 2026-10-26") }
        guard !out.isEmpty else { throw ValidationError("--out must name a file") }
        if PostgresLocation.isPostgresURL(out) {
            do { _ = try AuditSourceLocation(parsing: out) } catch { throw ValidationError("--out: \(error.reason)") }
        }
        guard DemoAuditConfiguration.weekRange.contains(weeks) else {
            throw ValidationError("--weeks must be 1 to 260")
        }
        guard DemoAuditConfiguration.actorRange.contains(actors) else {
            throw ValidationError("--actors must be 5 to 100,000")
        }
        guard driftWeek >= 1 else { throw ValidationError("--drift-week must be 1 or later") }
    }

    func run() async throws {
        let configuration = DemoAuditConfiguration(
            weeks: weeks,
            actors: actors,
            seed: seed,
            driftWeek: driftWeek,
            start: startMilliseconds ?? DemoAuditConfiguration().start
        )
        let place: String
        let summary: DemoAuditSummary
        var sha256: String?
        if case .postgres? = try? AuditSourceLocation(parsing: out) {
            place = AuditSourceLocation.redacted(out)
            summary = try await DemoAuditGenerator.write(toPostgres: out, configuration: configuration)
        } else {
            let path = URL(fileURLWithPath: out).standardizedFileURL.path
            place = path
            summary = try DemoAuditGenerator.write(to: path, configuration: configuration)
            guard let bytes = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
                throw LedgerError(.file, "cannot read back \(path)")
            }
            sha256 = Hash256.sha256(bytes).hex
        }
        let seconds = (summary.seconds * 1000).rounded() / 1000

        let console = Console.current
        if json {
            var anomalies: [String: JSONValue] = [:]
            for kind in DemoAnomalyKind.allCases { anomalies[kind.rawValue] = .int(summary.anomalies[kind] ?? 0) }
            var result: [String: JSONValue] = [
                "events": .int(summary.events), "labels": .int(summary.labels), "anomalies": .object(anomalies),
                "seconds": .number(seconds),
            ]
            if let sha256 {
                result["file"] = .string(place)
                result["sha256"] = .string(sha256)
            } else {
                result["database"] = .string(place)
            }
            console.json(.object(result))
        } else {
            console.out("Wrote demo Audit DB \(place)")
            console.out("  events     \(summary.events), \(summary.anomalousEvents) of them anomalous")
            for kind in DemoAnomalyKind.allCases {
                console.out(
                    "    \(kind.rawValue)  \(summary.anomalies[kind] ?? 0) in \(summary.incidents[kind] ?? 0) incidents"
                )
            }
            console.out("  labels     \(summary.labels), \(summary.anomalousLabels) of them anomalous")
            console.out("  actors     \(summary.humans) people, \(summary.services) services")
            if let drift = configuration.driftStart {
                console.out("  drift      from \(AuditTimestamp.format(milliseconds: drift)) (week \(driftWeek))")
            }
            if let sha256 { console.out("  sha256     \(sha256)") }
            console.out("  seconds    \(seconds)")
        }
    }
}
