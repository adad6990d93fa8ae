import Foundation
import GRDB
import GRDBSQLite
public import LedgerCore

/// What to do with a row that breaks the Audit DB contract.
public enum DataQualityPolicy: String, Sendable, CaseIterable {
    /// Fail the extraction, naming the offending row ids; nothing is stored or appended.
    case refuse
    /// Leave the row out of the snapshot and count it, by reason, in the `data.extracted` event.
    case quarantine
}

/// Why a row was refused or quarantined.
public enum DataQualityIssue: String, Sendable, CaseIterable, Comparable {
    case nullRequired
    case unknownOutcome
    case timeOutsideWindow
    case timeInFuture
    case invalidUTF8

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The result of reading one window of the Audit DB.
public struct AuditExtraction: Sendable {
    /// Rows written to the snapshot.
    public var rows: Int
    /// Rows left out, by reason (only with ``DataQualityPolicy/quarantine``).
    public var quarantined: [DataQualityIssue: Int]
    /// SHA-256 of the query text that ran.
    public var queryDigest: Hash256
}

/// Reads a half-open window `[from, to)` of an Audit DB, SQLite or PostgreSQL, through the contract's query
/// (`audit/extract.sql`) and writes the canonical raw snapshot: JSON Lines, one RFC 8785 object per
/// row with the query's columns as keys, in the query's order.
///
/// Rows are streamed straight from the database to `sink` in chunks, so memory does not grow with the
/// window. The same rows, query and window always give byte-identical snapshots, whichever the backend: both
/// encode and judge rows with one `AuditSnapshotEncoder`.
public enum AuditExtractor {
    /// The default extraction query: `audit/extract.sql`, byte for byte (a test keeps them equal).
    public static let defaultQuery = """
        -- ModelLedger default extraction query, contract version 1 (see audit/README.md).
        --
        -- Parameters: exactly two, named, each used once.
        --   :from  the inclusive start of the window, a UTC instant
        --   :to    the exclusive end of the window, a UTC instant (the window is half-open: from <= occurred_at < to)
        -- Binding:
        --   SQLite      both are bound as text 'YYYY-MM-DDTHH:MM:SS.mmmZ' (24 characters). The column holds the same
        --               form, so text comparison is time comparison.
        --   PostgreSQL  ModelLedger rewrites :from and :to to $1 and $2 and binds them as timestamptz.
        -- Output: one row per event, in the column order and names below, ordered by (occurred_at, id) so that the
        -- same window always gives the same rows in the same order. label is NULL for an event no analyst labelled.
        -- A custom query configured instead of this one MUST keep these names, this order and these parameters.
        -- ModelLedger records the SHA-256 of the query text it ran (this file's exact bytes) as the query digest.

        SELECT
            e.id,
            e.occurred_at,
            e.actor_id,
            e.actor_role,
            e.action,
            e.resource,
            e.outcome,
            e.source_ip,
            e.country,
            e.bytes,
            e.session_id,
            l.label
        FROM audit_events AS e
        LEFT JOIN audit_labels AS l ON l.event_id = e.id
        WHERE e.occurred_at >= :from
          AND e.occurred_at < :to
        ORDER BY e.occurred_at, e.id

        """

    /// The columns the query must return, in order.
    public static let columns = [
        "id", "occurred_at", "actor_id", "actor_role", "action", "resource", "outcome", "source_ip", "country",
        "bytes", "session_id", "label",
    ]
    /// Columns that may not be NULL.
    static let required: Set<Int> = [0, 1, 2, 3, 4, 5, 6]
    static let outcomes: Set<String> = ["success", "failure", "denied"]

