import Foundation
import GRDB
import LedgerAudit
import LedgerTestSupport
import LedgerTesting
import Testing

/// The repository's `audit/` folder, found from this file: Tests/LedgerAuditTests/ → ../../audit.
func auditContractFile(_ relativePath: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("audit").appendingPathComponent(relativePath)
}

/// A fresh path in the test process's scratch folder; nothing exists there yet.
func temporaryAuditPath(_ name: String = "audit") -> String {
    TestScratch.path(name, suffix: ".db")
}

/// A new empty database holding the contract's SQLite schema.
func emptyAuditDatabase() throws -> DatabaseQueue {
    let queue = try DatabaseQueue(path: temporaryAuditPath("schema"))
    try queue.write { try $0.execute(sql: AuditSchema.sqlite) }
    return queue
}

@Suite("Audit DB contract")
struct AuditContractTests {
    @Test("the embedded SQLite DDL is byte for byte audit/sqlite/schema.sql")
    func embeddedSchemaMatchesFile() throws {
        let file = try Data(contentsOf: auditContractFile("sqlite/schema.sql"))
        #expect(Array(file) == Array(AuditSchema.sqlite.utf8))
    }

    @Test("the PostgreSQL DDL declares the same tables and columns as the SQLite DDL")
    func dialectsDeclareTheSameColumns() throws {
        let postgres = try String(contentsOf: auditContractFile("postgres/schema.sql"), encoding: .utf8)
        let sqlite = AuditSchema.sqlite
        func columns(_ ddl: String, table: String) -> [String] {
            guard let range = ddl.range(of: "CREATE TABLE \(table) (") else { return [] }
            let body = ddl[range.upperBound...].prefix { $0 != ";" }
            return body.split(separator: "\n").compactMap { line in
                let words = line.split(separator: " ")
                guard let first = words.first, words.count >= 2, first.allSatisfy({ $0.isLetter || $0 == "_" }),
                    first == first.lowercased(), first != "length", first != "and"
                else { return nil }
                return String(first)
            }
        }
        for table in ["audit_events", "audit_labels"] {
            #expect(!columns(sqlite, table: table).isEmpty)
            #expect(columns(sqlite, table: table) == columns(postgres, table: table), "\(table)")
        }
        #expect(postgres.contains("CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);"))
    }

    /// One valid row; each case below breaks one column.
    static var validRow: [String: any DatabaseValueConvertible] {
        [
            "occurred_at": "2026-01-05T09:30:00.250Z", "actor_id": "a@example.com", "actor_role": "engineer",
            "action": "record.read", "resource": "crm/customer/1", "outcome": "success", "source_ip": "10.1.0.1",
            "country": "DE", "bytes": 120,
        ]
    }

    @Test(
        "the schema refuses a row that breaks the contract",
        arguments: [
            ("outcome", "ok"), ("outcome", "SUCCESS"), ("occurred_at", "2026-01-05 09:30:00.250Z"),
            ("occurred_at", "2026-01-05T09:30:00.25Z"), ("occurred_at", "2026-01-05T09:30:00.250+01:00"),
            ("occurred_at", "2026-02-30T09:30:00.250Z"), ("occurred_at", "2026-01-05T24:00:00.000Z"),
            ("country", "de"), ("country", "DEU"), ("actor_id", ""), ("bytes", "12kB"), ("bytes", "-1"),
        ] as [(String, String)]
    )
    func schemaRefusesBadRows(column: String, value: String) throws {
        let queue = try emptyAuditDatabase()
        try insert(Self.validRow, into: queue)
        var bad = Self.validRow
        bad[column] = value
        #expect(throws: DatabaseError.self) { try insert(bad, into: queue) }
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_events") } == 1)
    }

    @Test(
        "the schema refuses NULL in every required column",
        arguments: [
            "occurred_at", "actor_id", "actor_role", "action", "resource", "outcome", "source_ip", "country", "bytes",
        ]
    )
    func schemaRefusesNulls(column: String) throws {
        let queue = try emptyAuditDatabase()
        var row = Self.validRow
        row[column] = nil
        try insert(Self.validRow, into: queue)
        #expect(throws: DatabaseError.self) { try insert(row, into: queue) }
    }

