import Foundation
import GRDB
import GRDBSQLite
public import LedgerCore
public import LedgerProjections
public import LedgerStore

/// The projections' read tables in a SQLite file of their own, beside the log's.
///
/// The tables hold one row per registry version, deployment, run, lineage node and drift measurement: key columns
/// for SQL, and the row's JSON document (the same JSON `--json` prints) in `doc`. `projection_heads` records the
/// last seq each projection applied and that entry's leaf hash. The file is a cache of the log: deleting it loses
/// nothing, and a schema this build does not know is dropped and rebuilt rather than migrated.
public final class SQLiteProjectionStore: ProjectionStore {
    private let queue: DatabaseQueue
    public let path: String

    /// The projection names `projection_heads` lists, one per read table.
    static let names = ["registry", "deployments", "runs", "lineage", "drift"]
    static let schemaVersion = 1

    static let schema = """
        CREATE TABLE projection_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
        CREATE TABLE projection_heads (name TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, leaf_hash TEXT NOT NULL);
        CREATE TABLE projection_context (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL);
        CREATE TABLE registry (
            name TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, artifact TEXT NOT NULL,
            doc TEXT NOT NULL, PRIMARY KEY (name, version));
        CREATE TABLE deployments (
            target TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,
            from_seq INTEGER NOT NULL, from_time TEXT NOT NULL, until_seq INTEGER, until_time TEXT,
            doc TEXT NOT NULL, PRIMARY KEY (target, position));
        CREATE TABLE runs (run TEXT PRIMARY KEY, status TEXT NOT NULL, started_seq INTEGER NOT NULL, doc TEXT NOT NULL);
        CREATE TABLE lineage (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, sha256 TEXT, doc TEXT NOT NULL);
        CREATE TABLE drift (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, verdict TEXT NOT NULL, doc TEXT NOT NULL);
        """

    /// Opens the read tables at `path`, creating the file and its tables if needed.
    public init(path: String) throws(LedgerError) {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        configuration.prepareDatabase { db in
            // A cache of the log: WAL keeps each save atomic, and a large page cache keeps a rebuild's one big
            // transaction from spilling to disk as it goes.
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.write { db in
                let version =
                    try db.tableExists("projection_schema")
                    ? try Int.fetchOne(db, sql: "SELECT version FROM projection_schema WHERE id = 1") : nil
                guard version != Self.schemaVersion else { return }
                for table in try String.fetchAll(
                    db,
                    sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                ) {
                    try db.execute(sql: "DROP TABLE \"\(table)\"")
                }
                try db.execute(sql: Self.schema)
                try db.execute(
                    sql: "INSERT INTO projection_schema (id, version) VALUES (1, ?)",
                    arguments: [Self.schemaVersion]
                )
            }
        } catch {
            throw Self.map(error, "cannot open the projections at \(path)")
        }
    }

    public func load() async throws(LedgerError) -> Projections? {
        let rows: ProjectionRows?
        do {
            rows = try await queue.read { db -> ProjectionRows? in
                let heads = try Row.fetchAll(db, sql: "SELECT name, last_seq, leaf_hash FROM projection_heads")
                // Every table must have applied the same entry; anything else is a save this store did not make.
                let distinct = Set(
                    heads.map { "\($0["last_seq"] as Int64? ?? -1) \($0["leaf_hash"] as String? ?? "")" }
                )
                guard heads.count == Self.names.count, distinct.count == 1, let first = heads.first,
                    let seq = first["last_seq"] as Int64?, seq >= 0,
                    let leafHash = (first["leaf_hash"] as String?).flatMap(Hash256.init(hex:))
                else { return nil }
                func docs(_ sql: String) throws -> [JSONValue] {
                    try String.fetchAll(db, sql: sql).map { try CanonicalJSON.parse($0) }
                }
                var deployments: IdentifierDictionary<[JSONValue]> = [:]
                for row in try Row.fetchAll(db, sql: "SELECT target, doc FROM deployments ORDER BY target, position") {
                    deployments[row["target"] as String, default: []].append(
                        try CanonicalJSON.parse(row["doc"] as String)
                    )
                }
                let context = try String.fetchOne(db, sql: "SELECT doc FROM projection_context WHERE id = 1")
                return ProjectionRows(
                    head: Projections.Head(seq: UInt64(seq), leafHash: leafHash),
                    context: try CanonicalJSON.parse(context ?? "{}"),
                    registry: try docs("SELECT doc FROM registry ORDER BY name, version"),
                    deployments: deployments,
                    runs: try docs("SELECT doc FROM runs ORDER BY run"),
                    lineage: try docs("SELECT doc FROM lineage ORDER BY seq"),
                    drift: try docs("SELECT doc FROM drift ORDER BY seq")
                )
            }
        } catch {
            throw Self.map(error, "cannot read the projections at \(path)")
        }
        return try rows.map { (rows) throws(LedgerError) in try Projections(rows: rows) }
    }

