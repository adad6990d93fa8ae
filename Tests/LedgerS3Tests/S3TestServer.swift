import Foundation
import LedgerS3
import LedgerTesting
import Testing

/// The S3 server the integration tests run against, from `Scripts/services env` as ``TestServices`` reads it:
/// LEDGER_TEST_S3_URL, LEDGER_TEST_S3_ACCESS_KEY_ID and LEDGER_TEST_S3_SECRET_ACCESS_KEY.
enum S3TestServer {
    /// Whether the tests that need a server run: when one is configured, and always in CI, where a missing one
    /// fails them.
    static var shouldRun: Bool { TestServices.s3Enabled }

    /// The credentials as the standard AWS variables, with the secret replaced if `secret` is given.
    static func credentials(secret: String? = nil) -> [String: String] {
        [
            "AWS_ACCESS_KEY_ID": TestServices.s3AccessKeyID ?? "",
            "AWS_SECRET_ACCESS_KEY": secret ?? TestServices.s3SecretAccessKey ?? "",
        ]
    }

    /// A store under a fresh random prefix below the server URL's, so that tests run in parallel; `nil`, after
    /// recording an issue, when no server is configured.
    static func store(
        bucket: String? = nil,
        secret: String? = nil,
        configuration: S3ArtifactStore.Configuration = S3ArtifactStore.Configuration()
    ) throws -> S3ArtifactStore? {
        guard let url = TestServices.s3URL else {
            Issue.record("the S3 tests need a server: set LEDGER_TEST_S3_URL (Scripts/services start)")
            return nil
        }
        var location = url.prefix { $0 != "?" }
        let query = url.dropFirst(location.count)
        if let bucket { location = "s3://\(bucket)" + location.dropFirst("s3://".count).drop { $0 != "/" } }
        let text = "\(location)/test-\(UUID().uuidString.lowercased())\(query)"
        return try S3ArtifactStore.url(text, environment: credentials(secret: secret), configuration: configuration)
    }
}
