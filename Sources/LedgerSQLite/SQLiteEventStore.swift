import Foundation
import GRDB
import GRDBSQLite
public import LedgerCore
public import LedgerStore

/// The embedded default ``EventStore``: one SQLite file in WAL mode, via GRDB.
///
/// Durability: every append is one `BEGIN IMMEDIATE` transaction with `synchronous=FULL`, so when
/// ``append(_:expecting:)`` returns the batch survives a power cut, and a process killed mid-append
/// leaves either all of the batch or none of it. Several processes may open the same file: the
/// write lock serializes them, and the expected-size check turns a race into `store.conflict`.
public final class SQLiteEventStore: StreamingEventStore {
    private let pool: DatabasePool
    public let path: String

    /// Opens the log at `path`.
    ///
    /// - Parameter create: create the file and its schema if missing. Without it, a missing file
    ///   is an error, so that a typo never leaves an empty log behind.
    /// - Throws: `store.failure` for a missing or unreadable file, a file that is not a ModelLedger
    ///   log, or a schema version newer than this build knows.
    public init(path: String, create: Bool = false) throws(LedgerError) {
        self.path = path
        if !create, !FileManager.default.fileExists(atPath: path) {
            throw LedgerError(.storage, "no log database at \(path)")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.writeWithoutTransaction { db in
                try Self.checkSchema(db, create: create)
            }
            try Self.migrator.migrate(pool)
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.storage, "cannot open the log at \(path): \(Self.describe(error))")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in SQLiteMigrations.all {
            migrator.registerMigration(migration.identifier) { db in try db.execute(sql: migration.sql) }
        }
        return migrator
    }

    /// Refuses a database that is not a ModelLedger log, or one written by a newer version.
    private static func checkSchema(_ db: Database, create: Bool) throws {
        let hasSchema = try db.tableExists("ledger_schema")
        if hasSchema {
            let version = try Int.fetchOne(db, sql: "SELECT version FROM ledger_schema WHERE id = 1") ?? 0
            guard version <= SQLiteMigrations.currentVersion else {
                throw LedgerError(
                    .storage,
                    "the log's schema version \(version) is newer than this ledger supports (\(SQLiteMigrations.currentVersion)); upgrade ledger"
                )
            }
        } else if try !db.tableExists("entries"),
            try String.fetchOne(db, sql: "SELECT name FROM sqlite_master LIMIT 1") == nil
        {
            guard create else { throw LedgerError(.storage, "the database holds no ModelLedger log") }
        } else {
            throw LedgerError(.storage, "the database is not a ModelLedger log")
        }
    }