    public func save(
        _ projections: Projections,
        changes: Projections.Changes,
        replacing previous: Projections.Head??
    ) async throws(LedgerError) {
        let documents = Documents(projections, changes)
        let head = projections.head
        do {
            try await queue.write { db in
                if case .some(let expected) = previous {
                    let saved = try Row.fetchOne(db, sql: "SELECT last_seq, leaf_hash FROM projection_heads LIMIT 1")
                    let savedHead = saved.flatMap { row -> Projections.Head? in
                        guard let seq = row["last_seq"] as Int64?, let hex = row["leaf_hash"] as String?,
                            let hash = Hash256(hex: hex)
                        else { return nil }
                        return Projections.Head(seq: UInt64(seq), leafHash: hash)
                    }
                    guard savedHead == expected else {
                        throw LedgerError(.conflict, "the projections moved on since they were loaded")
                    }
                } else {
                    try Self.clear(db)
                }
                try documents.write(to: db)
                try Self.writeHeads(head, db)
            }
        } catch {
            throw Self.map(error, "cannot save the projections at \(path)")
        }
    }

    static func clear(_ db: Database) throws {
        for table in ["projection_heads", "projection_context", "registry", "deployments", "runs", "lineage", "drift"] {
            try db.execute(sql: "DELETE FROM \(table)")
        }
    }

    static func writeHeads(_ head: Projections.Head?, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM projection_heads")
        guard let head else { return }
        for name in names {
            try db.execute(
                sql: "INSERT INTO projection_heads (name, last_seq, leaf_hash) VALUES (?, ?, ?)",
                arguments: [name, Int64(head.seq), head.leafHash.hex]
            )
        }
    }

