import Foundation
import GRDB
import LedgerAudit
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// `ledger extract`: snapshots by digest, no personal data in the log, and the data-quality rules.
@Suite("Extraction")
struct ExtractTests {
    static let contractDDL = ExternalTools.repositoryRoot.appendingPathComponent("audit/sqlite/schema.sql")

    /// A small Audit DB in the contract's schema: 3 actors, 40 events on 2026-03-02, 5 labels.
    static func auditDB(in folder: TemporaryFolder, ddl: String? = nil, extraRows: [String] = []) throws -> String {
        let path = folder.path("audit-\(UUID().uuidString).db")
        let queue = try DatabaseQueue(path: path)
        let schema = try ddl ?? String(contentsOf: contractDDL, encoding: .utf8)
        try queue.write { db in
            try db.execute(sql: schema)
            for index in 0..<40 {
                let actor = ["alice@example.com", "bob@example.com", "svc-billing"][index % 3]
                try db.execute(
                    sql: """
                        INSERT INTO audit_events
                        (id, occurred_at, actor_id, actor_role, action, resource, outcome, source_ip, country, bytes, session_id)
                        VALUES (?, ?, ?, 'user', 'read', ?, ?, ?, 'NL', ?, ?)
                        """,
                    arguments: [
                        index + 1, String(format: "2026-03-02T%02d:%02d:00.000Z", index / 4, index % 60), actor,
                        "doc/\(index % 7)", ["success", "failure", "denied"][index % 3], "10.0.0.\(index % 5 + 1)",
                        index * 100, "sess-\(index / 10)",
                    ]
                )
            }
            for id in [1, 5, 9, 13, 17] {
                try db.execute(
                    sql: "INSERT INTO audit_labels VALUES (?, ?, 'analyst-7', '2026-03-05T10:00:00.000Z')",
                    arguments: [id, id == 5 ? "anomalous" : "benign"]
                )
            }
            for row in extraRows { try db.execute(sql: row) }
        }
        return path
    }