    public func size() async throws(LedgerError) -> UInt64 {
        try await read { db in
            UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq) + 1, 0) FROM entries") ?? 0)
        }
    }

    public func append(_ entries: [LogEntry], expecting expectedSize: UInt64) async throws(LedgerError) {
        try checkContiguous(entries, from: expectedSize)
        guard !entries.isEmpty else { return }
        try await write { db in
            var remaining = entries.makeIterator()
            try Self.appendInTransaction(db, expecting: expectedSize) { remaining.next() }
        }
    }

    /// Holds the write lock from the size check until the stream ends. A concurrent writer waits
    /// (up to the 60 s busy timeout) and then sees `store.conflict`, as with a batch.
    public func append(from stream: EntryStream, expecting expectedSize: UInt64) async throws(LedgerError) {
        defer { stream.cancel() }
        try await write { db in
            try Self.appendInTransaction(db, expecting: expectedSize) { try stream.next() }
        }
    }

    /// One `BEGIN IMMEDIATE` transaction: checks the size, inserts what `next` yields (which must
    /// continue the seq), and commits; any error rolls everything back.
    private static func appendInTransaction(
        _ db: Database,
        expecting expectedSize: UInt64,
        next: () throws -> LogEntry?
    ) throws {
        try db.inTransaction(.immediate) {
            let size = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq) + 1, 0) FROM entries") ?? 0
            guard UInt64(size) == expectedSize else {
                throw LedgerError(.conflict, "expected the log to have \(expectedSize) entries, it has \(size)")
            }
            let insert = try db.cachedStatement(
                sql: "INSERT INTO entries (seq, leaf_hash, envelope, type, time, actor) VALUES (?, ?, ?, ?, ?, ?)"
            )
            var nextSeq = expectedSize
            while let entry = try next() {
                guard entry.seq == nextSeq else {
                    throw LedgerError(.invalidArgument, "entry has seq \(entry.seq), expected \(nextSeq)")
                }
                try Self.insert(entry, with: insert, in: db)
                nextSeq += 1
            }
            return .commit
        }
    }

    /// Inserts one entry through the SQLite C API: on the append hot path, binding the blobs in
    /// place saves the copies and boxing of GRDB's `StatementArguments`.
    private static func insert(_ entry: LogEntry, with statement: Statement, in db: Database) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        sqlite3_bind_int64(handle, 1, Int64(entry.seq))
        sqlite3_bind_text(handle, 4, entry.type, -1, sqliteTransient)
        sqlite3_bind_text(handle, 5, entry.time.rfc3339, -1, sqliteTransient)
        sqlite3_bind_text(handle, 6, entry.actor, -1, sqliteTransient)
        let code = entry.leafHash.bytes.withUnsafeBytes { hash in
            entry.leaf.withUnsafeBytes { leaf in
                // SQLITE_STATIC is safe: both buffers outlive the step below.
                sqlite3_bind_blob(handle, 2, hash.baseAddress, Int32(hash.count), nil)
                sqlite3_bind_blob(handle, 3, leaf.baseAddress, Int32(leaf.count), nil)
                return sqlite3_step(handle)
            }
        }
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else {
            throw LedgerError(
                .storage,
                "the log database refused entry \(entry.seq): \(String(cString: sqlite3_errmsg(db.sqliteConnection)))"
            )
        }
    }

    private static let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    public func leaves(upTo size: UInt64) async throws(LedgerError) -> [[UInt8]] {
        try await read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT envelope FROM entries WHERE seq < ? ORDER BY seq",
                arguments: [Int64(clamping: size)]
            )
            var leaves: [[UInt8]] = []
            while let row = try rows.next() {
                leaves.append(try row.withUnsafeData(atIndex: 0) { data in data.map { Array($0) } ?? [] })
            }
            return leaves
        }
    }

    public func entries(in range: Range<UInt64>) async throws(LedgerError) -> [LogEntry] {
        try await read { db in
            try Self.fetchEntries(
                db,
                sql:
                    "SELECT seq, leaf_hash, envelope, type, time, actor FROM entries WHERE seq >= ? AND seq < ? ORDER BY seq",
                arguments: [Int64(clamping: range.lowerBound), Int64(clamping: range.upperBound)]
            )
        }
    }

    public func leafHashes(upTo size: UInt64) async throws(LedgerError) -> [Hash256] {
        try await read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT envelope FROM entries WHERE seq < ? ORDER BY seq",
                arguments: [Int64(clamping: size)]
            )
            // Hashed from the envelope bytes: the leaf_hash column is an unchecked index.
            var hashes: [Hash256] = []
            while let row = try rows.next() {
                hashes.append(
                    try row.withUnsafeData(atIndex: 0) { data in MerkleTree.leafHash(data.map { Array($0) } ?? []) }
                )
            }
            return hashes
        }
    }

    public func keepCheckpoint(_ note: String, size: UInt64) async throws(LedgerError) {
        try await write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO checkpoints (tree_size, note) VALUES (?, ?)",
                arguments: [Int64(clamping: size), note]
            )
        }
    }

    public func checkpoints() async throws(LedgerError) -> [(size: UInt64, note: String)] {
        let rows = try await read { db in
            try Row.fetchAll(db, sql: "SELECT tree_size, note FROM checkpoints ORDER BY tree_size")
                .map { (UInt64(clamping: $0[0] as Int64? ?? 0), $0[1] as String? ?? "") }
        }
        return rows.map { (size: $0.0, note: $0.1) }
    }

    /// A PRAGMA as the store's own connections see it (for tests of the durability settings).
    package func pragma(_ name: String) async throws(LedgerError) -> String? {
        try await read { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    // MARK: - Plumbing

    private static func fetchEntries(_ db: Database, sql: String, arguments: StatementArguments) throws -> [LogEntry] {
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        var entries: [LogEntry] = []
        while let row = try rows.next() {
            // Columns are decoded as optionals: a tampered database must give an error, not a trap.
            guard let seq = row[0] as Int64?, let hashData = row[1] as Data?, let leafHash = Hash256(bytes: hashData),
                let leaf = row[2] as Data?, let type = row[3] as String?, let timeText = row[4] as String?,
                let time = Timestamp(rfc3339: timeText), let actor = row[5] as String?
            else {
                throw LedgerError(.storage, "a stored entry has a malformed row")
            }
            entries.append(
                LogEntry(
                    seq: UInt64(clamping: seq),
                    leaf: Array(leaf),
                    leafHash: leafHash,
                    type: type,
                    time: time,
                    actor: actor
                )
            )
        }
        return entries
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(LedgerError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.map(error)
        }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(LedgerError) -> T {
        do {
            return try await pool.writeWithoutTransaction(body)
        } catch {
            throw Self.map(error)
        }
    }

    private static func map(_ error: any Error) -> LedgerError {
        if let error = error as? LedgerError { return error }
        return LedgerError(.storage, "the log database refused: \(describe(error))")
    }

    /// The SQLite message only: never the SQL arguments, which hold envelopes.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? "SQLite error \(error.resultCode.rawValue)"
        }
        return "\(type(of: error))"
    }
}
