import Foundation
import GRDB
import LedgerAudit
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import PostgresNIO
import Testing

/// The suite's PostgreSQL server: `LEDGER_TEST_POSTGRES_URL`, which `Scripts/services start` prints, as
/// ``TestServices`` reads it. Without it the PostgreSQL tests are skipped, except in CI (`CI` set), where they run
/// and fail.
enum PostgresTestServer {
    static var url: String? { TestServices.postgresURL }
    static var enabled: Bool { TestServices.postgresEnabled }

    /// Runs `body` with the URL of a fresh schema of the test's own (`t_` and random hex digits, so that tests share
    /// the server) and a connection whose `search_path` is that schema; drops the schema afterwards, whatever
    /// happens. Records an issue and returns nil when no server is configured.
    static func withSchema<Result>(
        _ body: (_ url: String, _ connection: PostgresConnection) async throws -> Result
    ) async throws -> Result? {
        guard let base = url else {
            Issue.record("set LEDGER_TEST_POSTGRES_URL (Scripts/services start)")
            return nil
        }
        let schema = "t_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let connection = try await connect(base, searchPath: schema)
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"), logger: logger)
        let schemaURL = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
        do {
            let result = try await body(schemaURL, connection)
            try await connection.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"), logger: logger)
            try await connection.close()
            return result
        } catch {
            _ = try? await connection.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"), logger: logger)
            try? await connection.close()
            throw error
        }
    }

    static let logger = Logger(label: "test.postgres")

    /// Runs a script of statements that end in `;` and a newline, one at a time (the extended protocol's rule).
    static func execute(_ script: String, on connection: PostgresConnection) async throws {
        for statement in script.components(separatedBy: ";\n") where !statement.allSatisfy(\.isWhitespace) {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
    }

    static func connect(_ url: String, searchPath: String) async throws -> PostgresConnection {
        let components = try #require(URLComponents(string: url))
        var configuration = PostgresConnection.Configuration(
            host: try #require(components.host),
            port: components.port ?? 5432,
            username: components.user ?? "postgres",
            password: components.password,
            database: String(components.path.dropFirst()),
            tls: .disable
        )
        configuration.options.additionalStartupParameters = [("search_path", searchPath)]
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    }

    /// `url` with its password replaced.
    static func with(password: String, _ url: String) throws -> String {
        var components = try #require(URLComponents(string: url))
        components.password = password
        return try #require(components.string)
    }
}

/// A snapshot and what the extraction said, or the error it threw.
struct Extracted {
    var bytes: [UInt8] = []
    var chunks: [Int] = []
    var result: Result<AuditExtraction, LedgerError> = .failure(LedgerError(.invalidArgument, "not run"))

    static func run(
        _ source: AuditSourceLocation,
        query: String = AuditExtractor.defaultQuery,
        from: String,
        to: String,
        now: String,
        policy: DataQualityPolicy
    ) async throws -> Extracted {
        var extracted = Extracted()
        do {
            let extraction = try await AuditExtractor.extract(
                source: source,
                query: query,
                from: try #require(Timestamp(userInput: from)),
                to: try #require(Timestamp(userInput: to)),
                now: try #require(Timestamp(userInput: now)),
                policy: policy,
                sink: { chunk in
                    extracted.bytes += chunk
                    extracted.chunks.append(chunk.count)
                }
            )
            extracted.result = .success(extraction)
        } catch let error as LedgerError {
            extracted.result = .failure(error)
        }
        return extracted
    }