    @Test("extract stores the snapshot by digest and appends data.extracted without personal data")
    func extract() async throws {
        let workspace = try await TestWorkspace.make()
        let audit = try Self.auditDB(in: workspace.folder)
        let result = await workspace.run(
            "extract",
            "--source",
            "sqlite:\(audit)",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-02T06:00:00.000Z",
            "--json"
        )
        #expect(result.status == 0, "\(result.err)")
        let json = try #require(result.json)
        #expect(json["rows"] == 24)
        let digest = try #require(json["snapshotDigest"]?.stringValue)
        let hex = String(digest.dropFirst("sha256:".count))
        let bytes = try await workspace.artifact(hex)
        #expect(Hash256.sha256(bytes).hex == hex, "the digest in the event is the SHA-256 of the stored artifact")
        let lines = bytes.split(separator: 0x0a)
        #expect(lines.count == 24)
        for line in lines { #expect(Array(line) == (try CanonicalJSON.canonicalize(Array(line)))) }
        #expect(try CanonicalJSON.parse(Array(lines[0]))["label"] == "benign")

        let log = await workspace.run("log", "--type", "data.extracted", "--json")
        let event = try #require(log.json?.arrayValue?.first)
        #expect(event["data"]?["snapshot"]?["sha256"]?.stringValue == hex)
        #expect(event["subject"]?.arrayValue?.first?["digest"]?["sha256"]?.stringValue == hex)
        #expect(event["data"]?["rows"] == 24)

        // The same window again gives the same snapshot, byte for byte.
        let again = await workspace.run(
            "extract",
            "--source",
            "sqlite:\(audit)",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-02T06:00:00.000Z",
            "--json"
        )
        #expect(again.json?["snapshotDigest"]?.stringValue == digest)

        let export = workspace.folder.path("log.jsonl")
        #expect(await workspace.run("export", "--out", export).status == 0)
        let exported = try String(contentsOfFile: export, encoding: .utf8)
        var decoded = ""
        for line in exported.split(separator: "\n") {
            let envelope = try Envelope(jsonBytes: Array(line.utf8))
            decoded += String(decoding: envelope.payload, as: UTF8.self)
        }
        for secret in ["alice@example.com", "bob@example.com", "svc-billing", "10.0.0.", "sess-", "doc/"] {
            #expect(!decoded.contains(secret) && !exported.contains(secret), "personal data \(secret) entered the log")
        }
        #expect(await workspace.run("verify").status == 0)

        // The independent peer agrees: data.extracted validates against schemas/ and the log verifies.
        if let python = ExternalTools.python {
            let schemas = try runProcess(
                python,
                [
                    IndependentPeerTests.peerScript, "validate-schemas", export, "--schemas",
                    IndependentPeerTests.schemas,
                ]
            )
            #expect(schemas.status == 0, "\(schemas.out) \(schemas.err)")
            let verified = try runProcess(
                python,
                [IndependentPeerTests.peerScript, "verify-log", export, "--trust", workspace.genesis]
            )
            #expect(verified.status == 0, "\(verified.out) \(verified.err)")
        } else {
            #expect(!ExternalTools.required, "CI must run the Python peers")
        }
    }

    /// A table without the contract's CHECKs, so that broken rows can exist.
    static let looseDDL = """
        CREATE TABLE audit_events (id INTEGER PRIMARY KEY, occurred_at TEXT, actor_id TEXT, actor_role TEXT,
            action TEXT, resource TEXT, outcome TEXT, source_ip TEXT, country TEXT, bytes INTEGER, session_id TEXT);
        CREATE TABLE audit_labels (event_id INTEGER PRIMARY KEY, label TEXT, labeled_by TEXT, labeled_at TEXT);
        """

    static let badRows: [(issue: String, sql: String)] = [
        (
            "nullRequired",
            "INSERT INTO audit_events VALUES (101, '2026-03-02T01:00:00.000Z', NULL, 'user', 'read', 'x', 'success', 'ip', 'NL', 1, NULL)"
        ),
        (
            "unknownOutcome",
            "INSERT INTO audit_events VALUES (102, '2026-03-02T01:00:00.000Z', 'a', 'user', 'read', 'x', 'maybe', 'ip', 'NL', 1, NULL)"
        ),
        (
            "timeOutsideWindow",
            "INSERT INTO audit_events VALUES (103, '2026-03-02T01:00:00Z', 'a', 'user', 'read', 'x', 'success', 'ip', 'NL', 1, NULL)"
        ),
        (
            "timeInFuture",
            "INSERT INTO audit_events VALUES (104, '2099-03-02T01:00:00.000Z', 'a', 'user', 'read', 'x', 'success', 'ip', 'NL', 1, NULL)"
        ),
        (
            "invalidUTF8",
            "INSERT INTO audit_events VALUES (105, '2026-03-02T01:00:00.000Z', CAST(X'61FF62' AS TEXT), 'user', 'read', 'x', 'success', 'ip', 'NL', 1, NULL)"
        ),
    ]

    @Test(
        "each kind of bad row is refused with its id and changes nothing, or quarantined and counted",
        arguments: badRows.indices
    )
    func badRow(index: Int) async throws {
        let (issue, sql) = Self.badRows[index]
        let workspace = try await TestWorkspace.make()
        let audit = try Self.auditDB(in: workspace.folder, ddl: Self.looseDDL, extraRows: [sql])
        // A far-future window end lets a future row fall inside the window.
        let to = issue == "timeInFuture" ? "2100-01-01" : "2026-03-03"
        let before = try await workspace.size()
        let refused = await workspace.run("extract", "--source", "sqlite:\(audit)", "--from", "2026-03-02", "--to", to)
        #expect(refused.status == 1)
        #expect(refused.err.contains("\(100 + index + 1) (\(issue))"), "\(refused.err)")
        #expect(try await workspace.size() == before, "a refused extraction appended")
        let artifacts = (try? FileManager.default.subpathsOfDirectory(atPath: "\(workspace.root)/artifacts")) ?? []
        #expect(!artifacts.contains { $0.count > 60 }, "a refused extraction stored a snapshot: \(artifacts)")

        let kept = await workspace.run(
            "extract",
            "--source",
            "sqlite:\(audit)",
            "--from",
            "2026-03-02",
            "--to",
            to,
            "--policy",
            "quarantine",
            "--json"
        )
        #expect(kept.status == 0, "\(kept.err)")
        #expect(kept.json?["quarantined"]?[issue] == 1)
        #expect(kept.json?["rows"] == 40)
    }

    @Test("the workspace's configured quality policy applies when --policy is not given")
    func configuredPolicy() async throws {
        let workspace = try await TestWorkspace.make()
        let audit = try Self.auditDB(in: workspace.folder, ddl: Self.looseDDL, extraRows: [Self.badRows[1].sql])
        let configURL = URL(fileURLWithPath: workspace.root).appendingPathComponent("ledger.json")
        let config = try String(contentsOf: configURL, encoding: .utf8)
        #expect(config.contains(#""quality":"refuse""#))
        try Data(config.replacingOccurrences(of: #""quality":"refuse""#, with: #""quality":"quarantine""#).utf8)
            .write(to: configURL)
        let result = await workspace.run(
            "extract",
            "--source",
            "sqlite:\(audit)",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-03",
            "--json"
        )
        #expect(result.status == 0, "\(result.err)")
        #expect(result.json?["quarantined"]?["unknownOutcome"] == 1)
    }

    @Test("an empty window, a missing Audit DB and reversed times are clear errors")
    func emptyAndMissing() async throws {
        let workspace = try await TestWorkspace.make()
        let audit = try Self.auditDB(in: workspace.folder)
        let empty = await workspace.run(
            "extract",
            "--source",
            "sqlite:\(audit)",
            "--from",
            "2025-01-01",
            "--to",
            "2025-01-02"
        )
        #expect(empty.status == 1)
        #expect(empty.err.contains("holds no usable rows"))
        let missing = await workspace.run(
            "extract",
            "--source",
            "sqlite:/nonexistent.db",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-03"
        )
        #expect(missing.status == 1)
        #expect(missing.err.contains("no Audit DB"))
        let reversed = await workspace.run(
            "extract",
            "--source",
            "sqlite:\(audit)",
            "--from",
            "2026-03-03",
            "--to",
            "2026-03-02"
        )
        #expect(reversed.status == 2)
        #expect(try await workspace.size() == 1)
    }

    @Test("a query that does not return the contract's columns is refused before any row is read")
    func wrongColumns() throws {
        let folder = try TemporaryFolder()
        let audit = try Self.auditDB(in: folder)
        var written = 0
        let error = #expect(throws: LedgerError.self) {
            try AuditExtractor.extract(
                sqlitePath: audit,
                query: "SELECT id, actor_id FROM audit_events WHERE occurred_at >= :from AND occurred_at < :to",
                from: Timestamp(rfc3339: "2026-03-02T00:00:00.000Z") ?? Timestamp(millisecondsSinceEpoch: 0),
                to: Timestamp(rfc3339: "2026-03-03T00:00:00.000Z") ?? Timestamp(millisecondsSinceEpoch: 0),
                now: Timestamp(rfc3339: "2026-03-04T00:00:00.000Z") ?? Timestamp(millisecondsSinceEpoch: 0),
                policy: .refuse,
                sink: { written += $0.count }
            )
        }
        #expect(error?.code == .extractQuery)
        #expect(error?.reason.contains("must return the columns") == true)
        #expect(written == 0)
    }

    @Test(
        "extract --source postgres://… stores the snapshot the SQLite source gives; the log records the kind, never the URL",
        .enabled(if: TestServices.postgresEnabled)
    )
    func postgresSource() async throws {
        let url = try TestServices.freshPostgresURL()
        defer { Self.dropSchema(of: url) }
        let workspace = try await TestWorkspace.make()
        let audit = try Self.auditDB(in: workspace.folder)
        let copied = try await AuditDatabaseCopier.copy(sqlitePath: audit, toPostgres: url)
        #expect(copied.events == 40 && copied.labels == 5)
        var digests: [String] = []
        for source in ["sqlite:\(audit)", url] {
            let result = await workspace.run(
                "extract",
                "--source",
                source,
                "--from",
                "2026-03-02",
                "--to",
                "2026-03-02T06:00:00.000Z",
                "--json"
            )
            #expect(result.status == 0, "\(result.err)")
            #expect(result.json?["rows"] == 24)
            digests.append(try #require(result.json?["snapshotDigest"]?.stringValue))
        }
        #expect(digests[0] == digests[1])
        let log = await workspace.run("log", "--type", "data.extracted", "--json")
        let kinds = (log.json?.arrayValue ?? []).map { $0["data"]?["source"]?["kind"]?.stringValue }
        #expect(kinds == ["sqlite", "postgres"])
        let components = try #require(URLComponents(string: url))
        let export = workspace.folder.path("log.jsonl")
        #expect(await workspace.run("export", "--out", export).status == 0)
        var exported = try String(contentsOfFile: export, encoding: .utf8)
        for line in exported.split(separator: "\n") {
            exported += String(decoding: try Envelope(jsonBytes: Array(line.utf8)).payload, as: UTF8.self)
        }
        for secret in [components.password, components.host, "postgres://"].compactMap(\.self) {
            #expect(!exported.contains(secret), "\(secret) entered the log")
        }

        // A refused login is a source failure that names the server, never the password; a bad URL is bad input.
        var wrong = components
        wrong.password = "Wr0ng-Secret"
        let refused = await workspace.run(
            "extract",
            "--source",
            try #require(wrong.string),
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-03"
        )
        #expect(refused.status == 1)
        #expect(refused.err.contains("refused the login") && !refused.err.contains("Wr0ng-Secret"), "\(refused.err)")
        let bad = await workspace.run(
            "extract",
            "--source",
            "postgres://ledger:s3cret@127.0.0.1/ledger?sslmode=maybe",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-03"
        )
        #expect(bad.status == 2)
        #expect(bad.err.contains("sslmode must be one of") && !bad.err.contains("s3cret"), "\(bad.err)")
    }

    @Test(
        "demo audit-db --out postgres://… writes the rows the SQLite demo holds, once",
        .enabled(if: TestServices.postgresEnabled)
    )
    func postgresDemo() async throws {
        let url = try TestServices.freshPostgresURL()
        defer { Self.dropSchema(of: url) }
        let workspace = try await TestWorkspace.make()
        let file = workspace.folder.path("demo.db")
        let options = ["--weeks", "1", "--actors", "12", "--seed", "4", "--json"]
        var digests: [String] = []
        for (out, source) in [(file, "sqlite:\(file)"), (url, url)] {
            let demo = await ledger(["demo", "audit-db", "--out", out] + options)
            #expect(demo.status == 0, "\(demo.err)")
            let extract = await workspace.run(
                "extract",
                "--source",
                source,
                "--from",
                "2026-01-05",
                "--to",
                "2026-01-12",
                "--json"
            )
            #expect(extract.status == 0, "\(extract.err)")
            digests.append(try #require(extract.json?["snapshotDigest"]?.stringValue))
        }
        #expect(digests[0] == digests[1])
        let again = await ledger(["demo", "audit-db", "--out", url] + options)
        #expect(again.status == 1)
        #expect(again.err.contains("already holds audit_events; refusing to add to it"), "\(again.err)")
    }

    @Test("init --source and pipeline.source take a postgres:// URL, but not one holding a password")
    func postgresSourceInConfig() async throws {
        let folder = try TemporaryFolder()
        let root = folder.path("ws")
        let withPassword = await ledger("init", root, "--source", "postgres://ledger:s3cret@db.example.org/audit")
        #expect(withPassword.status == 2)
        #expect(withPassword.err.contains("set PGPASSWORD instead") && !withPassword.err.contains("s3cret"))
        let source = "postgres://ledger@db.example.org/audit?schema=app"
        #expect(await ledger("init", root, "--source", source).status == 0)
        let config = try CanonicalJSON.parse(try String(contentsOfFile: root + "/ledger.json", encoding: .utf8))
        #expect(config["pipeline"]?["source"]?.stringValue == source)
        let badFlag = await ledger("run", "--source", "postgres://ledger@db.example.org/audit?sslmode=sometimes")
        #expect(badFlag.status == 2 && badFlag.err.contains("--source: "), "\(badFlag.err)")
    }

    /// Drops the schema a test's URL names, with `psql` if there is one; the schema's name is random, so a schema
    /// left behind harms no other test.
    static func dropSchema(of url: String) {
        guard let psql = ["/usr/bin/psql", "/usr/local/bin/psql"].first(where: FileManager.default.isExecutableFile),
            var components = URLComponents(string: url),
            let schema = components.queryItems?.first(where: { $0.name == "schema" })?.value
        else { return }
        let password = components.password ?? ""
        (components.password, components.query) = (nil, nil)
        guard let base = components.string else { return }
        _ = try? runProcess(
            psql,
            [base, "-q", "-c", "DROP SCHEMA IF EXISTS \(schema) CASCADE"],
            environment: ["PGPASSWORD": password]
        )
    }

    @Test("the built-in query is audit/extract.sql, byte for byte")
    func builtInQuery() throws {
        let file = try String(
            contentsOf: ExternalTools.repositoryRoot.appendingPathComponent("audit/extract.sql"),
            encoding: .utf8
        )
        #expect(AuditExtractor.defaultQuery == file)
    }
}
