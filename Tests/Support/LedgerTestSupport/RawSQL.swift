public import LedgerCore
import LedgerPostgresConnection
import Logging
import PostgresNIO

/// Raw SQL on a test's PostgreSQL log schema, around the store: what an operator with a SQL prompt could try.
public final class RawSQL {
    let connection: PostgresConnection
    let schema: String

    deinit {
        // PostgresNIO requires a connection to be closed before it is released.
        connection.close().whenComplete { [connection] _ in withExtendedLifetime(connection) {} }
    }

    /// Connects to the log at `url` (a `postgres://` URL as `ledger` takes it, the password from `PGPASSWORD` if
    /// the URL names none, TLS as its `sslmode` says), with the log's schema as the search path.
    public init(_ url: String) async throws {
        let location = try PostgresLocation(url)
        schema = location.logSchema
        connection = try await PostgresConnection.connect(
            configuration: try location.configuration(searchPath: location.logSchema, tlsFailure: .storage),
            id: 1,
            logger: Logger(label: "test")
        )
    }

    public func execute(_ sql: String) async throws {
        _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test")).collect()
    }

    /// Every entry's envelope, the log's leaves, in seq order, read straight from the table.
    public func leaves() async throws -> [[UInt8]] {
        let rows = try await connection.query(
            "SELECT envelope FROM entries ORDER BY seq",
            logger: Logger(label: "test")
        )
        var leaves: [[UInt8]] = []
        for try await envelope in rows.decode(ByteBuffer.self) { leaves.append(Array(buffer: envelope)) }
        return leaves
    }

    /// Inserts `forged` as the log's next entry with a plain `INSERT`, past `ledger_append`: the append-only
    /// triggers allow an insert at the next seq, so nothing needs dropping. What `ledger verify` must then catch.
    public func insertAroundTheRules(_ forged: SignedEvent) async throws {
        let query: PostgresQuery = """
            INSERT INTO entries (seq, leaf_hash, envelope, type, time, actor)
            VALUES (\(Int64(forged.event.seq)), \(ByteBuffer(bytes: forged.leafHash.bytes)),
                    \(ByteBuffer(bytes: forged.leaf)), \(forged.event.type), \(forged.event.time.rfc3339),
                    \(forged.event.actor))
            """
        _ = try await connection.query(query, logger: Logger(label: "test")).collect()
    }

    /// Drops the test's schema (DROP is not refused: the triggers guard rows, and the test server is throwaway).
    public func dropSchema() async throws {
        try await execute("DROP SCHEMA \(schema) CASCADE")
    }
}
