public import LedgerCore
import LedgerPostgresConnection
public import LedgerProjections
import PostgresNIO

/// The projections' read tables in PostgreSQL, in the log's own schema: what ``SQLiteProjectionStore`` keeps in a
/// file beside a SQLite log, with the same tables and the same JSON documents in `doc`.
///
/// Every save is one transaction that first takes the `projection_heads` table's EXCLUSIVE lock, so processes on
/// several hosts catching up at once take turns, and a save whose expected head is stale gets `store.conflict`.
/// The tables are a cache of the log: a schema version this build does not know is dropped and rebuilt.
public final class PostgresProjectionStore: ProjectionStore {
    let connector: PostgresConnector
    static let schemaVersion = 1
    static let tables = [
        "projection_schema", "projection_heads", "projection_context", "projection_registry",
        "projection_deployments", "projection_runs", "projection_lineage", "projection_drift",
    ]
    /// One per read table, as in the SQLite store.
    static let names = ["registry", "deployments", "runs", "lineage", "drift"]
    /// Rows sent per INSERT.
    static let chunk = 2000

    static let schema = """
        CREATE TABLE projection_schema (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL);
        CREATE TABLE projection_heads (name text PRIMARY KEY, last_seq bigint NOT NULL, leaf_hash text NOT NULL);
        CREATE TABLE projection_context (id integer PRIMARY KEY CHECK (id = 1), doc text NOT NULL);
        CREATE TABLE projection_registry (
            name text NOT NULL, version bigint NOT NULL, status text NOT NULL, artifact text NOT NULL,
            doc text NOT NULL, PRIMARY KEY (name, version));
        CREATE TABLE projection_deployments (
            target text NOT NULL, position bigint NOT NULL, name text NOT NULL, version bigint NOT NULL,
            from_seq bigint NOT NULL, from_time text NOT NULL, until_seq bigint, until_time text,
            doc text NOT NULL, PRIMARY KEY (target, position));
        CREATE TABLE projection_runs (run text PRIMARY KEY, status text NOT NULL, started_seq bigint NOT NULL,
            doc text NOT NULL);
        CREATE TABLE projection_lineage (seq bigint PRIMARY KEY, type text NOT NULL, sha256 text, doc text NOT NULL);
        CREATE TABLE projection_drift (seq bigint PRIMARY KEY, time text NOT NULL, verdict text NOT NULL,
            doc text NOT NULL);
        """

    /// Opens the read tables beside the log `store`, creating them if needed.
    public static func open(beside store: PostgresEventStore) async throws(LedgerError) -> PostgresProjectionStore {
        let projections = PostgresProjectionStore(connector: store.connector)
        let schema = store.location.logSchema
        try await projections.connector.withTransaction { connection in
            let logger = PostgresConnector.logger
            try await connection.run("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.projections'))")
            let present = try await connection.query(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = \(schema) AND table_name = 'projection_schema'",
                logger: logger
            ).collect()
            var version: Int32?
            if !present.isEmpty {
                version = try await connection.query(
                    "SELECT version FROM projection_schema WHERE id = 1",
                    logger: logger
                )
                .collect().first?.decode(Int32.self)
            }
            guard version != Int32(Self.schemaVersion) else { return }
            for table in Self.tables {
                try await connection.run("DROP TABLE IF EXISTS \(unescaped: table)")
            }
            for statement in PostgresMigrations.statements(Self.schema) {
                try await connection.run(PostgresQuery(unsafeSQL: statement))
            }
            try await connection.run(
                "INSERT INTO projection_schema (id, version) VALUES (1, \(Int32(Self.schemaVersion)))"
            )
        }
        return projections
    }

    init(connector: PostgresConnector) {
        self.connector = connector
    }

