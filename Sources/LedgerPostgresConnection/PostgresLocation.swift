public import Foundation
public import LedgerCore
import NIOCore
import NIOSSL
public import PostgresNIO

/// A PostgreSQL database: the parsed form of
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=PATH&schema=NAME]` (or
/// `postgresql://`). Both the event log and the Audit DB are named this way.
///
/// - The password may be left out of the URL and come from `PGPASSWORD`, so that it need not sit in `ledger.json`
///   or a command line. The user defaults to `PGUSER`, then `postgres`; the port to 5432; the database to the user.
///   A host may be an IPv6 address in brackets.
/// - `sslmode`: `disable` (no TLS), `require` (TLS, the server's certificate unchecked, as libpq's `require`),
///   `verify-ca` (TLS, the certificate checked against the system's trust roots) or `verify-full` (and its name
///   checked too). The default is `disable` for a loopback host (`localhost`, `127.0.0.0/8`, `::1`), else `require`.
/// - `sslrootcert`: a PEM file of the certificate authorities that `verify-ca` and `verify-full` trust instead of
///   the system's, such as a cloud provider's CA bundle (as libpq's `sslrootcert`). Only with those two modes.
/// - `schema`: a lower-case SQL name ([a-z_][a-z0-9_]*, at most 63 bytes), the session's `search_path`. A log
///   lives in ``logSchema`` (`public` unless the URL names one), so one database can hold several logs; an Audit DB
///   without one is read through the server's own `search_path`.
///
/// No message about a URL, parsed or not, ever shows its password: ``description``, ``address``, ``redactedURL``
/// and ``redacted(_:)`` leave it out, and so does every error thrown here.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    /// How the connection uses TLS: libpq's `sslmode` values, less the ones that fall back to plain text.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// The schema the URL names, or `nil` if it names none.
    public var schema: String?
    public var sslMode: SSLMode
    /// The CA certificates (a PEM file) that verify the server instead of the system's trust roots, if named.
    public var sslRootCertificates: String?

    /// The schema that holds a log: the one the URL names, else `public`.
    public var logSchema: String { schema ?? "public" }

    /// Whether `text` is a PostgreSQL URL that names a password. `ledger.json` must never hold one: the password
    /// comes from `PGPASSWORD`.
    public static func holdsPassword(_ text: String) -> Bool {
        isPostgresURL(text) && (try? PostgresLocation(text, environment: [:]))?.password != nil
    }

    /// Whether `text` starts with `postgres://` or `postgresql://`: whether it is meant as a PostgreSQL URL.
    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses `text`; `environment` supplies `PGPASSWORD` and `PGUSER` when the URL names no password or user.
    ///
    /// - Throws: `argument.invalid` saying what is wrong, never showing the password.
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(LedgerError)
    {
        let shape = "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=PATH&schema=NAME]"
        guard Self.isPostgresURL(text), let components = URLComponents(string: text) else {
            throw LedgerError(.invalidArgument, "\(Self.schemeOnly(text)) is not a PostgreSQL URL (\(shape))")
        }
        // What a message about this URL may show: no password, no parameters.
        var safe = components
        (safe.password, safe.query) = (nil, nil)
        let shown = safe.string ?? Self.schemeOnly(text)
        var host = components.host ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else {
            throw LedgerError(.invalidArgument, "\(shown) names no host (\(shape))")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else {
            throw LedgerError(.invalidArgument, "\(shown): the port must be 1 to 65535")
        }
        let user = components.user ?? environment["PGUSER"] ?? "postgres"
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        var schema: String?
        var sslMode: SSLMode?
        var sslRootCertificates: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "schema":
                guard let name = item.value, Self.isPlainName(name) else {
                    throw LedgerError(
                        .invalidArgument,
                        "\(shown): schema must be a lower-case SQL name ([a-z_][a-z0-9_]*, at most 63)"
                    )
                }
                schema = name
            case "sslmode":
                guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    throw LedgerError(
                        .invalidArgument,
                        "\(shown): sslmode must be one of "
                            + SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                    )
                }
                sslMode = mode
            case "sslrootcert":
                guard let path = item.value, !path.isEmpty else {
                    throw LedgerError(.invalidArgument, "\(shown): sslrootcert must name a PEM file of CA certificates")
                }
                sslRootCertificates = path
            default:
                throw LedgerError(
                    .invalidArgument,
                    "\(shown): unknown parameter \"\(item.name)\" (known: sslmode, sslrootcert, schema)"
                )
            }
        }
        if sslRootCertificates != nil, sslMode != .verifyCA, sslMode != .verifyFull {
            throw LedgerError(
                .invalidArgument,
                "\(shown): sslrootcert needs sslmode=verify-ca or sslmode=verify-full, which check the server's "
                    + "certificate against it"
            )
        }
        self.host = host
        self.port = port
        self.user = user
        self.password = components.password ?? environment["PGPASSWORD"]
        self.database = path.isEmpty ? user : path
        self.schema = schema
        self.sslMode = sslMode ?? (Self.isLoopback(host) ? .disable : .require)
        self.sslRootCertificates = sslRootCertificates
    }

    /// `HOST:PORT/DATABASE`, an IPv6 host in brackets: the least a message can show to name the server.
    public var address: String {
        (host.contains(":") ? "[\(host)]" : host) + ":\(port)/\(database)"
    }

    /// `postgres://USER@HOST:PORT/DATABASE`, then `?schema=NAME` unless the log's schema is `public`: how a message
    /// names a log.
    public var description: String {
        "postgres://\(user)@\(address)" + (logSchema == "public" ? "" : "?schema=\(logSchema)")
    }

    /// The URL without its password, with the parameters in force: `sslmode` always, `sslrootcert` and `schema` if
    /// the URL names them.
    public var redactedURL: String {
        var parameters = ["sslmode=\(sslMode.rawValue)"]
        if let sslRootCertificates { parameters.append("sslrootcert=\(sslRootCertificates)") }
        if let schema { parameters.append("schema=\(schema)") }
        return "postgres://\(user)@\(address)?" + parameters.joined(separator: "&")
    }

    /// `text` as a message may show it: a URL that parses becomes its ``redactedURL``; anything else with `://`
    /// shows only its scheme, since a malformed URL may still hold a password; text without `://` is shown as it is.
    public static func redacted(_ text: String) -> String {
        if isPostgresURL(text), let location = try? PostgresLocation(text, environment: [:]) {
            return location.redactedURL
        }
        return schemeOnly(text)
    }

    /// `text` up to and including its `://`, then `…`; `text` itself if it has no `://`.
    private static func schemeOnly(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        return String(text[..<scheme.upperBound]) + "…"
    }

    /// Whether `host` is `localhost`, in `127.0.0.0/8` or `::1`: where TLS is off unless the URL asks for it.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    private static func isPlainName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 63, first == UInt8(ascii: "_") || (0x61...0x7a).contains(first)
        else { return false }
        return bytes.allSatisfy { $0 == UInt8(ascii: "_") || (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) }
    }

    /// The connection settings: TLS as ``sslMode`` says, a UTF-8 session, a 10 s connect timeout.
    ///
    /// - Parameters:
    ///   - searchPath: the session's `search_path`; `nil` keeps the server's.
    ///   - readOnly: whether every transaction is read-only, so that no statement can write.
    ///   - tlsFailure: the code thrown if TLS cannot be set up.
    /// - Throws: `tlsFailure`, naming ``address`` only.
    public func configuration(
        searchPath: String?,
        readOnly: Bool = false,
        tlsFailure: LedgerError.Code
    ) throws(LedgerError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        if sslMode == .disable {
            tls = .disable
        } else {
            var settings = TLSConfiguration.makeClientConfiguration()
            switch sslMode {
            case .require: settings.certificateVerification = .none
            case .verifyCA: settings.certificateVerification = .noHostnameVerification
            case .verifyFull, .disable: settings.certificateVerification = .fullVerification
            }
            if let sslRootCertificates {
                guard FileManager.default.isReadableFile(atPath: sslRootCertificates) else {
                    throw LedgerError(
                        tlsFailure,
                        "cannot read sslrootcert \(sslRootCertificates) for PostgreSQL at \(address): no such file, "
                            + "or no permission to read it"
                    )
                }
                settings.trustRoots = .file(sslRootCertificates)
            }
            do {
                tls = .require(try NIOSSLContext(configuration: settings))
            } catch {
                throw LedgerError(tlsFailure, "cannot set up TLS for PostgreSQL at \(address): \(error)")
            }
        }
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(10)
        var parameters = [("client_encoding", "UTF8"), ("application_name", "modelledger")]
        if let searchPath { parameters.append(("search_path", searchPath)) }
        if readOnly { parameters.append(("default_transaction_read_only", "on")) }
        configuration.options.additionalStartupParameters = parameters
        return configuration
    }
}

