public import LedgerCore
public import LedgerPostgresConnection
public import LedgerStore
import NIOCore
import PostgresNIO

/// An ``EventStore`` in PostgreSQL, for a log that several processes and hosts write: `log = "postgres://…"`.
///
/// The tables and invariants are the SQLite store's (see ``PostgresMigrations``), and the database enforces them:
/// raw SQL cannot update, delete or truncate an entry, nor insert one out of order.
///
/// Concurrency: an append is one call of the `ledger_append` function, which takes the entries table's
/// EXCLUSIVE lock (readers go on, other appenders wait), checks the size the writer expected and inserts the batch,
/// all in one transaction. A writer whose expected size is stale gets `store.conflict` and stores nothing, so
/// writers on many hosts never fork the log or leave a gap. The commit also sends a `NOTIFY` that
/// ``appendSignals()`` turns into a wake-up for followers.
///
/// Durability is PostgreSQL's: once the call returns, the commit is on the server's WAL (with the server's default
/// `synchronous_commit = on`). If the server goes away mid-call, the batch is either committed or not, and the
/// caller gets `store.failure`; the next append's size check tells which.
public final class PostgresEventStore: AppendSignalling {
    public let location: PostgresLocation
    let connector: PostgresConnector

    /// Opens the log at `url` (see ``PostgresLocation``).
    ///
    /// - Parameter create: create the schema and its tables if they are missing. Without it, a schema with no log
    ///   is an error, so that a typo never leaves an empty log behind.
    /// - Throws: `store.failure` if the server cannot be reached or refuses the login, if the schema holds
    ///   something other than a ModelLedger log, or a log of a newer schema version.
    public static func open(_ url: String, create: Bool = false) async throws(LedgerError) -> PostgresEventStore {
        let store = PostgresEventStore(location: try PostgresLocation(url))
        try await store.prepare(create: create)
        return store
    }

    init(location: PostgresLocation) {
        self.location = location
        self.connector = PostgresConnector(location)
    }