    @Test("labels must be anomalous or benign, and name an existing event")
    func labelConstraints() throws {
        let queue = try emptyAuditDatabase()
        try insert(Self.validRow, into: queue)
        let insertLabel = "INSERT INTO audit_labels (event_id, label, labeled_by, labeled_at) VALUES (?, ?, ?, ?)"
        #expect(throws: DatabaseError.self) {
            try queue.write {
                try $0.execute(sql: insertLabel, arguments: [1, "suspicious", "x", "2026-01-06T00:00:00.000Z"])
            }
        }
        #expect(throws: DatabaseError.self) {
            try queue.write {
                try $0.execute(sql: insertLabel, arguments: [99, "benign", "x", "2026-01-06T00:00:00.000Z"])
            }
        }
        try queue.write { try $0.execute(sql: insertLabel, arguments: [1, "benign", "x", "2026-01-06T00:00:00.000Z"]) }
    }

    @Test("the default extraction query reads the half-open window in (occurred_at, id) order with labels")
    func extractionQuery() throws {
        let queue = try emptyAuditDatabase()
        let times = [
            "2026-01-05T10:00:00.000Z", "2026-01-05T09:59:59.999Z", "2026-01-05T11:00:00.000Z",
            "2026-01-05T10:30:00.000Z", "2026-01-05T10:30:00.000Z", "2026-01-05T10:59:59.999Z",
        ]
        for time in times {
            var row = Self.validRow
            row["occurred_at"] = time
            try insert(row, into: queue)
        }
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO audit_labels VALUES (4, 'anomalous', 'analyst', '2026-01-06T00:00:00.000Z')"
            )
        }
        let sql = try String(contentsOf: auditContractFile("extract.sql"), encoding: .utf8)
        let query = sql.split(separator: "\n").filter { !$0.hasPrefix("--") }.joined(separator: "\n")
        #expect(query.components(separatedBy: ":from").count == 2 && query.components(separatedBy: ":to").count == 2)
        let rows = try queue.read { db in
            try Row.fetchAll(
                db,
                sql: sql,
                arguments: ["from": "2026-01-05T10:00:00.000Z", "to": "2026-01-05T11:00:00.000Z"]
            )
        }
        #expect(rows.map { $0["id"] as Int64 } == [1, 4, 5, 6])
        #expect(rows.map { $0["label"] as String? } == [nil, "anomalous", nil, nil])
        #expect(
            rows.first.map { Array($0.columnNames) } == [
                "id", "occurred_at", "actor_id", "actor_role", "action", "resource", "outcome", "source_ip",
                "country", "bytes", "session_id", "label",
            ]
        )
    }

    @Test("the feature spec is version 1, with unique names, known types and a definition each")
    func featureSpec() throws {
        let data = try Data(contentsOf: auditContractFile("features.v1.json"))
        let spec = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(spec["version"] as? Int == 1)
        let types = try #require(spec["types"] as? [String: String])
        let features = try #require(spec["features"] as? [[String: String]])
        let names = features.compactMap { $0["name"] }
        #expect(names.count == features.count && Set(names).count == names.count)
        #expect(
            names == [
                "event_count", "distinct_actions", "distinct_resources", "failure_ratio", "denial_ratio",
                "off_hours_share", "new_ip", "new_country", "total_bytes", "admin_actions_by_non_admin",
            ]
        )
        for feature in features {
            #expect(types[feature["type"] ?? ""] != nil, "\(feature)")
            #expect((feature["definition"] ?? "").hasSuffix("."), "\(feature)")
        }
        #expect(data.last == 0x0a, "the digest covers the exact bytes, final newline included")
    }

    @Test("every admin action the demo writes is in the feature spec's adminActions, and nothing else like one")
    func adminActionsMatchTheSpec() throws {
        let data = try Data(contentsOf: auditContractFile("features.v1.json"))
        let spec = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let adminActions = Set(try #require(spec["adminActions"] as? [String]))
        let demo = try DemoFixture.medium.get()
        let actions = try demo.queue().read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT action FROM audit_events WHERE actor_role = 'admin'")
        }
        let adminPrefixes = ["user.", "role.", "policy.", "key.", "audit."]
        let written = Set(actions.filter { action in adminPrefixes.contains { action.hasPrefix($0) } })
        #expect(written == adminActions)
    }

    private func insert(_ row: [String: any DatabaseValueConvertible], into queue: DatabaseQueue) throws {
        let columns = row.keys.sorted()
        let sql = """
            INSERT INTO audit_events (\(columns.joined(separator: ", ")))
            VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))
            """
        try queue.write { db in
            try db.execute(sql: sql, arguments: StatementArguments(columns.map { row[$0] }))
        }
    }
}