    /// Whether two extractions agree: the same bytes and the same result, or the same error.
    func agrees(with other: Extracted) -> Bool {
        switch (result, other.result) {
        case (.success(let a), .success(let b)):
            bytes == other.bytes && a.rows == b.rows && a.quarantined == b.quarantined && a.queryDigest == b.queryDigest
        case (.failure(let a), .failure(let b)): a == b
        default: false
        }
    }
}

@Suite("PostgreSQL Audit DB", .enabled(if: PostgresTestServer.enabled))
struct PostgresExtractionTests {
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    @Test("the same demo windows from SQLite and from PostgreSQL give byte-identical snapshots and equal results")
    func sameSnapshotsAsSQLite() async throws {
        try await PostgresTestServer.withSchema { url, connection in
            let configuration = DemoAuditConfiguration(weeks: 2, actors: 40, seed: 5, driftWeek: 2)
            let folder = try TemporaryFolder("postgres-demo")
            let path = folder.path("audit.db")
            let written = try DemoAuditGenerator.write(to: path, configuration: configuration)
            let copied = try await DemoAuditGenerator.write(toPostgres: url, configuration: configuration)
            #expect(copied.events == written.events && copied.labels == written.labels)
            let counts = try await connection.query(
                "SELECT (SELECT count(*) FROM audit_events), (SELECT count(*) FROM audit_labels)",
                logger: PostgresTestServer.logger
            )
            for try await (events, labels) in counts.decode((Int, Int).self) {
                #expect(events == written.events && labels == written.labels)
            }

            let start = configuration.start
            let format = AuditTimestamp.format(milliseconds:)
            let windows = [
                (start, configuration.end),
                (start + Self.day, start + 2 * Self.day),
                // Ends that are not whole seconds.
                (start + 3 * Self.day + 7 * Self.hour + 12_345, start + 3 * Self.day + 9 * Self.hour + 999),
            ]
            for (from, to) in windows {
                for policy in DataQualityPolicy.allCases {
                    let sqlite = try await Extracted.run(
                        .sqlite(path: path),
                        from: format(from),
                        to: format(to),
                        now: format(configuration.end),
                        policy: policy
                    )
                    let postgres = try await Extracted.run(
                        .postgres(url: url),
                        from: format(from),
                        to: format(to),
                        now: format(configuration.end),
                        policy: policy
                    )
                    #expect(try sqlite.result.get().rows > 0)
                    #expect(postgres.agrees(with: sqlite), "\(format(from)) ..< \(format(to)), \(policy)")
                    #expect(Hash256.sha256(postgres.bytes) == Hash256.sha256(sqlite.bytes))
                }
            }

            // A query of its own: `:from` in a comment and a string, a `::` cast; the same rows as the default.
            let custom = AuditExtractor.defaultQuery
                .replacingOccurrences(of: "e.occurred_at >= :from", with: "e.occurred_at >= :from::timestamptz")
                .replacingOccurrences(of: "ORDER BY", with: "AND e.resource <> ':to' /* :from /* nested */ */ ORDER BY")
            let defaultRows = try await Extracted.run(
                .postgres(url: url),
                from: format(start),
                to: format(start + Self.day),
                now: format(configuration.end),
                policy: .refuse
            )
            let customRows = try await Extracted.run(
                .postgres(url: url),
                query: custom,
                from: format(start),
                to: format(start + Self.day),
                now: format(configuration.end),
                policy: .refuse
            )
            #expect(customRows.bytes == defaultRows.bytes && !customRows.bytes.isEmpty)
            #expect(try customRows.result.get().queryDigest == Hash256.sha256(Array(custom.utf8)))
        }
    }

    /// One event in both dialects: PostgreSQL's time as it is stored (microseconds, any offset) and SQLite's as the
    /// contract writes the same instant (milliseconds, truncated).
    struct Event {
        var id: Int
        var postgres: String
        var sqlite: String
        var actor: String? = "alice@example.com"
        var outcome = "success"
        var resource = "crm/customer/1"
        var bytes: Int64 = 120
        var session: String? = "sess-1"
        var label: String?
    }

