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

/// Reads a half-open window `[from, to)` of a SQLite Audit DB through the contract's query
/// (`audit/extract.sql`) and writes the canonical raw snapshot: JSON Lines, one RFC 8785 object per
/// row with the query's columns as keys, in the query's order.
///
/// Rows are streamed straight from SQLite to `sink` in chunks, so memory does not grow with the
/// window. The same database, query and window always give byte-identical snapshots.
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

    /// Extracts the window. `sink` receives the snapshot in chunks of about 1 MiB.
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
        var outcome: Result<AuditExtraction, LedgerError> = .failure(
            LedgerError(.extractSource, "the query did not run")
        )
        do {
            try queue.read { db in
                outcome = try run(db, query: query, from: from, to: to, now: now, policy: policy, sink: sink)
            }
        } catch let error as LedgerError {
            throw error
        } catch let error as DatabaseError where !transientResultCodes.contains(error.resultCode.primaryResultCode) {
            throw LedgerError(.extractQuery, "the extraction query failed: \(describe(error))")
        } catch {
            throw LedgerError(.extractSource, "the extraction query failed: \(describe(error))")
        }
        return try outcome.get()
    }

    private static func run(
        _ db: Database,
        query: String,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        policy: DataQualityPolicy,
        sink: (ArraySlice<UInt8>) throws -> Void
    ) throws -> Result<AuditExtraction, LedgerError> {
        let statement = try db.makeStatement(sql: query)
        guard statement.columnNames == columns else {
            return .failure(
                LedgerError(
                    .extractQuery,
                    "the query must return the columns \(columns.joined(separator: ", ")); it returns \(statement.columnNames.joined(separator: ", "))"
                )
            )
        }
        try statement.setArguments(["from": from.rfc3339, "to": to.rfc3339])
        let handle = statement.sqliteStatement
        let keys = columns.map { name -> [UInt8] in
            var key: [UInt8] = []
            CanonicalJSON.appendString(name, to: &key)
            return key + [UInt8(ascii: ":")]
        }
        // RFC 8785 orders members by key; this is the column order of the snapshot's objects.
        let order = columns.indices.sorted {
            Array(columns[$0].utf16).lexicographicallyPrecedes(Array(columns[$1].utf16))
        }
        let (fromText, toText, nowText) = (Array(from.rfc3339.utf8), Array(to.rfc3339.utf8), Array(now.rfc3339.utf8))
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20 + 4096)
        var rows = 0
        var quarantined: [DataQualityIssue: Int] = [:]
        var refused: [(id: Int64, issue: DataQualityIssue)] = []
        let outcomeBytes = outcomes.map { Array($0.utf8) }

        sqlite3_reset(handle)
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw LedgerError(
                    .extractSource,
                    "the extraction query failed: \(String(cString: sqlite3_errmsg(db.sqliteConnection)))"
                )
            }
            // The row is written straight into the buffer in key order, then taken back out if it
            // turns out to break the contract: no per-column copies on the hot path.
            let rowStart = buffer.count
            var issue: DataQualityIssue?
            buffer.append(UInt8(ascii: "{"))
            for (position, column) in order.enumerated() {
                if position > 0 { buffer.append(UInt8(ascii: ",")) }
                buffer.append(contentsOf: keys[column])
                let index = Int32(column)
                if sqlite3_column_type(handle, index) == SQLITE_NULL {
                    buffer.append(contentsOf: "null".utf8)
                    if required.contains(column) { issue = issue ?? .nullRequired }
                    continue
                }
                if column == 0 || column == 9 {
                    appendDecimal(sqlite3_column_int64(handle, index), to: &buffer)
                    continue
                }
                let bytes = UnsafeBufferPointer(
                    start: sqlite3_column_text(handle, index),
                    count: Int(sqlite3_column_bytes(handle, index))
                )
                guard isValidUTF8(bytes) else {
                    issue = issue ?? .invalidUTF8
                    continue
                }
                if column == 6, !outcomeBytes.contains(where: { $0.elementsEqual(bytes) }) {
                    issue = issue ?? .unknownOutcome
                }
                if column == 1 { issue = issue ?? timeIssue(bytes, from: fromText, to: toText, now: nowText) }
                appendJSONString(bytes, to: &buffer)
            }
            if let issue {
                buffer.removeSubrange(rowStart...)
                switch policy {
                case .refuse: refused.append((sqlite3_column_int64(handle, 0), issue))
                case .quarantine: quarantined[issue, default: 0] += 1
                }
                continue
            }
            buffer.append(contentsOf: "}\n".utf8)
            rows += 1
            if !refused.isEmpty {
                buffer.removeAll(keepingCapacity: true)
            } else if buffer.count >= 1 << 20 {
                try sink(buffer[...])
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if !refused.isEmpty {
            let shown = refused.prefix(10).map { "\($0.id) (\($0.issue.rawValue))" }.joined(separator: ", ")
            let more = refused.count > 10 ? " and \(refused.count - 10) more" : ""
            return .failure(
                LedgerError(.extractQuality, "\(refused.count) rows break the Audit DB contract: ids \(shown)\(more)")
            )
        }
        guard rows > 0 else {
            return .failure(
                LedgerError(.extractEmpty, "the window \(from) ..< \(to) holds no usable rows; nothing was extracted")
            )
        }
        if !buffer.isEmpty { try sink(buffer[...]) }
        return .success(
            AuditExtraction(rows: rows, quarantined: quarantined, queryDigest: Hash256.sha256(Array(query.utf8)))
        )
    }

    /// Why a row's `occurred_at` is unusable, or nil: it must be the 24-character UTC form, inside
    /// `[from, to)` and not after `now` (text order is time order in this form).
    static func timeIssue(
        _ time: UnsafeBufferPointer<UInt8>,
        from: [UInt8],
        to: [UInt8],
        now: [UInt8]
    ) -> DataQualityIssue? {
        guard time.count == 24, Timestamp(rfc3339: String(decoding: time, as: UTF8.self)) != nil,
            !time.lexicographicallyPrecedes(from), time.lexicographicallyPrecedes(to)
        else { return .timeOutsideWindow }
        return now.lexicographicallyPrecedes(time) ? .timeInFuture : nil
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
