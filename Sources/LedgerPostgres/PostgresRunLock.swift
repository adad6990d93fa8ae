public import LedgerCore
import LedgerPostgresConnection
import PostgresNIO
import Synchronization

/// The pipeline's run lock for a log in PostgreSQL: a session-level advisory lock in the log's own database, so
/// that it spans machines. Two hosts with workspaces on one shared log run a window once between them, as two
/// processes of one machine do with the workspace's file lock.
///
/// The lock lives on a connection of its own. PostgreSQL lets go of it when that connection ends, however the
/// holder ends (a SIGKILL, a crashed host once its TCP connection times out), so a crash never leaves it stuck.
/// The connection's `application_name` says who holds it, for whoever is refused.
///
/// The lock holds only while its connection does. A server restart, a failover or a proxy that cuts idle
/// connections ends it mid-run without the holder noticing; the log's own rules (one `run.started` per run, each
/// step once) still keep a second runner from forking the run. `idle_session_timeout` is switched off for the
/// connection, and a pooler in front of the server must give it a session of its own (PgBouncer's session mode).
public final class PostgresRunLock: Sendable {
    private let connection: PostgresConnection
    private let location: PostgresLocation
    private let released = Atomic<Bool>(false)
    private var schema: String { location.logSchema }

    /// Locks of this process that are being let go of: until the server has run their unlock, a new attempt
    /// from this process could find its own old lock still held.
    private static let releasing = Atomic<Int>(0)

    private init(connection: PostgresConnection, location: PostgresLocation) {
        self.connection = connection
        self.location = location
    }

    deinit { release() }

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
        // PostgreSQL 14 and later end a session idle for idle_session_timeout, and the lock with it.
        try await lock.run(
            """
            DO $$ BEGIN PERFORM set_config('idle_session_timeout', '0', false);
            EXCEPTION WHEN undefined_object THEN NULL; END $$
            """
        )
        return lock
    }

    /// Takes the lock if nobody holds it; false if somebody does. Taking it twice on one connection nests.
    public func tryTake() async throws(LedgerError) -> Bool {
        if try await take() { return true }
        // This process may have let go of the lock a moment ago, with the unlock still on its way to the server.
        let deadline = ContinuousClock.now + .seconds(5)
        while Self.releasing.load(ordering: .acquiring) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return try await take()
    }

    private func take() async throws(LedgerError) -> Bool {
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

    /// Lets go of the lock: unlocks it on the server, then closes its connection, in the background; releasing the
    /// object does the same. Closing alone would free it too, once the server sees the connection end.
    public func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Self.releasing.add(1, ordering: .releasing)
        let connection = connection
        Task {
            _ = try? await connection.query("SELECT pg_advisory_unlock_all()", logger: PostgresConnector.logger)
                .collect()
            Self.releasing.subtract(1, ordering: .releasing)
            PostgresConnector.close(connection)
        }
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
