import Foundation
public import LedgerCore
import LedgerPostgresConnection

/// Where an Audit DB is: what `--source` and `pipeline.source` name.
///
/// - `sqlite:PATH`: a SQLite file in the contract's SQLite dialect.
/// - `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&schema=NAME]` (or `postgresql://`): a
///   PostgreSQL database in the contract's PostgreSQL dialect. See ``AuditExtractor/extract(postgres:query:from:to:now:policy:sink:)``
///   for the parameters.
///
/// A PostgreSQL URL may hold a password. ``description`` never shows it, and neither does any error about the
/// source: only `HOST:PORT/DATABASE`.
public enum AuditSourceLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// Parses `sqlite:PATH`, `postgres://…` or `postgresql://…`. A PostgreSQL URL is checked in full (host, port,
    /// parameters) without connecting; a SQLite path is taken as it is.
    ///
    /// - Throws: `argument.invalid` naming what is wrong, never the password.
    public init(parsing text: String) throws(LedgerError) {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else {
                throw LedgerError(.invalidArgument, "sqlite: needs a path, such as sqlite:audit.db")
            }
            self = .sqlite(path: path)
        } else if PostgresLocation.isPostgresURL(text) {
            _ = try PostgresLocation(text, environment: [:])
            self = .postgres(url: text)
        } else {
            throw LedgerError(
                .invalidArgument,
                "the Audit DB must be sqlite:PATH or postgres://USER@HOST:PORT/DATABASE, not \(Self.redacted(text))"
            )
        }
    }

    /// What `data.extracted` records as the source's kind: `sqlite` or `postgres`. Never the path or the URL.
    public var kind: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// `text` as a message may show it: a PostgreSQL URL without its password; anything else with `://` in it as
    /// its scheme alone, since a malformed URL may still hold a password.
    public static func redacted(_ text: String) -> String { PostgresLocation.redacted(text) }

    /// Whether the URL names a password (only a PostgreSQL URL can).
    public var holdsPassword: Bool {
        guard case .postgres(let url) = self else { return false }
        return PostgresLocation.holdsPassword(url)
    }

    /// `sqlite:PATH`, or `postgres://USER@HOST:PORT/DATABASE` with any parameters but without the password.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): (try? PostgresLocation(url, environment: [:]))?.redactedURL ?? "postgres://…"
        }
    }
}

extension AuditExtractor {
    /// Extracts the window from `source`: ``extract(sqlitePath:query:from:to:now:policy:sink:)`` or
    /// ``extract(postgres:query:from:to:now:policy:sink:)``, which give byte-identical snapshots for the same rows.
    public static func extract(
        source: AuditSourceLocation,
        query: String = defaultQuery,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        policy: DataQualityPolicy,
        sink: (ArraySlice<UInt8>) throws -> Void
    ) async throws -> AuditExtraction {
        switch source {
        case .sqlite(let path):
            try extract(sqlitePath: path, query: query, from: from, to: to, now: now, policy: policy, sink: sink)
        case .postgres(let url):
            try await extract(postgres: url, query: query, from: from, to: to, now: now, policy: policy, sink: sink)
        }
    }
}