    public func load() async throws(LedgerError) -> Projections? {
        let rows = try await connector.withTransaction { connection -> ProjectionRows? in
            let logger = PostgresConnector.logger
            // One snapshot for every table read below.
            try await connection.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            var heads: [(Int64, String)] = []
            for try await head in try await connection.query(
                "SELECT last_seq, leaf_hash FROM projection_heads",
                logger: logger
            ).decode((Int64, String).self) {
                heads.append(head)
            }
            // Every table must have applied the same entry; anything else is a save this store did not make.
            guard heads.count == Self.names.count, Set(heads.map { "\($0.0) \($0.1)" }).count == 1,
                let first = heads.first, first.0 >= 0, let leafHash = Hash256(hex: first.1)
            else { return nil }
            func docs(_ query: PostgresQuery) async throws -> [JSONValue] {
                var docs: [JSONValue] = []
                for try await doc in try await connection.query(query, logger: logger).decode(String.self) {
                    docs.append(try CanonicalJSON.parse(doc))
                }
                return docs
            }
            var deployments: IdentifierDictionary<[JSONValue]> = [:]
            for try await (target, doc) in try await connection.query(
                "SELECT target, doc FROM projection_deployments ORDER BY target, position",
                logger: logger
            ).decode((String, String).self) {
                deployments[target, default: []].append(try CanonicalJSON.parse(doc))
            }
            return ProjectionRows(
                head: Projections.Head(seq: UInt64(first.0), leafHash: leafHash),
                context: try await docs("SELECT doc FROM projection_context WHERE id = 1").first ?? [:],
                registry: try await docs("SELECT doc FROM projection_registry ORDER BY name, version"),
                deployments: deployments,
                runs: try await docs("SELECT doc FROM projection_runs ORDER BY run"),
                lineage: try await docs("SELECT doc FROM projection_lineage ORDER BY seq"),
                drift: try await docs("SELECT doc FROM projection_drift ORDER BY seq")
            )
        }
        return try rows.map { (rows) throws(LedgerError) in try Projections(rows: rows) }
    }

    public func save(
        _ projections: Projections,
        changes: Projections.Changes,
        replacing previous: Projections.Head??
    ) async throws(LedgerError) {
        let documents = try ProjectionDocuments(projections, changes)
        let head = projections.head
        try await connector.withTransaction { connection in
            let logger = PostgresConnector.logger
            try await connection.run("LOCK TABLE projection_heads IN EXCLUSIVE MODE")
            if case .some(let expected) = previous {
                let saved = try await connection.query(
                    "SELECT last_seq, leaf_hash FROM projection_heads LIMIT 1",
                    logger: logger
                ).collect().first.map { try $0.decode((Int64, String).self) }
                let savedHead = saved.flatMap { row in
                    Hash256(hex: row.1).map { Projections.Head(seq: UInt64(clamping: row.0), leafHash: $0) }
                }
                guard savedHead == expected else {
                    throw LedgerError(.conflict, "the projections moved on since they were loaded")
                }
            } else {
                for table in Self.tables where table != "projection_schema" {
                    try await connection.run("DELETE FROM \(unescaped: table)")
                }
            }
            try await documents.write(connection)
            try await connection.run("DELETE FROM projection_heads")
            if let head {
                let seq = Int64(head.seq)
                try await connection.run(
                    "INSERT INTO projection_heads (name, last_seq, leaf_hash) SELECT unnest(\(Self.names)), \(seq), \(head.leafHash.hex)"
                )
            }
        }
    }
}

/// The rows a save writes, encoded before the transaction starts, and sent in batches of `unnest` arrays.
private struct ProjectionDocuments: Sendable {
    var context: String?
    var registry: [(name: String, version: Int64, status: String, artifact: String, doc: String)] = []
    var deployments: [(target: String, rows: [DeploymentRow])] = []
    var runs: [(run: String, status: String, startedSeq: Int64, doc: String)] = []
    var lineage: [(seq: Int64, type: String, sha256: String?, doc: String)] = []
    var drift: [(seq: Int64, time: String, verdict: String, doc: String)] = []

    struct DeploymentRow: Sendable {
        var name: String
        var version: Int64
        var fromSeq: Int64
        var fromTime: String
        var untilSeq: Int64?
        var untilTime: String?
        var doc: String
    }

    init(_ projections: Projections, _ changes: Projections.Changes) throws(LedgerError) {
        func text(_ json: JSONValue) throws(LedgerError) -> String {
            do {
                return String(decoding: try CanonicalJSON.encode(json), as: UTF8.self)
            } catch {
                throw LedgerError(.storage, "a projection row does not encode as JSON")
            }
        }
        let all = changes.everything
        if all || changes.context { context = try text(projections.contextJSON) }
        let registryKeys = all ? Array(projections.registry.keys) : Array(changes.registry)
        for key in registryKeys.sorted() {
            guard let entry = projections.registry[key] else { continue }
            registry.append(
                (entry.name, Int64(entry.version), entry.status.rawValue, entry.artifact, try text(entry.jsonValue))
            )
        }
        let targets = all ? Array(projections.deployments.keys) : Array(changes.targets)
        for target in targets.sorted() {
            var rows: [DeploymentRow] = []
            for record in projections.deployments[target] ?? [] {
                rows.append(
                    DeploymentRow(
                        name: record.name,
                        version: Int64(record.version),
                        fromSeq: Int64(record.from.seq),
                        fromTime: record.from.time.rfc3339,
                        untilSeq: record.until.map { Int64($0.seq) },
                        untilTime: record.until?.time.rfc3339,
                        doc: try text(record.jsonValue)
                    )
                )
            }
            deployments.append((target, rows))
        }
        let runKeys = all ? Array(projections.runs.keys) : Array(changes.runs)
        for key in runKeys.sorted() {
            guard let run = projections.runs[key] else { continue }
            runs.append((run.run, run.status.rawValue, Int64(run.started.seq), try text(run.jsonValue)))
        }
        let lineageKeys = all ? Array(projections.lineage.keys) : Array(changes.lineage)
        for key in lineageKeys.sorted() {
            guard let node = projections.lineage[key] else { continue }
            lineage.append((Int64(node.stamp.seq), node.type, node.sha256, try text(node.jsonValue)))
        }
        let driftKeys = all ? Array(projections.drift.keys) : Array(changes.drift)
        for key in driftKeys.sorted() {
            guard let record = projections.drift[key] else { continue }
            drift.append(
                (Int64(record.measured.seq), record.measured.time.rfc3339, record.verdict, try text(record.jsonValue))
            )
        }
    }