    /// Folds the log and writes the rows in one transaction, overlapped: lineage and drift rows, which never change
    /// once made, are written by the database's thread while the fold goes on; the rest follow when it ends.
    public func rebuild(
        from log: any EventStore,
        progress: (@Sendable (UInt64, UInt64) -> Void)?
    ) async throws(LedgerError) -> Projections {
        let channel = RowChannel()
        let writer = Task.detached { [queue] () -> Result<Void, any Error> in
            defer { channel.close() }
            do {
                try await queue.write { db in
                    try Self.clear(db)
                    while let message = try channel.next() {
                        switch message {
                        case .rows(let lineage, let drift):
                            try Documents.writeLineage(lineage, db)
                            try Documents.writeDrift(drift, db)
                        case .done(let projections):
                            try Documents(projections, .all, appendOnlyWritten: true).write(to: db)
                            try Self.writeHeads(projections.head, db)
                        }
                    }
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        do {
            let projections = try await ProjectionUpdater.fold(log, progress: progress) { projections, seqs in
                let lineage = seqs.compactMap { projections.lineage[$0] }
                let drift = seqs.compactMap { projections.drift[$0] }
                if !lineage.isEmpty || !drift.isEmpty { channel.send(.rows(lineage, drift)) }
            }
            channel.send(.done(projections))
            channel.finish(failed: false)
            if case .failure(let error) = await writer.value {
                throw Self.map(error, "cannot save the projections at \(path)")
            }
            return projections
        } catch {
            // The writer's transaction rolls back: the tables stay as they were.
            channel.finish(failed: true)
            _ = await writer.value
            throw Self.map(error, "cannot rebuild the projections at \(path)")
        }
    }

    static func map(_ error: any Error, _ context: String) -> LedgerError {
        if let error = error as? LedgerError { return error }
        if let error = error as? DatabaseError {
            return LedgerError(.storage, "\(context): \(error.message ?? "SQLite error \(error.resultCode.rawValue)")")
        }
        return LedgerError(.storage, "\(context): \(error)")
    }
}

/// A chunk of documents being encoded on another thread; `docs` is set before `group` is left.
private final class EncodedChunk: @unchecked Sendable {
    let group = DispatchGroup()
    var docs: [[UInt8]?] = []
}

/// What the fold hands the database's thread during a rebuild.
private enum RowMessage: Sendable {
    case rows([LineageNode], [DriftRecord])
    case done(Projections)
}

/// An unbounded channel from the fold to the database's thread. The writer keeps up (a row costs it a few
/// microseconds, an event costs the fold more), so the queue stays short.
private final class RowChannel: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [RowMessage] = []
    private var finished = false
    private var failed = false

    private var closed = false

    /// Queues `message`, or drops it once the writer has stopped (it failed, and the rebuild will report that).
    func send(_ message: RowMessage) {
        condition.lock()
        if !closed { queue.append(message) }
        condition.signal()
        condition.unlock()
    }

    /// Called by the writer when it stops, for whatever reason: nothing more is queued.
    func close() {
        condition.lock()
        closed = true
        queue.removeAll()
        condition.unlock()
    }

    func finish(failed: Bool) {
        condition.lock()
        finished = true
        self.failed = failed
        condition.signal()
        condition.unlock()
    }

    /// The next message; nil once the fold finished; throws if it failed, so that the transaction rolls back.
    func next() throws -> RowMessage? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !finished { condition.wait() }
        if failed { throw LedgerError(.storage, "the fold failed; nothing was written") }
        return queue.isEmpty ? nil : queue.removeFirst()
    }
}

/// The rows a save writes. They are encoded to JSON in the write transaction, a chunk at a time and each chunk in
/// parallel, so that a rebuild never holds every document in memory at once.
private struct Documents: Sendable {
    var context: JSONValue?
    var registry: [RegistryEntry] = []
    var deployments: [(target: String, records: [DeploymentRecord])] = []
    var runs: [RunRecord] = []
    var lineage: [LineageNode] = []
    var drift: [DriftRecord] = []

    /// - Parameter appendOnlyWritten: with `changes.everything`, the lineage and drift rows (which never change once
    ///   made) were already written while the rebuild folded, so they are left out.
    init(_ projections: Projections, _ changes: Projections.Changes, appendOnlyWritten: Bool = false) {
        if changes.everything {
            context = projections.contextJSON
            registry = projections.registry.sorted { $0.key < $1.key }.map(\.value)
            deployments = projections.deployments.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            runs = projections.runs.sorted { $0.key < $1.key }.map(\.value)
            if !appendOnlyWritten {
                lineage = projections.lineage.sorted { $0.key < $1.key }.map(\.value)
                drift = projections.drift.sorted { $0.key < $1.key }.map(\.value)
            }
            return
        }
        if changes.context { context = projections.contextJSON }
        registry = changes.registry.sorted().compactMap { projections.registry[$0] }
        deployments = changes.targets.sorted().map { ($0, projections.deployments[$0] ?? []) }
        runs = changes.runs.sorted().compactMap { projections.runs[$0] }
        lineage = changes.lineage.sorted().compactMap { projections.lineage[$0] }
        drift = changes.drift.sorted().compactMap { projections.drift[$0] }
    }

    static let chunk = 32_768
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static func text(_ doc: [UInt8]) -> String { String(decoding: doc, as: UTF8.self) }

    /// Canonical JSON of each row, built and encoded in parallel, then passed to `insert` a chunk at a time. The
    /// next chunk is encoded while this one is inserted.
    static func encode<Row: Sendable>(
        _ rows: [Row],
        _ json: @escaping @Sendable (Row) -> JSONValue,
        insert: (Row, [UInt8]) throws -> Void
    ) throws {
        let slices = stride(from: 0, to: rows.count, by: chunk).map { Array(rows[$0..<min($0 + chunk, rows.count)]) }
        func encodeInBackground(_ slice: [Row]) -> EncodedChunk {
            let result = EncodedChunk()
            result.group.enter()
            DispatchQueue.global().async {
                result.docs = ParallelMap.map(slice.count) { index in try? CanonicalJSON.encode(json(slice[index])) }
                result.group.leave()
            }
            return result
        }
        var next = slices.first.map(encodeInBackground)
        for (index, slice) in slices.enumerated() {
            guard let pending = next else { break }
            pending.group.wait()
            next = index + 1 < slices.count ? encodeInBackground(slices[index + 1]) : nil
            for (row, doc) in zip(slice, pending.docs) {
                guard let doc else { throw LedgerError(.storage, "a projection row does not encode as JSON") }
                try insert(row, doc)
            }
        }
    }

