import Foundation

/// The servers that `Scripts/services start` runs for the PostgreSQL and S3 tests, as its environment names them:
/// the one reader of the `LEDGER_TEST_*` settings.
///
/// A test that needs a server runs when its variable is set. Without it the test is skipped on a developer's
/// machine, but in CI (`CI` set) it runs and fails, so that a missing server can never pass unnoticed.
public enum TestServices {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// Whether every server must be there: `CI` is set.
    public static var required: Bool { environment["CI"] != nil }

    /// `LEDGER_TEST_POSTGRES_URL`: the suite's PostgreSQL database.
    public static var postgresURL: String? { environment["LEDGER_TEST_POSTGRES_URL"] }

    /// Whether tests that need PostgreSQL should run (and then fail if it is missing).
    public static var postgresEnabled: Bool { postgresURL != nil || required }

    /// The suite's PostgreSQL URL with a schema of the test's own (`t_` and 16 random hex digits), so that tests
    /// share the server without seeing each other's logs.
    public static func freshPostgresURL(
        _ base: String? = postgresURL,
        sourceLocation: String = #fileID
    ) throws -> String {
        guard let base else {
            throw MissingService(
                "set LEDGER_TEST_POSTGRES_URL to a PostgreSQL database (Scripts/services start prints it)"
            )
        }
        let schema = "t_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
    }

    /// `LEDGER_TEST_POSTGRES_TLS_URL`: a database on the suite's server that takes TLS connections only.
    public static var postgresTLSURL: String? { environment["LEDGER_TEST_POSTGRES_TLS_URL"] }

    /// `LEDGER_TEST_POSTGRES_CA`: the PEM file of the CA that signed the suite's server's certificate.
    public static var postgresCA: String? { environment["LEDGER_TEST_POSTGRES_CA"] }

    /// Whether the TLS tests should run.
    public static var postgresTLSEnabled: Bool { (postgresTLSURL != nil && postgresCA != nil) || required }

    /// `LEDGER_TEST_POSTGRES_OUTAGE_URL`: a PostgreSQL server that the outage test stops and starts.
    public static var postgresOutageURL: String? { environment["LEDGER_TEST_POSTGRES_OUTAGE_URL"] }

    /// `LEDGER_TEST_POSTGRES_OUTAGE_CTL`: the command that takes `stop` or `start` for that server.
    public static var postgresOutageControl: String? { environment["LEDGER_TEST_POSTGRES_OUTAGE_CTL"] }

    /// Whether the outage test should run.
    public static var outageEnabled: Bool { (postgresOutageURL != nil && postgresOutageControl != nil) || required }

    /// `LEDGER_TEST_S3_URL`: the suite's bucket and prefix on the S3-compatible server.
    public static var s3URL: String? { environment["LEDGER_TEST_S3_URL"] }

    /// `LEDGER_TEST_S3_ACCESS_KEY_ID`: the access key of the suite's S3 server.
    public static var s3AccessKeyID: String? { environment["LEDGER_TEST_S3_ACCESS_KEY_ID"] }

    /// `LEDGER_TEST_S3_SECRET_ACCESS_KEY`: the secret key of the suite's S3 server.
    public static var s3SecretAccessKey: String? { environment["LEDGER_TEST_S3_SECRET_ACCESS_KEY"] }

    /// Whether tests that need S3 should run (and then fail if it is missing).
    public static var s3Enabled: Bool { s3URL != nil || required }

    /// Whether tests that need PostgreSQL and S3 together should run.
    public static var sharedBackendsEnabled: Bool { (postgresURL != nil && s3URL != nil) || required }

    /// `LEDGER_TEST_WORKSPACES=shared`: the CLI tests' workspaces keep their log and projections in PostgreSQL and
    /// their artifacts in S3 instead of SQLite and a folder. `Scripts/test` runs the CLI suite a second time so.
    public static var sharedWorkspaces: Bool { environment["LEDGER_TEST_WORKSPACES"] == "shared" }

    /// The `ledger init` arguments for a workspace on the shared backends: a fresh log schema and artifact prefix.
    public static func sharedWorkspaceArguments() throws -> [String] {
        ["--store", withoutPassword(try freshPostgresURL()), "--artifacts", try freshS3URL()]
    }

    /// The suite's S3 URL with a prefix of the test's own below the suite's.
    public static func freshS3URL() throws -> String {
        guard let base = s3URL, let query = base.firstIndex(of: "?") else {
            throw MissingService("set LEDGER_TEST_S3_URL to an s3:// URL (Scripts/services start prints it)")
        }
        let prefix = "t" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return base[..<query] + "/" + prefix + base[query...]
    }

    /// `url` without its password: what `ledger init --store` takes, with the password in `PGPASSWORD`.
    public static func withoutPassword(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url.firstIndex(of: "@"),
            let colon = url[scheme.upperBound..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<colon]) + String(url[at...])
    }

    /// The error a test throws when its server is not configured.
    public struct MissingService: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }
}