    func write(_ connection: PostgresConnection) async throws {
        let chunk = PostgresProjectionStore.chunk
        if let context {
            try await connection.run(
                "INSERT INTO projection_context (id, doc) VALUES (1, \(context)) ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc"
            )
        }
        for start in stride(from: 0, to: registry.count, by: chunk) {
            let rows = registry[start..<min(start + chunk, registry.count)]
            try await connection.run(
                """
                INSERT INTO projection_registry (name, version, status, artifact, doc)
                SELECT * FROM unnest(\(rows.map(\.name)), \(rows.map(\.version)), \(rows.map(\.status)),
                    \(rows.map(\.artifact)), \(rows.map(\.doc)))
                ON CONFLICT (name, version) DO UPDATE SET status = EXCLUDED.status, artifact = EXCLUDED.artifact,
                    doc = EXCLUDED.doc
                """
            )
        }
        for (target, rows) in deployments {
            try await connection.run("DELETE FROM projection_deployments WHERE target = \(target)")
            for start in stride(from: 0, to: rows.count, by: chunk) {
                let part = rows[start..<min(start + chunk, rows.count)]
                let positions = (start..<(start + part.count)).map(Int64.init)
                // NULLs in an array need a typed binding: -1 and '' stand for "still serving" and are mapped back.
                try await connection.run(
                    """
                    INSERT INTO projection_deployments
                        (target, position, name, version, from_seq, from_time, until_seq, until_time, doc)
                    SELECT \(target), p, n, v, fs, ft, NULLIF(us, -1), NULLIF(ut, ''), d
                    FROM unnest(\(positions), \(part.map(\.name)), \(part.map(\.version)), \(part.map(\.fromSeq)),
                        \(part.map(\.fromTime)), \(part.map { $0.untilSeq ?? -1 }), \(part.map { $0.untilTime ?? "" }),
                        \(part.map(\.doc))) AS r(p, n, v, fs, ft, us, ut, d)
                    """
                )
            }
        }
        for start in stride(from: 0, to: runs.count, by: chunk) {
            let rows = runs[start..<min(start + chunk, runs.count)]
            try await connection.run(
                """
                INSERT INTO projection_runs (run, status, started_seq, doc)
                SELECT * FROM unnest(\(rows.map(\.run)), \(rows.map(\.status)), \(rows.map(\.startedSeq)),
                    \(rows.map(\.doc)))
                ON CONFLICT (run) DO UPDATE SET status = EXCLUDED.status, started_seq = EXCLUDED.started_seq,
                    doc = EXCLUDED.doc
                """
            )
        }
        for start in stride(from: 0, to: lineage.count, by: chunk) {
            let rows = lineage[start..<min(start + chunk, lineage.count)]
            try await connection.run(
                """
                INSERT INTO projection_lineage (seq, type, sha256, doc)
                SELECT s, t, NULLIF(h, ''), d
                FROM unnest(\(rows.map(\.seq)), \(rows.map(\.type)), \(rows.map { $0.sha256 ?? "" }),
                    \(rows.map(\.doc))) AS r(s, t, h, d)
                ON CONFLICT (seq) DO UPDATE SET type = EXCLUDED.type, sha256 = EXCLUDED.sha256, doc = EXCLUDED.doc
                """
            )
        }
        for start in stride(from: 0, to: drift.count, by: chunk) {
            let rows = drift[start..<min(start + chunk, drift.count)]
            try await connection.run(
                """
                INSERT INTO projection_drift (seq, time, verdict, doc)
                SELECT * FROM unnest(\(rows.map(\.seq)), \(rows.map(\.time)), \(rows.map(\.verdict)),
                    \(rows.map(\.doc)))
                ON CONFLICT (seq) DO UPDATE SET time = EXCLUDED.time, verdict = EXCLUDED.verdict, doc = EXCLUDED.doc
                """
            )
        }
    }
}
