import ArgumentParser
import Foundation
import LedgerArtifacts
import LedgerAudit
import LedgerCore
import LedgerPipeline
import LedgerStore
import LedgerWorkspace

struct ExtractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Read a window of the Audit DB into a snapshot artifact and record data.extracted.",
        discussion: """
            Runs the contract's extraction query (audit/extract.sql) over the half-open window [FROM, TO), streams the rows into a canonical snapshot (JSON Lines of RFC 8785 objects) stored under its SHA-256 in the workspace's artifact folder, and appends data.extracted signed with the workspace's pipeline key. The event holds the source kind, the query digest, the window, the row count, the snapshot digest and quarantine counts: never personal data.

            Rows that break the contract (NULL in a required column, an unknown outcome, a time outside the window or in the future, text that is not UTF-8) are refused by default: the error names the row ids and nothing is stored or appended. With --policy quarantine (or "quality": "quarantine" in ledger.json) they are left out and counted in the event.

            The Audit DB is a SQLite file (sqlite:PATH) or a PostgreSQL database (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&schema=NAME]; the password may come from PGPASSWORD instead; sslmode is disable, require, verify-ca or verify-full, by default disable on loopback and require elsewhere). Both give the same snapshot for the same rows; PostgreSQL's occurred_at is read at millisecond precision, finer digits truncated.

            Times are RFC 3339 UTC (2026-03-02T00:00:00.000Z) or dates (2026-03-02, meaning midnight UTC).

            Example:
              ledger demo audit-db --out audit.db
              ledger extract --source sqlite:audit.db --from 2026-01-05 --to 2026-01-12 --json
              PGPASSWORD=… ledger extract --source postgres://ledger@127.0.0.1:5432/audit --from 2026-01-05 --to 2026-01-12
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(
        help: ArgumentHelp("The Audit DB: sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE.", valueName: "SOURCE")
    )
    var source: String

    @Option(help: ArgumentHelp("The window's inclusive start.", valueName: "TIME"))
    var from: String

    @Option(help: ArgumentHelp("The window's exclusive end.", valueName: "TIME"))
    var to: String

    @Option(
        help: ArgumentHelp(
            "refuse or quarantine rows that break the contract (default: ledger.json's \"quality\", else refuse).",
            valueName: "POLICY"
        )
    )
    var policy: String?

    @Option(help: ArgumentHelp("The signing key (default: the workspace's pipeline key).", valueName: "FILE"))
    var key: String?

    @Flag(help: "Print {\"seq\",\"snapshotDigest\",\"rows\",\"quarantined\"} as JSON.")
    var json = false

    func validate() throws {
        _ = try AuditSourceOption.validate(source)
        guard let start = Self.time(from) else { throw ValidationError("--from is not a UTC time or date: \(from)") }
        guard let end = Self.time(to) else { throw ValidationError("--to is not a UTC time or date: \(to)") }
        guard start < end else { throw ValidationError("--from must be before --to") }
        if let policy, DataQualityPolicy(rawValue: policy) == nil {
            throw ValidationError("--policy must be refuse or quarantine")
        }
    }

    static func time(_ text: String) -> Timestamp? { Timestamp(userInput: text) }

    func run() async throws {
        let session = try await workspace.open()
        let workspace = session.workspace
        let steps = try session.modelSteps(key: key, threads: 1)
        let location = try AuditSourceOption.validate(source)
        guard let start = Self.time(from), let end = Self.time(to),
            let policy = DataQualityPolicy(rawValue: policy ?? workspace.qualityPolicy)
        else { return }
        let extracted = try await steps.extract(
            source: location,
            from: start,
            to: end,
            policy: policy,
            now: SystemClock().now()
        )
        var quarantined: [String: JSONValue] = [:]
        for (issue, count) in extracted.quarantined { quarantined[issue.rawValue] = .int(count) }
        if json {
            Console.current.json([
                "seq": .int(extracted.seq), "snapshotDigest": .string(extracted.snapshot.description),
                "rows": .int(extracted.rows), "quarantined": .object(quarantined),
            ])
        } else {
            let skipped = extracted.quarantined.values.reduce(0, +)
            Console.current.out(
                "extracted \(extracted.rows) rows of \(start) ..< \(end) into \(extracted.snapshot)"
                    + (skipped > 0 ? " (\(skipped) rows quarantined)" : "")
            )
            Console.current.out("appended seq \(extracted.seq) \(EventType.dataExtracted)")
        }
    }
}