    static let events = [
        Event(id: 1, postgres: "2026-03-02 01:00:00+00", sqlite: "2026-03-02T01:00:00.000Z", label: "benign"),
        Event(id: 2, postgres: "2026-03-02 01:00:00.000999+00", sqlite: "2026-03-02T01:00:00.000Z"),
        Event(id: 3, postgres: "2026-03-02 03:30:00.123456+02:30", sqlite: "2026-03-02T01:00:00.123Z"),
        Event(id: 4, postgres: "2026-03-02 23:59:59.999999+00", sqlite: "2026-03-02T23:59:59.999Z"),
        Event(id: 5, postgres: "2026-03-02 00:00:00+00", sqlite: "2026-03-02T00:00:00.000Z", label: "anomalous"),
        Event(id: 6, postgres: "2026-03-01 23:59:59.999999+00", sqlite: "2026-03-01T23:59:59.999Z"),
        Event(id: 7, postgres: "2026-03-03 00:00:00+00", sqlite: "2026-03-03T00:00:00.000Z"),
        Event(id: 8, postgres: "2026-03-02 02:00:00+00", sqlite: "2026-03-02T02:00:00.000Z", actor: nil),
        Event(id: 9, postgres: "2026-03-02 02:00:00+00", sqlite: "2026-03-02T02:00:00.000Z", outcome: "maybe"),
        Event(id: 10, postgres: "2099-01-01 00:00:00+00", sqlite: "2099-01-01T00:00:00.000Z"),
        Event(
            id: 11,
            postgres: "2026-03-02 04:00:00+00",
            sqlite: "2026-03-02T04:00:00.000Z",
            resource: "doc \"q\" \\ back\ttab\nline Zürich ☃ \u{1}",
            bytes: 9_000_000_000_000,
            session: nil,
            label: "anomalous"
        ),
        Event(id: 12, postgres: "1969-12-31 23:59:59.9995+00", sqlite: "1969-12-31T23:59:59.999Z"),
        Event(id: 13, postgres: "1999-12-31 23:59:59.9999+00", sqlite: "1999-12-31T23:59:59.999Z"),
        Event(id: 14, postgres: "2000-01-01 00:00:00.0005+00", sqlite: "2000-01-01T00:00:00.000Z"),
    ]

    /// Tables without the contract's constraints, so that rows that break it can exist.
    static let looseSQLite = """
        CREATE TABLE audit_events (id INTEGER PRIMARY KEY, occurred_at TEXT, actor_id TEXT, actor_role TEXT,
            action TEXT, resource TEXT, outcome TEXT, source_ip TEXT, country TEXT, bytes INTEGER, session_id TEXT);
        CREATE TABLE audit_labels (event_id INTEGER PRIMARY KEY, label TEXT, labeled_by TEXT, labeled_at TEXT);
        """
    static let loosePostgres = """
        CREATE TABLE audit_events (id bigint PRIMARY KEY, occurred_at timestamptz, actor_id text, actor_role text,
            action text, resource text, outcome text, source_ip text, country text, bytes bigint, session_id text);
        CREATE TABLE audit_labels (event_id bigint PRIMARY KEY, label text, labeled_by text, labeled_at timestamptz);
        """

