package import LedgerCore
package import Logging
import NIOCore
package import PostgresNIO
import Synchronization

/// Lends PostgreSQL connections to one caller at a time, opening them as needed and keeping the idle ones.
///
/// PostgresNIO's pooled `PostgresClient` waits, retrying, while the server is unreachable; a ledger command must
/// instead fail at once with an error that names the server, so this opens plain `PostgresConnection`s itself.
/// A connection that failed for any reason other than a refused statement is closed, not reused.
package final class PostgresConnector: Sendable {
    package let location: PostgresLocation
    private let idle = Mutex<[PostgresConnection]>([])
    private let nextID = Atomic<Int>(1)
    /// PostgresNIO logs at debug level and below only; the ledger has no use for its lines.
    package static let logger = Logger(label: "ledger.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Keeps at most this many idle connections.
    private static let maxIdle = 4

    package init(_ location: PostgresLocation) {
        self.location = location
    }

    deinit {
        for connection in idle.withLock({ $0 }) { Self.close(connection) }
    }

    /// Closes `connection` in the background. The closure keeps it alive until the channel is closed: PostgresNIO
    /// requires a connection to be closed before it is released.
    package static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// A new connection, not from the idle list: for `LISTEN`, which holds its connection.
    package func connect() async throws(LedgerError) -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(
                configuration: try location.configuration(searchPath: location.logSchema, tlsFailure: .storage),
                id: nextID.add(1, ordering: .relaxed).oldValue,
                logger: Self.logger
            )
        } catch {
            throw PostgresErrors.map(error, location)
        }
    }

    /// Runs `body` on a connection that nobody else uses meanwhile.
    package func withConnection<T: Sendable>(
        _ body: (PostgresConnection) async throws -> T
    ) async throws(LedgerError) -> T {
        let connection: PostgresConnection
        if let reused = idle.withLock({ $0.popLast() }), !reused.isClosed {
            connection = reused
        } else {
            connection = try await connect()
        }
        do {
            let result = try await body(connection)
            giveBack(connection)
            return result
        } catch {
            if PostgresErrors.isStatementError(error), !connection.isClosed {
                giveBack(connection)
            } else {
                try? await connection.close()
            }
            throw PostgresErrors.map(error, location)
        }
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    package func withTransaction<T: Sendable>(
        _ body: (PostgresConnection) async throws -> T
    ) async throws(LedgerError) -> T {
        try await withConnection { connection in
            try await connection.run("BEGIN")
            do {
                let result = try await body(connection)
                try await connection.run("COMMIT")
                return result
            } catch {
                if !connection.isClosed { try? await connection.run("ROLLBACK") }
                throw error
            }
        }
    }

    private func giveBack(_ connection: PostgresConnection) {
        let kept = idle.withLock { list in
            guard list.count < Self.maxIdle else { return false }
            list.append(connection)
            return true
        }
        if !kept { Self.close(connection) }
    }
}

/// PostgreSQL's errors as ``LedgerError``s whose message says what to check, never the password.
package enum PostgresErrors {
    /// SQLSTATEs of the ledger's own functions and triggers (class `LG`, user-defined).
    package static let conflictState = "LG001"
    package static let appendOnlyState = "LG002"

    /// Whether the server refused one statement and the connection is still usable.
    package static func isStatementError(_ error: any Error) -> Bool {
        if error is LedgerError { return true }
        guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState] else {
            return false
        }
        // Class 08 (connection), 57 (operator intervention: shutdown) and 53 (resources) leave it doubtful.
        return !["08", "57", "53"].contains(String(state.prefix(2)))
    }

    package static func map(_ error: any Error, _ location: PostgresLocation) -> LedgerError {
        if let error = error as? LedgerError { return error }
        guard let error = error as? PSQLError else {
            return LedgerError(.storage, "PostgreSQL at \(location): \(error)")
        }
        if let reason = location.tlsFailureReason(error) {
            return LedgerError(.storage, "PostgreSQL at \(location): \(reason)")
        }
        if error.code == .server, let info = error.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = info[.message] ?? "error \(state)"
            switch state {
            case conflictState, "40001", "40P01":
                return LedgerError(.conflict, message)
            case "23505" where (info[.constraintName] ?? "").contains("leaf_hash"):
                return LedgerError(.invalidArgument, "an entry repeats a leaf already in the log")
            case "23505":
                return LedgerError(.conflict, "another writer appended first (\(message))")
            case "28000":
                return LedgerError(
                    .storage,
                    "PostgreSQL at \(location) refused the connection for user \(location.user): \(message)"
                )
            case "28P01":
                return LedgerError(
                    .storage,
                    "PostgreSQL at \(location) refused the login for user \(location.user): check the URL's password or PGPASSWORD"
                )
            case "3D000":
                return LedgerError(
                    .storage,
                    "PostgreSQL at \(location) has no database \(location.database); create it first (createdb)"
                )
            case let state where state.hasPrefix("57") || state.hasPrefix("08"):
                return LedgerError(.storage, "PostgreSQL at \(location) is unavailable: \(message)")
            default:
                return LedgerError(.storage, "PostgreSQL at \(location) refused: \(message)")
            }
        }
        switch error.code {
        case .connectionError:
            let detail = error.underlying.map { "\($0)" } ?? ""
            let cause =
                detail.contains("Connection refused")
                ? "connection refused; is the server running?"
                : detail.contains("imed out") ? "no answer within 10 s" : detail.isEmpty ? "no answer" : detail
            return LedgerError(.storage, "cannot connect to PostgreSQL at \(location): \(cause)")
        case .serverClosedConnection, .uncleanShutdown, .clientClosedConnection:
            return LedgerError(.storage, "PostgreSQL at \(location) closed the connection; is the server running?")
        default:
            return LedgerError(.storage, "PostgreSQL at \(location) failed: \(error.code)")
        }
    }

}

extension PostgresConnection {
    /// Runs a statement and reads its whole result. A server error can arrive after the first rows, so a statement
    /// whose result is not read could fail unseen: every statement the ledger runs for its effect goes through here.
    package func run(_ query: PostgresQuery) async throws {
        _ = try await self.query(query, logger: PostgresConnector.logger).collect()
    }
}
