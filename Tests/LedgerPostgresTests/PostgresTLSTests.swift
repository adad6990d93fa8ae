import Foundation
import LedgerCore
import LedgerPostgres
import LedgerTestSupport
import LedgerTesting
import Testing

/// TLS against a real server: `Scripts/services` gives the suite's PostgreSQL a certificate for 127.0.0.1 from a
/// test CA, and a database that refuses plain connections, so a log that opens there went over TLS.
@Suite("PostgreSQL over TLS", .enabled(if: TestServices.postgresTLSEnabled))
struct PostgresTLSTests {
    /// A fresh log schema in the TLS-only database, with `parameters` added to the URL.
    static func url(_ parameters: String, host: String = "127.0.0.1") throws -> String {
        let base = try #require(TestServices.postgresTLSURL, "LEDGER_TEST_POSTGRES_TLS_URL")
        return try TestServices.freshPostgresURL(base).replacingOccurrences(of: "@127.0.0.1:", with: "@\(host):")
            + "&" + parameters
    }

    /// Opens a log at `url` and appends to it.
    static func expectWorks(_ url: String) async throws {
        let store = try await PostgresEventStore.open(url, create: true)
        _ = try await TestLogs.make(store: store, notes: 1)
        #expect(try await store.size() > 1)
        try await RawSQL(url).dropSchema()
    }

    @Test("require, verify-ca and verify-full with the test CA connect over TLS and keep a log")
    func modesThatConnect() async throws {
        let ca = try #require(TestServices.postgresCA, "LEDGER_TEST_POSTGRES_CA")
        for parameters in [
            "sslmode=require", "sslmode=verify-ca&sslrootcert=\(ca)", "sslmode=verify-full&sslrootcert=\(ca)",
        ] {
            try await Self.expectWorks(try Self.url(parameters))
        }
        // verify-ca checks the chain, not the name: the certificate names 127.0.0.1, not 127.0.0.2.
        try await Self.expectWorks(try Self.url("sslmode=verify-ca&sslrootcert=\(ca)", host: "127.0.0.2"))
    }

    @Test("plain text, an unknown CA, another name and a missing CA file are refused with a clear error")
    func modesThatAreRefused() async throws {
        let ca = try #require(TestServices.postgresCA, "LEDGER_TEST_POSTGRES_CA")
        let refusals = [
            ("sslmode=disable", "127.0.0.1", "takes TLS connections only"),
            ("sslmode=verify-full", "127.0.0.1", "certificate is not signed by the system's trusted CAs"),
            ("sslmode=verify-ca", "127.0.0.1", "certificate is not signed by the system's trusted CAs"),
            ("sslmode=verify-full&sslrootcert=\(ca)", "127.0.0.2", "does not name 127.0.0.2"),
            (
                "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", "127.0.0.1",
                "cannot read sslrootcert /nonexistent"
            ),
        ]
        for (parameters, host, reason) in refusals {
            let url = try Self.url(parameters, host: host)
            do {
                _ = try await PostgresEventStore.open(url, create: true)
                Issue.record("\(parameters) on \(host) connected")
            } catch {
                #expect(error.code == .storage, "\(parameters) on \(host): \(error.code)")
                #expect(error.reason.contains(reason), "\(parameters) on \(host): \(error.reason)")
                #expect(error.reason.contains(host), "the message names the server: \(error.reason)")
                #expect(!error.reason.contains("ledger-test"), "the password never appears")
            }
        }
    }
}
