import LedgerArtifacts
import LedgerCore
import LedgerS3
import Testing

@Suite("s3:// URLs")
struct S3URLTests {
    static let environment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-that-must-not-show"]

    @Test("a URL gives the bucket, prefix, endpoint and region")
    func goodURLs() throws {
        let local = try S3ArtifactStore.url(
            "s3://ledger-test/team/models/?endpoint=http%3A%2F%2F127.0.0.1%3A38333&region=eu-west-3",
            environment: Self.environment
        )
        #expect(local.bucket == "ledger-test")
        #expect(local.prefix == "team/models")
        #expect(local.endpoint == "http://127.0.0.1:38333")
        #expect(local.region == "eu-west-3")
        #expect(local.description == "s3://ledger-test/team/models at http://127.0.0.1:38333 (eu-west-3)")
        let digest = ArtifactDigest.of(Array("hello".utf8))
        #expect(
            local.key(for: digest)
                == "team/models/sha256/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        )

        let aws = try S3ArtifactStore.url("s3://bucket", environment: Self.environment)
        #expect(aws.prefix == "")
        #expect(aws.endpoint == "https://s3.us-east-1.amazonaws.com")
        #expect(aws.region == "us-east-1")
        #expect(aws.key(for: digest).hasPrefix("sha256/2c/"))
        #expect(
            try S3ArtifactStore.url("s3://b/?region=ap-south-1", environment: Self.environment).endpoint
                == "https://s3.ap-south-1.amazonaws.com"
        )
        #expect(
            try S3ArtifactStore.url("s3://b?endpoint=https://minio.example:9000/", environment: Self.environment)
                .endpoint == "https://minio.example:9000"
        )
    }

    @Test(
        "a malformed URL is argument.invalid naming what to fix",
        arguments: [
            ("https://bucket/prefix", "s3://bucket/prefix"), ("s3://", "names no bucket"),
            ("s3:///prefix", "names no bucket"), ("s3://bucket with space", "not an S3 bucket name"),
            ("s3://b/a//c", "empty, '.' or '..' segment"), ("s3://b/a/../c", "empty, '.' or '..' segment"),
            ("s3://b?endpoint=ftp://host", "endpoint=http://host:port"),
            ("s3://b?endpoint=http://host:1/path", "endpoint=http://host:port"),
            ("s3://b?endpoint=localhost:9000", "endpoint=http://host:port"),
            ("s3://b?endpoint=http://", "endpoint=http://host:port"), ("s3://b?region=", "not an S3 region name"),
            ("s3://b?region=US_EAST", "not an S3 region name"),
            ("s3://b?secret=x", "parameter \"secret\": use endpoint and region"),
            ("s3://key:secret@bucket/p", "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        ]
    )
    func badURLs(_ text: String, _ expected: String) {
        let error = #expect(throws: LedgerError.self) {
            try S3ArtifactStore.url(text, environment: Self.environment)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.reason.contains(expected) == true, "\(error?.reason ?? "")")
        #expect(error?.reason.contains("secret-that-must-not-show") == false)
    }

    @Test("an endpoint carrying a password is refused without echoing it")
    func endpointWithPassword() {
        let error = #expect(throws: LedgerError.self) {
            try S3ArtifactStore.url("s3://b?endpoint=http://user:hunter2@host:9000", environment: Self.environment)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.reason.contains("hunter2") == false)
    }

    @Test(
        "missing credentials are store.credentials naming the variables to set",
        arguments: [
            ([:], "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            (["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE"], "set AWS_SECRET_ACCESS_KEY"),
            (["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": ""], "set AWS_SECRET_ACCESS_KEY"),
            (["AWS_SECRET_ACCESS_KEY": "secret-that-must-not-show"], "set AWS_ACCESS_KEY_ID"),
        ]
    )
    func missingCredentials(_ environment: [String: String], _ expected: String) {
        let error = #expect(throws: LedgerError.self) {
            try S3ArtifactStore.url("s3://bucket/prefix", environment: environment)
        }
        #expect(error?.code == .storageCredentials)
        #expect(error?.reason.contains("s3://bucket/prefix") == true)
        #expect(error?.reason.contains(expected) == true, "\(error?.reason ?? "")")
        #expect(error?.reason.contains("secret-that-must-not-show") == false)
    }

    @Test("a session token is taken when set, and no secret shows in any description")
    func secretsStayHidden() throws {
        var environment = Self.environment
        environment["AWS_SESSION_TOKEN"] = "token-that-must-not-show"
        let credentials = try S3Credentials.environment(environment, for: "s3://b")
        #expect(credentials.sessionToken == "token-that-must-not-show")
        let store = try S3ArtifactStore.url("s3://b/p", environment: environment)
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [
            store.description, "\(store)", credentials.description, String(reflecting: credentials), dumped,
        ] {
            #expect(!text.contains("secret-that-must-not-show"), "\(text)")
            #expect(!text.contains("token-that-must-not-show"), "\(text)")
        }
        #expect(credentials.description.contains("AKIDEXAMPLE"))
        #expect(try S3Credentials.environment(Self.environment, for: "s3://b").sessionToken == nil)
    }
}
