import Foundation
import GRDB
public import LedgerCore
import LedgerPostgresConnection
import NIOCore
import PostgresNIO

/// Copies a SQLite Audit DB into PostgreSQL: how `ledger demo audit-db --out postgres://…` puts the demo there, and
/// how a test gets the same data into both dialects.
public enum AuditDatabaseCopier {
    /// Rows read from SQLite and sent to PostgreSQL at a time: what bounds the copy's memory.
    static let batchSize = 20_000

    /// How many rows a copy wrote.
    public struct Copied: Sendable, Hashable {
        public var events: Int
        public var labels: Int
    }

    /// Creates the contract's PostgreSQL tables (``AuditSchema/postgres``) in the URL's schema, creating the schema
    /// if it does not exist, and copies every event and label of the SQLite Audit DB at `sqlitePath` into them with
    /// `COPY`, ids kept, in one transaction: PostgreSQL ends up with all of it or none of it.
    ///
    /// Each SQLite time text becomes the `timestamptz` it names, so extracting any window from either database gives
    /// the same snapshot. The identity sequence of `audit_events.id` is moved past the largest id, so later inserts
    /// that leave `id` out do not collide. Memory is bounded by ``batchSize`` rows.
    ///
    /// - Throws: `audit.fileExists` if the schema already holds `audit_events` (nothing is replaced or added to);
    ///   `argument.invalid` for a malformed URL; `audit.database` if SQLite cannot be read or PostgreSQL refuses a
    ///   statement or a row (the SQLite file need not follow the contract's CHECKs, but PostgreSQL's schema does).
    ///   Messages name `HOST:PORT/DATABASE`, never the password.
    public static func copy(
        sqlitePath: String,
        toPostgres url: String
    ) async throws(LedgerError) -> Copied {
        let location = try PostgresAuditLocation(url)
        guard FileManager.default.fileExists(atPath: sqlitePath) else {
            throw LedgerError(.auditFile, "no Audit DB at \(sqlitePath)")
        }
        var configuration = Configuration()
        configuration.readonly = true
        let source: DatabaseQueue
        do {
            source = try DatabaseQueue(path: sqlitePath, configuration: configuration)
        } catch {
            throw LedgerError(
                .auditDatabase,
                "cannot open the Audit DB \(sqlitePath): \(AuditExtractor.describe(error))"
            )
        }
        let connection: PostgresConnection
        do {
            connection = try await location.connect(readOnly: false)
        } catch {
            throw LedgerError(.auditDatabase, error.reason)
        }
        do {
            let copied = try await copy(from: source, to: connection, location: location)
            try? await connection.close()
            return copied
        } catch let error as LedgerError {
            try? await connection.close()
            throw error
        } catch let error as PSQLError {
            try? await connection.close()
            throw LedgerError(.auditDatabase, "cannot copy into \(location): \(location.failure(error).reason)")
        } catch {
            try? await connection.close()
            throw LedgerError(.auditDatabase, "cannot copy into \(location): \(AuditExtractor.describe(error))")
        }
    }

    private static func copy(
        from source: DatabaseQueue,
        to connection: PostgresConnection,
        location: PostgresAuditLocation
    ) async throws -> Copied {
        let logger = PostgresAuditLocation.logger
        try await connection.query("BEGIN", logger: logger)
        if let schema = location.postgres.schema {
            // The name is checked to be a plain lower-case SQL name, so it needs no quoting.
            try await connection.query(
                PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"),
                logger: logger
            )
        }
        let existing = try await connection.query("SELECT to_regclass('audit_events') IS NOT NULL", logger: logger)
        for try await row in existing where try row.decode(Bool.self) {
            // Closing the connection rolls the transaction back.
            throw LedgerError(
                .auditFileExists,
                "the Audit DB at \(location) already holds audit_events; refusing to add to it"
            )
        }
        for statement in statements(of: AuditSchema.postgres) {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
        let events = try await copyTable(
            "audit_events",
            columns: [
                "id", "occurred_at", "actor_id", "actor_role", "action", "resource", "outcome", "source_ip", "country",
                "bytes", "session_id",
            ],
            key: "id",
            from: source,
            to: connection
        )
        let labels = try await copyTable(
            "audit_labels",
            columns: ["event_id", "label", "labeled_by", "labeled_at"],
            key: "event_id",
            from: source,
            to: connection
        )
        try await connection.query(
            "SELECT setval(pg_get_serial_sequence('audit_events', 'id'), max(id)) FROM audit_events",
            logger: logger
        )
        try await connection.query("COMMIT", logger: logger)
        try await connection.query("ANALYZE audit_events, audit_labels", logger: logger)
        return Copied(events: events, labels: labels)
    }

    /// The statements of a DDL script, one by one: the extended protocol runs one statement at a time. The script's
    /// only semicolons end statements; what holds nothing but comments and blanks is left out.
    static func statements(of script: String) -> [String] {
        script.components(separatedBy: ";\n").filter { statement in
            statement.split(separator: "\n").contains { line in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                return !trimmed.isEmpty && !trimmed.hasPrefix("--")
            }
        }
    }

    /// Copies `table` in batches of ``batchSize`` rows, in `key` order; returns the number of rows.
    private static func copyTable(
        _ table: String,
        columns: [String],
        key: String,
        from source: DatabaseQueue,
        to connection: PostgresConnection
    ) async throws -> Int {
        let select =
            "SELECT \(columns.joined(separator: ", ")) FROM \(table) WHERE \(key) > ? ORDER BY \(key) LIMIT \(batchSize)"
        var count = 0
        try await connection.copyFrom(table: table, columns: columns, logger: PostgresAuditLocation.logger) { writer in
            var last = Int64.min
            while true {
                let (buffer, rows, lastKey) = try await source.read { [last] db in
                    try copyText(db, sql: select, after: last)
                }
                guard rows > 0 else { break }
                try await writer.write(buffer)
                count += rows
                last = lastKey
            }
        }
        return count
    }

    /// One batch as `COPY` text: tab-separated, `\N` for NULL, backslash, tab, newline and carriage return escaped.
    private static func copyText(_ db: Database, sql: String, after key: Int64) throws -> (ByteBuffer, Int, Int64) {
        var buffer = ByteBuffer()
        var rows = 0
        var last = key
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: [key])
        while let row = try cursor.next() {
            for index in 0..<row.count {
                if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                switch row[index] as DatabaseValue {
                case let value where value.isNull: buffer.writeStaticString("\\N")
                case let value:
                    if let integer = Int64.fromDatabaseValue(value), case .int64 = value.storage {
                        buffer.writeString(String(integer))
                    } else {
                        let text = String.fromDatabaseValue(value) ?? ""
                        for byte in text.utf8 {
                            switch byte {
                            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                            case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                            case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                            case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                            default: buffer.writeInteger(byte)
                            }
                        }
                    }
                }
            }
            buffer.writeInteger(UInt8(ascii: "\n"))
            rows += 1
            last = row[0]
        }
        return (buffer, rows, last)
    }
}