    /// Extracts the window from the SQLite file at `sqlitePath`. `sink` receives the snapshot in chunks of about
    /// 1 MiB.
    ///
    /// - Throws: `extract.quality` naming up to 10 row ids when `policy` is ``DataQualityPolicy/refuse``
    ///   and a row breaks the contract; `extract.empty` for a window with no usable rows;
    ///   `extract.source` if the database or query cannot be read.
    public static func extract(
        sqlitePath: String,
        query: String = defaultQuery,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        policy: DataQualityPolicy,
        sink: (ArraySlice<UInt8>) throws -> Void
    ) throws -> AuditExtraction {
        guard from < to else { throw LedgerError(.invalidArgument, "the window is empty: --from must be before --to") }
        guard FileManager.default.fileExists(atPath: sqlitePath) else {
            throw LedgerError(.extractSource, "no Audit DB at \(sqlitePath)")
        }
        var configuration = Configuration()
        configuration.readonly = true
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: sqlitePath, configuration: configuration)
        } catch {
            throw LedgerError(.extractSource, "cannot open the Audit DB \(sqlitePath): \(describe(error))")
        }
        do {
            return try queue.read { db in
                try run(db, query: query, from: from, to: to, now: now, policy: policy, sink: sink)
            }
        } catch let error as LedgerError {
            throw error
        } catch let error as DatabaseError where !transientResultCodes.contains(error.resultCode.primaryResultCode) {
            throw LedgerError(.extractQuery, "the extraction query failed: \(describe(error))")
        } catch {
            throw LedgerError(.extractSource, "the extraction query failed: \(describe(error))")
        }
    }

    private static func run(
        _ db: Database,
        query: String,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        policy: DataQualityPolicy,
        sink: (ArraySlice<UInt8>) throws -> Void
    ) throws -> AuditExtraction {
        let statement = try db.makeStatement(sql: query)
        guard statement.columnNames == columns else {
            throw LedgerError(
                .extractQuery,
                "the query must return the columns \(columns.joined(separator: ", ")); it returns \(statement.columnNames.joined(separator: ", "))"
            )
        }
        try statement.setArguments(["from": from.rfc3339, "to": to.rfc3339])
        let row = SQLiteAuditRow(statement: statement.sqliteStatement)
        var encoder = AuditSnapshotEncoder(from: from, to: to, now: now, policy: policy)
        sqlite3_reset(row.statement)
        while true {
            let code = sqlite3_step(row.statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw LedgerError(
                    .extractSource,
                    "the extraction query failed: \(String(cString: sqlite3_errmsg(db.sqliteConnection)))"
                )
            }
            try encoder.append(row, sink: sink)
        }
        return try encoder.finish(query: query, window: (from, to), sink: sink)
    }

    /// ASCII is checked byte by byte; anything else goes through the standard library's validator.
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 < 0x80 } || String(validating: bytes, as: UTF8.self) != nil
    }

    static func appendDecimal(_ value: Int64, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: String(value).utf8)
    }

    /// A JSON string in RFC 8785 form from valid UTF-8: only `"`, `\\` and controls are escaped.
    static func appendJSONString(_ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\""))
        if !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            buffer.append(contentsOf: bytes)
        } else {
            // Rare: let the canonical encoder choose the escapes.
            var escaped: [UInt8] = []
            CanonicalJSON.appendString(String(decoding: bytes, as: UTF8.self), to: &escaped)
            buffer.append(contentsOf: escaped.dropFirst().dropLast())
        }
        buffer.append(UInt8(ascii: "\""))
    }

    /// SQLite result codes that say the database was unavailable rather than the query wrong: BUSY, LOCKED,
    /// IOERR, CANTOPEN.
    static let transientResultCodes: [ResultCode] = [.SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_IOERR, .SQLITE_CANTOPEN]

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "SQLite error \(error.resultCode.rawValue)" }
        return "\(type(of: error))"
    }
}

/// A row of a stepped SQLite statement, read in place through the C API: text is the statement's own buffer,
/// valid until the next step.
struct SQLiteAuditRow: AuditRowColumns {
    let statement: SQLiteStatement

    @inline(__always)
    func isNull(_ column: Int) -> Bool { sqlite3_column_type(statement, Int32(column)) == SQLITE_NULL }

    @inline(__always)
    func integer(_ column: Int) -> Int64 { sqlite3_column_int64(statement, Int32(column)) }

    @inline(__always)
    func withText<Result>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        body(
            UnsafeBufferPointer(
                start: sqlite3_column_text(statement, Int32(column)),
                count: Int(sqlite3_column_bytes(statement, Int32(column)))
            )
        )
    }

    /// SQLite holds `occurred_at` as text.
    @inline(__always)
    func instant(_ column: Int) -> Int64? { nil }
}

extension LedgerError.Code {
    /// The Audit DB could not be opened or read (missing, busy, locked, an I/O error): worth retrying.
    public static let extractSource = Self(rawValue: "extract.source")
    /// The query broke the contract (other columns, an SQL error): retrying cannot help.
    public static let extractQuery = Self(rawValue: "extract.query")
    /// Rows that break the Audit DB contract, under the refuse policy.
    public static let extractQuality = Self(rawValue: "extract.quality")
    /// A window with no usable rows.
    public static let extractEmpty = Self(rawValue: "extract.empty")
}