    func write(to db: Database) throws {
        if let context {
            try Self.encode([context], \.self) { _, doc in
                try db.execute(
                    sql: "INSERT OR REPLACE INTO projection_context (id, doc) VALUES (1, ?)",
                    arguments: [Self.text(doc)]
                )
            }
        }
        let registryInsert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO registry (name, version, status, artifact, doc) VALUES (?, ?, ?, ?, ?)"
        )
        try Self.encode(registry, \.jsonValue) { entry, doc in
            try registryInsert.execute(arguments: [
                entry.name, entry.version, entry.status.rawValue, entry.artifact, Self.text(doc),
            ])
        }
        let deploymentInsert = try db.cachedStatement(
            sql: """
                INSERT INTO deployments (target, position, name, version, from_seq, from_time, until_seq, until_time, doc)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        for (target, records) in deployments {
            try db.execute(sql: "DELETE FROM deployments WHERE target = ?", arguments: [target])
            var position = 0
            try Self.encode(records, \.jsonValue) { record, doc in
                try deploymentInsert.execute(arguments: [
                    target, position, record.name, record.version, Int64(record.from.seq), record.from.time.rfc3339,
                    record.until.map { Int64($0.seq) }, record.until?.time.rfc3339, Self.text(doc),
                ])
                position += 1
            }
        }
        let runInsert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO runs (run, status, started_seq, doc) VALUES (?, ?, ?, ?)"
        )
        try Self.encode(runs, \.jsonValue) { run, doc in
            try runInsert.execute(arguments: [run.run, run.status.rawValue, Int64(run.started.seq), Self.text(doc)])
        }
        try Self.writeLineage(lineage, db)
        try Self.writeDrift(drift, db)
    }

    static func writeLineage(_ lineage: [LineageNode], _ db: Database) throws {
        let lineageInsert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO lineage (seq, type, sha256, doc) VALUES (?, ?, ?, ?)"
        )
        // The largest table, about one row per event: bound through the C API, without GRDB's boxing.
        let handle = lineageInsert.sqliteStatement
        try Self.encode(lineage, \.jsonValue) { node, doc in
            sqlite3_reset(handle)
            sqlite3_bind_int64(handle, 1, Int64(node.stamp.seq))
            sqlite3_bind_text(handle, 2, node.type, -1, Self.transient)
            if let sha256 = node.sha256 {
                sqlite3_bind_text(handle, 3, sha256, -1, Self.transient)
            } else {
                sqlite3_bind_null(handle, 3)
            }
            let code = doc.withUnsafeBytes { bytes in
                // SQLITE_STATIC is safe: `doc` outlives the step.
                sqlite3_bind_text(
                    handle,
                    4,
                    bytes.baseAddress?.assumingMemoryBound(to: CChar.self),
                    Int32(bytes.count),
                    nil
                )
                return sqlite3_step(handle)
            }
            sqlite3_reset(handle)
            guard code == SQLITE_DONE else {
                throw LedgerError(
                    .storage,
                    "cannot write lineage seq \(node.stamp.seq): \(String(cString: sqlite3_errmsg(db.sqliteConnection)))"
                )
            }
        }
    }

    static func writeDrift(_ drift: [DriftRecord], _ db: Database) throws {
        let driftInsert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO drift (seq, time, verdict, doc) VALUES (?, ?, ?, ?)"
        )
        try Self.encode(drift, \.jsonValue) { record, doc in
            try driftInsert.execute(arguments: [
                Int64(record.measured.seq), record.measured.time.rfc3339, record.verdict, Self.text(doc),
            ])
        }
    }
}