    /// Writes ``events`` into a new SQLite file in `folder` and into the schema of `connection`.
    static func writeEvents(to connection: PostgresConnection, in folder: TemporaryFolder) async throws -> String {
        let path = folder.path("audit.db")
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: looseSQLite)
            for event in events {
                try db.execute(
                    sql:
                        "INSERT INTO audit_events VALUES (?, ?, ?, 'user', 'record.read', ?, ?, '10.0.0.1', 'NL', ?, ?)",
                    arguments: [
                        event.id, event.sqlite, event.actor, event.resource, event.outcome, event.bytes, event.session,
                    ]
                )
                if let label = event.label {
                    try db.execute(
                        sql: "INSERT INTO audit_labels VALUES (?, ?, 'analyst-7', '2026-03-05T10:00:00.000Z')",
                        arguments: [event.id, label]
                    )
                }
            }
        }
        try await PostgresTestServer.execute(loosePostgres, on: connection)
        for event in events {
            try await connection.query(
                """
                INSERT INTO audit_events
                VALUES (\(event.id), \(event.postgres)::timestamptz, \(event.actor), 'user', 'record.read',
                    \(event.resource), \(event.outcome), '10.0.0.1', 'NL', \(event.bytes), \(event.session))
                """,
                logger: PostgresTestServer.logger
            )
            if let label = event.label {
                try await connection.query(
                    "INSERT INTO audit_labels VALUES (\(event.id), \(label), 'analyst-7', '2026-03-05T10:00:00Z')",
                    logger: PostgresTestServer.logger
                )
            }
        }
        return path
    }

    @Test("the quality checks refuse and quarantine the same rows on both; finer digits are truncated as on SQLite")
    func sameQualityDecisions() async throws {
        try await PostgresTestServer.withSchema { url, connection in
            let folder = try TemporaryFolder("postgres-quality")
            let path = try await Self.writeEvents(to: connection, in: folder)
            // Every row, whatever the window: rows outside it are the query's fault, and counted as such.
            let everything = AuditExtractor.defaultQuery.replacingOccurrences(
                of: "WHERE e.occurred_at >= :from\n  AND e.occurred_at < :to",
                with: "WHERE :from <= :to"
            )
            #expect(everything != AuditExtractor.defaultQuery)
            let cases: [(query: String, from: String, to: String, now: String, expected: [DataQualityIssue: Int])] = [
                (
                    AuditExtractor.defaultQuery, "2026-03-02", "2026-03-03", "2026-03-04",
                    [.nullRequired: 1, .unknownOutcome: 1]
                ),
                (
                    AuditExtractor.defaultQuery, "2026-03-02", "2100-01-01", "2026-03-04",
                    [.nullRequired: 1, .unknownOutcome: 1, .timeInFuture: 1]
                ),
                (
                    everything, "2026-03-02", "2026-03-03", "2100-01-01",
                    [.nullRequired: 1, .unknownOutcome: 1, .timeOutsideWindow: 6]
                ),
                (AuditExtractor.defaultQuery, "1969-12-31", "2000-01-02", "2026-03-04", [:]),
            ]
            for (query, from, to, now, expected) in cases {
                for policy in DataQualityPolicy.allCases {
                    let sqlite = try await Extracted.run(
                        .sqlite(path: path),
                        query: query,
                        from: from,
                        to: to,
                        now: now,
                        policy: policy
                    )
                    let postgres = try await Extracted.run(
                        .postgres(url: url),
                        query: query,
                        from: from,
                        to: to,
                        now: now,
                        policy: policy
                    )
                    #expect(postgres.agrees(with: sqlite), "\(from) ..< \(to), \(policy): \(postgres.result)")
                    switch (policy, postgres.result) {
                    case (.quarantine, .success(let extraction)):
                        #expect(extraction.quarantined == expected, "\(from) ..< \(to)")
                    case (.refuse, .failure(let error)) where !expected.isEmpty:
                        #expect(error.code == .extractQuality)
                    case (.refuse, .success): #expect(expected.isEmpty)
                    default: Issue.record("\(from) ..< \(to), \(policy): \(postgres.result)")
                    }
                }
            }

            // The truncated times, the escapes and the big integer, as the snapshot spells them.
            let day = try await Extracted.run(
                .postgres(url: url),
                from: "2026-03-02",
                to: "2026-03-03",
                now: "2026-03-04",
                policy: .quarantine
            )
            let lines = day.bytes.split(separator: 0x0a).map { String(decoding: $0, as: UTF8.self) }
            #expect(lines.count == 6)
            #expect(lines.first?.contains(#""id":5,"label":"anomalous""#) == true, "\(lines)")
            #expect(lines[1].contains(#""occurred_at":"2026-03-02T01:00:00.000Z""#), "\(lines)")
            #expect(lines[3].contains(#""occurred_at":"2026-03-02T01:00:00.123Z""#), "\(lines)")
            #expect(
                lines[4].contains(#""bytes":9000000000000"#)
                    && lines[4].contains(#"\"q\" \\ back\ttab\nline Zürich ☃ \u0001"#)
            )
            #expect(lines[5].contains(#""occurred_at":"2026-03-02T23:59:59.999Z""#), "\(lines)")
            let early = try await Extracted.run(
                .postgres(url: url),
                from: "1969-12-31",
                to: "2000-01-02",
                now: "2026-03-04",
                policy: .refuse
            )
            let text = String(decoding: early.bytes, as: UTF8.self)
            for time in ["1969-12-31T23:59:59.999Z", "1999-12-31T23:59:59.999Z", "2000-01-01T00:00:00.000Z"] {
                #expect(text.contains(time), "\(text)")
            }
        }
    }

    @Test("unreachable servers, refused logins and missing databases are extract.source; the password never shows")
    func sourceErrors() async throws {
        guard let base = PostgresTestServer.url else {
            Issue.record("set LEDGER_TEST_POSTGRES_URL (Scripts/services start)")
            return
        }
        let components = try #require(URLComponents(string: base))
        let password = try #require(components.password)
        let place = "\(try #require(components.host)):\(components.port ?? 5432)"
        let wrong = "Wr0ng-Secret-\(UInt32.random(in: 0...UInt32.max))"
        var unknownDatabase = components
        unknownDatabase.path = "/no_such_database_\(UInt32.random(in: 0...UInt32.max))"
        var refused = components
        refused.port = 1
        let cases: [(url: String, shows: [String])] = [
            (try PostgresTestServer.with(password: wrong, base), [place, "refused the login", "28P01"]),
            (try #require(unknownDatabase.string), [place, "does not exist", "3D000"]),
            (try #require(refused.string), ["\(try #require(components.host)):1/", "connection refused"]),
            // The test server's certificate comes from a test CA that the system does not trust.
            (base + (base.contains("?") ? "&" : "?") + "sslmode=verify-full", [place, "is not signed by"]),
            // Its database ledger_tls refuses plain connections.
            (try #require(TestServices.postgresTLSURL) + "?sslmode=disable", [place, "takes TLS connections only"]),
        ]
        for (url, shows) in cases {
            let error = await #expect(throws: LedgerError.self) {
                _ = try await AuditExtractor.extract(
                    postgres: url,
                    from: Timestamp(millisecondsSinceEpoch: 0),
                    to: Timestamp(millisecondsSinceEpoch: Self.day),
                    now: Timestamp(millisecondsSinceEpoch: Self.day),
                    policy: .refuse,
                    sink: { _ in }
                )
            }
            #expect(error?.code == .extractSource, "\(String(describing: error))")
            for text in shows { #expect(error?.reason.contains(text) == true, "\(String(describing: error))") }
            #expect(error?.reason.contains(wrong) == false && error?.reason.contains(password) == false)
        }
    }

    @Test("SQL errors, other columns, other types, a missing parameter and a write are extract.query")
    func queryErrors() async throws {
        try await PostgresTestServer.withSchema { url, connection in
            let from = Timestamp(millisecondsSinceEpoch: 0)
            let to = Timestamp(millisecondsSinceEpoch: Self.day)
            func failure(_ query: String = AuditExtractor.defaultQuery) async -> LedgerError? {
                await #expect(throws: LedgerError.self) {
                    _ = try await AuditExtractor.extract(
                        postgres: url,
                        query: query,
                        from: from,
                        to: to,
                        now: to,
                        policy: .refuse,
                        sink: { _ in }
                    )
                }
            }
            let missing = await failure()
            #expect(missing?.code == .extractQuery)
            #expect(missing?.reason.contains(#"(SQLSTATE 42P01): relation "audit_events" does not exist"#) == true)
            #expect(missing?.reason.contains("ledger-test") == false)

            try await PostgresTestServer.execute(AuditSchema.postgres, on: connection)
            try await connection.query(
                """
                INSERT INTO audit_events VALUES (1, '1970-01-01 01:00:00+00', 'a', 'user', 'record.read', 'x', 'success',
                    '10.0.0.1', 'NL', 5, NULL);
                """,
                logger: PostgresTestServer.logger
            )
            try await connection.query(
                "INSERT INTO audit_labels VALUES (1, 'benign', 'analyst', '1970-01-02 00:00:00+00')",
                logger: PostgresTestServer.logger
            )
            let columns = "e.id, e.occurred_at, e.actor_id, e.actor_role, e.action, e.resource, e.outcome"
            let rest = "e.country, e.bytes, e.session_id, NULL::text AS label FROM audit_events AS e"
            let window = "WHERE e.occurred_at >= :from AND e.occurred_at < :to"
            let cases: [(query: String, says: String)] = [
                (
                    "SELECT id, actor_id FROM audit_events WHERE occurred_at >= :from AND occurred_at < :to",
                    "must return the columns"
                ),
                ("SELEC \(columns), e.source_ip, \(rest) \(window)", "(SQLSTATE 42601): syntax error"),
                ("SELECT \(columns), e.source_ip, \(rest) WHERE e.occurred_at >= :from", "must use both parameters"),
                ("SELECT \(columns), e.source_ip::inet AS source_ip, \(rest) \(window)", "source_ip is inet"),
                (
                    "SELECT \(columns), e.source_ip, e.country, e.bytes::numeric AS bytes, e.session_id, NULL::text AS label FROM audit_events AS e \(window)",
                    "bytes is numeric"
                ),
                (
                    "WITH gone AS (DELETE FROM audit_labels RETURNING event_id) SELECT \(columns), e.source_ip, \(rest) \(window)",
                    "(SQLSTATE 25006)"
                ),
            ]
            for (query, says) in cases {
                let error = await failure(query)
                #expect(error?.code == .extractQuery, "\(query): \(String(describing: error))")
                #expect(error?.reason.contains(says) == true, "\(query): \(String(describing: error))")
            }
            // The session is read-only: the label is still there.
            let labels = try await connection.query(
                "SELECT count(*) FROM audit_labels",
                logger: PostgresTestServer.logger
            )
            for try await count in labels.decode(Int.self) { #expect(count == 1) }

            // The same database, the right query: it works.
            let good = try await Extracted.run(
                .postgres(url: url),
                from: "1970-01-01",
                to: "1970-01-02",
                now: "1970-01-02",
                policy: .refuse
            )
            #expect(try good.result.get().rows == 1)
        }
    }

    @Test("a big window streams: many sink calls of about 1 MiB each, never the whole snapshot at once")
    func streams() async throws {
        try await PostgresTestServer.withSchema { url, connection in
            try await PostgresTestServer.execute(AuditSchema.postgres, on: connection)
            let rows = 250_000
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO audit_events
                        SELECT g, timestamptz '2026-01-05 00:00:00+00' + g * interval '1 second', 'actor-' || (g % 300),
                            'engineer', 'record.read', 'crm/customer/' || g, 'success', '10.1.' || (g % 250) || '.7',
                            'DE', g * 10, 'sess-' || (g / 50)
                        FROM generate_series(1, \(rows)) AS g
                        """
                ),
                logger: PostgresTestServer.logger
            )
            var chunks: [Int] = []
            let extraction = try await AuditExtractor.extract(
                postgres: url,
                from: try #require(Timestamp(userInput: "2026-01-05")),
                to: try #require(Timestamp(userInput: "2026-01-12")),
                now: try #require(Timestamp(userInput: "2026-01-12")),
                policy: .refuse,
                sink: { chunks.append($0.count) }
            )
            #expect(extraction.rows == rows)
            let total = chunks.reduce(0, +)
            #expect(total > 40 << 20, "\(total) bytes")
            #expect(chunks.count >= 40, "\(chunks.count) chunks")
            // Each chunk is handed over once it reaches 1 MiB, so none holds more than 1 MiB and one row.
            #expect(chunks.dropLast().allSatisfy { $0 >= 1 << 20 && $0 < (1 << 20) + 4096 }, "\(chunks)")
            #expect((chunks.last ?? 0) < (1 << 20) + 4096)
        }
    }
}

/// What needs no server: parsing, descriptions, the embedded DDL.
@Suite("PostgreSQL Audit DB sources")
struct PostgresSourceTests {
    @Test("the embedded PostgreSQL DDL is byte for byte audit/postgres/schema.sql")
    func embeddedSchemaMatchesFile() throws {
        let file = try Data(contentsOf: auditContractFile("postgres/schema.sql"))
        #expect(Array(file) == Array(AuditSchema.postgres.utf8))
    }

    @Test(
        "a malformed PostgreSQL source is argument.invalid and never shows its password",
        arguments: [
            "postgres://ledger:s3cret-pw@127.0.0.1:99999/audit", "postgres://ledger:s3cret-pw@/audit",
            "postgres://ledger:s3cret-pw@db.example.org/audit?sslmode=prefer",
            "postgres://ledger:s3cret-pw@db.example.org/audit?sslmode=require&sslrootcert=/etc/ca.pem",
            "postgres://ledger:s3cret-pw@db.example.org/audit?sslmode=verify-full&sslrootcert=",
            "postgres://ledger:s3cret-pw@db.example.org/audit?schema=Bad-Name",
            "postgres://ledger:s3cret-pw@db.example.org/audit?password=s3cret-pw",
            "postgres://ledger:s3cret-pw@db.example.org:port/audit", "mysql://ledger:s3cret-pw@db.example.org/audit",
        ]
    )
    func malformedURLs(url: String) async throws {
        let parsed = #expect(throws: LedgerError.self) { try AuditSourceLocation(parsing: url) }
        #expect(parsed?.code == .invalidArgument)
        #expect(parsed?.reason.contains("s3cret") == false, "\(String(describing: parsed))")
        guard url.hasPrefix("postgres://") else { return }
        let extracted = await #expect(throws: LedgerError.self) {
            _ = try await AuditExtractor.extract(
                postgres: url,
                from: Timestamp(millisecondsSinceEpoch: 0),
                to: Timestamp(millisecondsSinceEpoch: 1),
                now: Timestamp(millisecondsSinceEpoch: 1),
                policy: .refuse,
                sink: { _ in }
            )
        }
        #expect(extracted?.code == .invalidArgument)
        #expect(extracted?.reason.contains("s3cret") == false, "\(String(describing: extracted))")
    }

    @Test("a source's description and kind never hold the password; sslmode defaults to disable on loopback only")
    func descriptions() throws {
        let remote = try AuditSourceLocation(parsing: "postgresql://ledger:s3cret@db.example.org/audit?schema=app")
        #expect(remote.description == "postgres://ledger@db.example.org:5432/audit?sslmode=require&schema=app")
        #expect(remote.kind == "postgres" && remote.holdsPassword)
        let local = try AuditSourceLocation(parsing: "postgres://ledger@[::1]:6543/audit")
        #expect(local.description == "postgres://ledger@[::1]:6543/audit?sslmode=disable")
        #expect(!local.holdsPassword)
        #expect(try AuditSourceLocation(parsing: "postgres://u@localhost/x").description.hasSuffix("sslmode=disable"))
        #expect(
            try AuditSourceLocation(parsing: "postgres://u@db/x?sslmode=verify-full").description
                == "postgres://u@db:5432/x?sslmode=verify-full"
        )
        #expect(
            try AuditSourceLocation(parsing: "postgres://u@db/x?sslrootcert=/etc/ca.pem&sslmode=verify-ca").description
                == "postgres://u@db:5432/x?sslmode=verify-ca&sslrootcert=/etc/ca.pem"
        )
        let file = try AuditSourceLocation(parsing: "sqlite:audit.db")
        #expect(file == .sqlite(path: "audit.db") && file.kind == "sqlite" && !file.holdsPassword)
        #expect(AuditSourceLocation.redacted("postgres://a:b@c:notaport/d") == "postgres://…")
    }
}
