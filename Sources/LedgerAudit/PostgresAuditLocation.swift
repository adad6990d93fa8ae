import Foundation
import LedgerCore
import LedgerPostgresConnection
import Logging
import PostgresNIO

/// A PostgreSQL Audit DB: a ``PostgresLocation`` (URL, `sslmode`, `schema`, redaction) and what only the Audit DB
/// needs, its connection and its error mapping to `extract.source` and `extract.query`.
///
/// Without `?schema=NAME` the tables are found through the server's own `search_path`.
/// ``description`` shows `HOST:PORT/DATABASE` only, and no message about a URL ever shows its password.
struct PostgresAuditLocation: Sendable, CustomStringConvertible {
    let postgres: PostgresLocation

    /// Parses `text` as ``PostgresLocation`` does.
    ///
    /// - Throws: `argument.invalid` saying what is wrong, never showing the password.
    init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(LedgerError) {
        postgres = try PostgresLocation(text, environment: environment)
    }

    /// `HOST:PORT/DATABASE`: all an error message shows.
    var description: String { postgres.address }

    /// PostgresNIO logs at debug level and below only; the ledger has no use for its lines.
    static let logger = Logger(label: "ledger.audit.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Opens a connection, mapping every failure to `extract.source`.
    func connect(readOnly: Bool) async throws(LedgerError) -> PostgresConnection {
        let configuration = try postgres.configuration(
            searchPath: postgres.schema,
            readOnly: readOnly,
            tlsFailure: .extractSource
        )
        do {
            return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Self.logger)
        } catch {
            throw failure(error)
        }
    }

    /// The `LedgerError` for `error`, naming this Audit DB as `HOST:PORT/DATABASE`.
    ///
    /// - `extract.source` (worth retrying): the server unreachable, refusing the login, missing the database, short
    ///   of resources or shutting down (SQLSTATE classes 08, 28, 3D, 40, 53, 57, 58 and XX), a TLS failure, a
    ///   dropped connection.
    /// - `extract.query` (retrying cannot help): any other SQLSTATE, such as a syntax error or a missing table or
    ///   column.
    ///
    /// The server's message is shown only for classes whose messages name SQL objects rather than values (08, 3D,
    /// 42, 0A, 53, 57, 58), so that no audit data reaches a message; a login failure shows neither the user nor
    /// the password.
    func failure(_ error: any Error) -> LedgerError {
        if let error = error as? LedgerError { return error }
        let place = "the Audit DB at \(self)"
        guard let error = error as? PSQLError else {
            return LedgerError(.extractSource, "cannot read \(place): \(Self.reason(error))")
        }
        if let reason = postgres.tlsFailureReason(error) { return LedgerError(.extractSource, "\(place): \(reason)") }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? "?????"
            let stateClass = String(state.prefix(2))
            let message =
                ["08", "3D", "42", "0A", "53", "57", "58"].contains(stateClass)
                ? error.serverInfo?[.message].map { ": \($0)" } ?? "" : ""
            switch stateClass {
            case "28":
                return LedgerError(
                    .extractSource,
                    "\(place) refused the login (SQLSTATE \(state)): check the user and the password (in the URL or PGPASSWORD)"
                )
            case "08", "3D", "40", "53", "57", "58", "XX":
                return LedgerError(.extractSource, "\(place) is unavailable (SQLSTATE \(state))\(message)")
            default:
                return LedgerError(
                    .extractQuery,
                    "the extraction query failed on \(place) (SQLSTATE \(state))\(message)"
                )
            }
        case .authMechanismRequiresPassword:
            return LedgerError(
                .extractSource,
                "\(place) asks for a password: put it in the URL or in PGPASSWORD"
            )
        case .unsupportedAuthMechanism, .saslError:
            return LedgerError(.extractSource, "\(place) refused the login: \(error.code)")
        case .connectionError:
            return LedgerError(
                .extractSource,
                "cannot connect to \(place): \(error.underlying.map(Self.reason) ?? "connection failed")"
            )
        default:
            return LedgerError(.extractSource, "\(place) failed: \(error.code)")
        }
    }

    /// A short reason for a connection-level error, from its type and errno: never a URL or a password.
    private static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first?.error { return reason(first) }
            return "cannot resolve the host"
        }
        if let error = error as? ChannelError, case .connectTimeout(let timeout) = error {
            return "no answer within \(timeout.nanoseconds / 1_000_000_000) s"
        }
        if error is NIOSSLError { return "TLS failed (\(error))" }
        return "\(type(of: error))"
    }
}