extension PostgresLocation {
    /// Why a connection failed in TLS, said in terms of the URL's `sslmode` and `sslrootcert` (the server takes
    /// TLS connections only, does not offer TLS, its certificate does not name the host, or no trusted CA signed
    /// it); nil for any other error. Shows no URL, user or password, so that a caller can put its own name for the
    /// server before it.
    public func tlsFailureReason(_ error: any Error) -> String? {
        guard let error = error as? PSQLError else { return nil }
        let mode = "sslmode=\(sslMode.rawValue)"
        // pg_hba.conf's `hostnossl … reject` refuses a plain connection as if it were a login (SQLSTATE 28000).
        if error.serverInfo?[.sqlState] == "28000", error.serverInfo?[.message]?.contains("no encryption") == true {
            return "the server takes TLS connections only, and \(mode) sends none: set sslmode=require, verify-ca "
                + "or verify-full"
        }
        if error.code == .sslUnsupported {
            return "the server does not offer TLS, which \(mode) requires (the default off loopback): enable ssl on "
                + "the server, or on a network you trust add ?sslmode=disable to the URL"
        }
        guard let underlying = error.underlying else { return nil }
        if let extra = underlying as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "its TLS certificate does not name \(host), which \(mode) checks: connect by a name or address "
                + "the certificate holds, or use sslmode=verify-ca"
        }
        if "\(underlying)".contains("CERTIFICATE_VERIFY_FAILED") {
            let trusted = sslRootCertificates.map { "the CAs in \($0)" } ?? "the system's trusted CAs"
            return "its TLS certificate is not signed by \(trusted), which \(mode) checks: name the CA that signed it "
                + "with sslrootcert=PATH"
        }
        return nil
    }
}
