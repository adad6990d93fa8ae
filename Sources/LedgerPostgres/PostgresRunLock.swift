public import LedgerCore
import PostgresNIO

/// The pipeline's run lock for a log in PostgreSQL: a session-level advisory lock in the log's own database, so
/// that it spans machines. Two hosts with workspaces on one shared log run a window once between them, as two
/// processes of one machine do with the workspace's file lock.
///
/// The lock lives on a connection of its own. PostgreSQL lets go of it when that connection ends, however the
/// holder ends (a SIGKILL, a crashed host once its TCP connection times out), so a crash never leaves it stuck.
/// The connection's `application_name` says who holds it, for whoever is refused.
public final class PostgresRunLock: Sendable {
    private let connection: PostgresConnection
    private let location: PostgresLocation
    private var schema: String { location.logSchema }

    private init(connection: PostgresConnection, location: PostgresLocation) {
        self.connection = connection
        self.location = location
    }

    deinit { PostgresConnector.close(connection) }

    /// Opens the lock's connection for the log `store` keeps; ``tryTake()`` then takes the lock.
    ///
    /// - Parameter holder: who is asking, such as `ledger run (pid 4242 on build-7)`; shown to a refused caller.
    public static func connect(
        to store: PostgresEventStore,
        holder: String
    ) async throws(LedgerError)
        -> PostgresRunLock
    {
        let connection = try await store.connector.connect()
        let lock = PostgresRunLock(connection: connection, location: store.location)
        // PostgreSQL keeps the first 63 bytes of a longer name.
        try await lock.run("SELECT set_config('application_name', \(holder), false)")
        return lock
    }

    /// Takes the lock if nobody holds it; false if somebody does. Taking it twice on one connection nests.
    public func tryTake() async throws(LedgerError) -> Bool {
        let rows: [Bool] = try await query("SELECT pg_try_advisory_lock(\(Self.key), hashtext(\(schema)))")
        return rows.first ?? false
    }

    /// Who holds the lock, as its connection's `application_name` says; nil if nobody does or it cannot be told.
    public func holder() async -> String? {
        // The two-key form of the lock shows as classid, objid and objsubid 2; the int4 keys read as oid.
        let names: [String]? = try? await query(
            """
            SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.database = (
                SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid = \(Self.key)::oid AND l.objid = hashtext(\(schema))::oid AND l.pid <> pg_backend_pid()
            """
        )
        return names?.first.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Lets go of the lock by closing its connection; releasing the object does the same.
    public func release() {
        PostgresConnector.close(connection)
    }

    /// The first key of the lock: fixed, so that it never meets `prepare`'s one-key lock on the schema's name.
    private static let key: Int32 = 0x4c47_5255  // "LGRU"

    private func run(_ query: PostgresQuery) async throws(LedgerError) {
        do {
            try await connection.run(query)
        } catch {
            throw PostgresErrors.map(error, location)
        }
    }

    private func query<T: PostgresDecodable>(_ query: PostgresQuery) async throws(LedgerError) -> [T] {
        do {
            return try await connection.query(query, logger: PostgresConnector.logger).collect().map {
                try $0.decode(T.self)
            }
        } catch {
            throw PostgresErrors.map(error, location)
        }
    }
}