    private func prepare(create: Bool) async throws(LedgerError) {
        let location = location
        try await connector.withTransaction { connection in
            let logger = PostgresConnector.logger
            // Serializes two processes creating the same log at once. By name: before the schema exists,
            // current_schema() is NULL, and a lock on NULL locks nothing.
            try await connection.run("SELECT pg_advisory_xact_lock(hashtext(\(location.logSchema)))")
            let tables = try await connection.query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = \(location.logSchema)",
                logger: logger
            ).collect().map { try $0.decode(String.self) }
            let version: Int?
            if tables.contains("ledger_schema") {
                let rows = try await connection.query("SELECT version FROM ledger_schema WHERE id = 1", logger: logger)
                version = try await rows.collect().first.map { Int(try $0.decode(Int32.self)) }
            } else if tables.contains("entries") {
                throw LedgerError(.storage, "\(location) holds an entries table that is not a ModelLedger log")
            } else {
                version = nil
            }
            if let version, version > PostgresMigrations.currentVersion {
                throw LedgerError(
                    .storage,
                    "the log at \(location) has schema version \(version), newer than this ledger supports (\(PostgresMigrations.currentVersion)); upgrade ledger"
                )
            }
            if version == nil && !create {
                throw LedgerError(.storage, "no ModelLedger log at \(location); create one with ledger init --store")
            }
            if version == nil {
                try await connection.run("CREATE SCHEMA IF NOT EXISTS \(unescaped: location.logSchema)")
            }
            for migration in PostgresMigrations.all where migration.version > (version ?? 0) {
                for statement in PostgresMigrations.statements(migration.sql) {
                    try await connection.run(PostgresQuery(unsafeSQL: statement))
                }
                try await connection.run(
                    "UPDATE ledger_schema SET version = \(migration.version) WHERE id = 1"
                )
            }
        }
    }

    public func size() async throws(LedgerError) -> UInt64 {
        try await connector.withConnection { connection in
            let rows = try await connection.query(
                "SELECT COALESCE(MAX(seq) + 1, 0)::bigint FROM entries",
                logger: PostgresConnector.logger
            )
            return UInt64(try await rows.collect().first?.decode(Int64.self) ?? 0)
        }
    }

    public func append(_ entries: [LogEntry], expecting expectedSize: UInt64) async throws(LedgerError) {
        try checkContiguous(entries, from: expectedSize)
        guard !entries.isEmpty else { return }
        var seqs: [Int64] = []
        var hashes: [ByteBuffer] = []
        var envelopes: [ByteBuffer] = []
        var types: [String] = []
        var times: [String] = []
        var actors: [String] = []
        for entry in entries {
            seqs.append(Int64(entry.seq))
            hashes.append(ByteBuffer(bytes: entry.leafHash.bytes))
            envelopes.append(ByteBuffer(bytes: entry.leaf))
            types.append(entry.type)
            times.append(entry.time.rfc3339)
            actors.append(entry.actor)
        }
        let expected = Int64(clamping: expectedSize)
        try await connector.withConnection { [seqs, hashes, envelopes, types, times, actors] connection in
            try await connection.run(
                "SELECT ledger_append(\(expected), \(seqs), \(hashes), \(envelopes), \(types), \(times), \(actors))"
            )
        }
    }

    public func entries(in range: Range<UInt64>) async throws(LedgerError) -> [LogEntry] {
        let (lower, upper) = (Int64(clamping: range.lowerBound), Int64(clamping: range.upperBound))
        return try await fetchEntries(
            "SELECT seq, leaf_hash, envelope, type, time, actor FROM entries WHERE seq >= \(lower) AND seq < \(upper) ORDER BY seq"
        )
    }

    public func leaves(upTo size: UInt64) async throws(LedgerError) -> [[UInt8]] {
        let upper = Int64(clamping: size)
        return try await connector.withConnection { connection in
            let rows = try await connection.query(
                "SELECT envelope FROM entries WHERE seq < \(upper) ORDER BY seq",
                logger: PostgresConnector.logger
            )
            var leaves: [[UInt8]] = []
            for try await envelope in rows.decode(ByteBuffer.self) { leaves.append(Array(buffer: envelope)) }
            return leaves
        }
    }

    public func leafHashes(upTo size: UInt64) async throws(LedgerError) -> [Hash256] {
        let upper = Int64(clamping: size)
        return try await connector.withConnection { connection in
            let rows = try await connection.query(
                "SELECT envelope FROM entries WHERE seq < \(upper) ORDER BY seq",
                logger: PostgresConnector.logger
            )
            // Hashed from the envelope bytes: the leaf_hash column is an unchecked index.
            var hashes: [Hash256] = []
            for try await envelope in rows.decode(ByteBuffer.self) {
                hashes.append(MerkleTree.leafHash(Array(buffer: envelope)))
            }
            return hashes
        }
    }

    public func keepCheckpoint(_ note: String, size: UInt64) async throws(LedgerError) {
        let treeSize = Int64(clamping: size)
        try await connector.withConnection { connection in
            try await connection.run(
                "INSERT INTO checkpoints (tree_size, note) VALUES (\(treeSize), \(note)) ON CONFLICT (tree_size) DO NOTHING"
            )
        }
    }

    public func checkpoints() async throws(LedgerError) -> [(size: UInt64, note: String)] {
        let rows = try await connector.withConnection { connection in
            var kept: [Checkpoint] = []
            let rows = try await connection.query(
                "SELECT tree_size, note FROM checkpoints ORDER BY tree_size",
                logger: PostgresConnector.logger
            )
            for try await (size, note) in rows.decode((Int64, String).self) {
                kept.append(Checkpoint(size: UInt64(clamping: size), note: note))
            }
            return kept
        }
        return rows.map { (size: $0.size, note: $0.note) }
    }

    /// Yields each time another process (or this one) commits an append, and once when the listening connection
    /// is lost or restored, so a follower re-reads ``size()`` rather than trusting the payload. The stream ends when
    /// the consumer stops iterating it.
    public func appendSignals() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let connector = connector
        let schema = location.logSchema
        let listener = Task {
            while !Task.isCancelled {
                do {
                    let connection = try await connector.connect()
                    defer { PostgresConnector.close(connection) }
                    try await connection.listen(on: PostgresMigrations.channel) { notifications in
                        continuation.yield()  // caught up: anything appended while not listening is seen now
                        for try await notification in notifications
                        where notification.payload.hasPrefix(schema + " ") {
                            continuation.yield()
                        }
                    }
                } catch {
                    continuation.yield()
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
        continuation.onTermination = { _ in listener.cancel() }
        return stream
    }

    // MARK: - Plumbing

    private struct Checkpoint: Sendable {
        var size: UInt64
        var note: String
    }

    private func fetchEntries(_ query: PostgresQuery) async throws(LedgerError) -> [LogEntry] {
        try await connector.withConnection { connection in
            let rows = try await connection.query(query, logger: PostgresConnector.logger)
            var entries: [LogEntry] = []
            for try await (seq, hash, envelope, type, timeText, actor) in rows.decode(
                (Int64, ByteBuffer, ByteBuffer, String, String, String).self
            ) {
                guard let leafHash = Hash256(bytes: Array(buffer: hash)), let time = Timestamp(rfc3339: timeText) else {
                    throw LedgerError(.storage, "a stored entry has a malformed row")
                }
                entries.append(
                    LogEntry(
                        seq: UInt64(clamping: seq),
                        leaf: Array(buffer: envelope),
                        leafHash: leafHash,
                        type: type,
                        time: time,
                        actor: actor
                    )
                )
            }
            return entries
        }
    }
}
