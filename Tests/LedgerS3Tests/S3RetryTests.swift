import LedgerArtifacts
import LedgerCore
import LedgerS3
import Synchronization
import Testing

/// A transport that answers from a script and records what it was sent.
final class ScriptedTransport: S3Transport {
    enum Answer: Sendable {
        case status(Int, code: String? = nil, headers: [(name: String, value: String)] = [], body: String = "")
        case connectionRefused
    }

    struct ConnectionRefused: Error, CustomStringConvertible {
        var description: String { "connection refused" }
    }

    private let script: Mutex<[Answer]>
    private let log = Mutex<[S3HTTPRequest]>([])

    /// Answers in order; the last answer repeats.
    init(_ answers: [Answer]) {
        script = Mutex(answers)
    }

    var sent: [S3HTTPRequest] { log.withLock { $0 } }

    func send(
        _ request: S3HTTPRequest,
        timeout: Duration,
        completion: @escaping @Sendable (Result<S3HTTPResponse, any Error>) -> Void
    ) {
        log.withLock { $0.append(request) }
        let answer = script.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] }
        switch answer {
        case .connectionRefused:
            completion(.failure(ConnectionRefused()))
        case .status(let status, let code, let headers, let body):
            let xml = code.map { "<?xml version=\"1.0\"?><Error><Code>\($0)</Code><Message>m</Message></Error>" }
            completion(.success(S3HTTPResponse(status: status, headers: headers, body: Array((xml ?? body).utf8))))
        }
    }
}

@Suite("S3 retries and error mapping")
struct S3RetryTests {
    static let fast = S3RetryPolicy(maximumAttempts: 4, initialDelay: .milliseconds(1), maximumDelay: .milliseconds(4))
    static let secret = "wrong-secret-never-shown"

    static func store(
        _ transport: ScriptedTransport,
        configuration: S3ArtifactStore.Configuration = S3ArtifactStore.Configuration(retryPolicy: fast)
    ) throws -> S3ArtifactStore {
        var configuration = configuration
        configuration.transport = transport
        return try S3ArtifactStore(
            bucket: "bucket",
            prefix: "p",
            endpoint: "http://127.0.0.1:9",
            credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secret),
            configuration: configuration
        )
    }

    @Test("the schedule doubles from the initial delay, is capped, and ends after the last attempt")
    func schedule() {
        let policy = S3RetryPolicy.standard
        #expect(policy.maximumAttempts == 4)
        #expect(
            (1...4).map { policy.delay(afterAttempt: $0, jitter: 0.999_999) } == [
                .milliseconds(200) * 0.999_999_5, .milliseconds(400) * 0.999_999_5, .milliseconds(800) * 0.999_999_5,
                nil,
            ]
        )
        #expect(
            (1...3).map { policy.delay(afterAttempt: $0, jitter: 0) } == [
                .milliseconds(100), .milliseconds(200), .milliseconds(400),
            ]
        )
        let capped = S3RetryPolicy(maximumAttempts: 10, initialDelay: .seconds(1), maximumDelay: .seconds(3))
        #expect(
            (1...9).compactMap { capped.delay(afterAttempt: $0, jitter: 0) }.map { $0 * 2 } == [
                .seconds(1), .seconds(2), .seconds(3), .seconds(3), .seconds(3), .seconds(3), .seconds(3), .seconds(3),
                .seconds(3),
            ]
        )
        #expect(S3RetryPolicy.never.delay(afterAttempt: 1, jitter: 0.5) == nil)
        #expect(S3RetryPolicy(maximumAttempts: 0).maximumAttempts == 1)
    }

    @Test(
        "server trouble and throttling are retried; refusals and client errors are not",
        arguments: [
            (500, nil, true), (502, nil, true), (503, "SlowDown", true), (504, nil, true), (429, nil, true),
            (400, "RequestTimeout", true), (500, "InternalError", true), (403, "SignatureDoesNotMatch", false),
            (403, "InvalidAccessKeyId", false), (403, "AccessDenied", false), (403, nil, false),
            (404, "NoSuchKey", false), (404, "NoSuchBucket", false), (400, "InvalidArgument", false),
            (200, nil, false), (301, "PermanentRedirect", false),
        ] as [(Int, String?, Bool)]
    )
    func classification(_ status: Int, _ code: String?, _ retryable: Bool) {
        #expect(S3RetryPolicy.isRetryable(status: status, code: code) == retryable)
    }

    @Test("two 503s then a success: the request succeeds on the third attempt, signed afresh each time")
    func retriedUntilSuccess() async throws {
        let transport = ScriptedTransport([
            .status(503, code: "SlowDown"), .status(503, code: "ServiceUnavailable"),
            .status(200, headers: [("Content-Length", "5")]),
        ])
        let store = try Self.store(transport)
        #expect(try await store.contains(.of(Array("hello".utf8))))
        #expect(transport.sent.count == 3)
        #expect(transport.sent.allSatisfy { $0.method == "HEAD" })
        let authorizations = transport.sent.compactMap { request in
            request.headers.first { $0.name == "authorization" }?.value
        }
        #expect(authorizations.count == 3)
        #expect(
            transport.sent[0].url
                == "http://127.0.0.1:9/bucket/p/sha256/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        )
    }

    @Test("a put of bytes already stored, at the right size and with their SHA-256, is one HEAD and no upload")
    func putOfStoredBytes() async throws {
        let sha256 = SignatureV4Tests.hex([1, 2, 3])
        let stored = ScriptedTransport([
            .status(200, headers: [("Content-Length", "3"), ("X-Amz-Meta-Sha256", sha256)])
        ])
        #expect(try await Self.store(stored).put([1, 2, 3]) == .of([1, 2, 3]))
        #expect(stored.sent.map(\.method) == ["HEAD"])
        // A wrong size, another digest in the metadata, or none: the object is not this artifact, and is replaced.
        for headers in [
            [("Content-Length", "2"), ("X-Amz-Meta-Sha256", sha256)],
            [("Content-Length", "3"), ("X-Amz-Meta-Sha256", String(repeating: "0", count: 64))],
            [("Content-Length", "3")],
        ] {
            let other = ScriptedTransport([.status(200, headers: headers), .status(200)])
            #expect(try await Self.store(other).put([1, 2, 3]) == .of([1, 2, 3]))
            #expect(other.sent.map(\.method) == ["HEAD", "PUT"], "\(headers)")
            #expect(other.sent[1].body == [1, 2, 3])
            #expect(other.sent[1].headers.contains { $0 == ("x-amz-content-sha256", sha256) })
            #expect(other.sent[1].headers.contains { $0 == ("x-amz-meta-sha256", sha256) })
            let authorization = other.sent[1].headers.first { $0.name == "authorization" }?.value ?? ""
            #expect(authorization.contains("x-amz-meta-sha256"), "the metadata is signed: \(authorization)")
        }
    }

    @Test("a refused signature is not retried, and names the variables but not the secret")
    func refusedSignature() async throws {
        let transport = ScriptedTransport([.status(403, code: "SignatureDoesNotMatch")])
        let store = try Self.store(transport)
        let error = await #expect(throws: LedgerError.self) { try await store.get(.of([1])) }
        #expect(error?.code == .storageCredentials)
        #expect(
            error?.reason
                == "S3 refused the request signature for s3://bucket/p (SignatureDoesNotMatch): check "
                + "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
        #expect(transport.sent.count == 1)
    }

    @Test(
        "each S3 refusal names what to check",
        arguments: [
            (403, "InvalidAccessKeyId", LedgerError.Code.storageCredentials, "check AWS_ACCESS_KEY_ID"),
            (403, "AccessDenied", .storageCredentials, "may read and write this bucket"),
            (400, "ExpiredToken", .storageCredentials, "check AWS_SESSION_TOKEN"),
            (403, nil, .storageCredentials, "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
            (404, "NoSuchBucket", .storage, "the bucket \"bucket\" does not exist at http://127.0.0.1:9"),
            (403, "RequestTimeTooSkewed", .storage, "check this machine's clock"),
            (400, "AuthorizationHeaderMalformed", .storage, "check the region"),
            (503, "SlowDown", .storage, "HTTP 503 (SlowDown: m) to PUT s3://bucket/p/sha256/"),
            (400, "InvalidArgument", .storage, "after 1 attempt: check the S3 server"),
        ] as [(Int, String?, LedgerError.Code, String)]
    )
    func refusals(_ status: Int, _ code: String?, _ expected: LedgerError.Code, _ text: String) async throws {
        let transport = ScriptedTransport([.status(404), .status(status, code: code)])
        let store = try Self.store(transport)
        let error = await #expect(throws: LedgerError.self) { try await store.put([1, 2, 3]) }
        #expect(error?.code == expected)
        #expect(error?.reason.contains(text) == true, "\(error?.reason ?? "")")
        #expect(error?.reason.contains(Self.secret) == false)
    }

    @Test("an unreachable server is store.failure naming the endpoint, after every attempt")
    func unreachable() async throws {
        let transport = ScriptedTransport([.connectionRefused])
        let store = try Self.store(transport)
        let error = await #expect(throws: LedgerError.self) { try await store.contains(.of([1])) }
        #expect(error?.code == .storage)
        #expect(error?.reason.contains("cannot reach S3 at http://127.0.0.1:9 for s3://bucket/p") == true)
        #expect(error?.reason.contains("after 4 attempts: connection refused; check") == true, "\(error?.reason ?? "")")
        #expect(transport.sent.count == 4)
    }

    @Test("a real connection refused is store.failure naming the endpoint")
    func connectionRefused() async throws {
        let store = try S3ArtifactStore(
            bucket: "bucket",
            endpoint: "http://127.0.0.1:1",
            credentials: S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secret),
            configuration: S3ArtifactStore.Configuration(retryPolicy: S3RetryPolicy(maximumAttempts: 2))
        )
        let error = await #expect(throws: LedgerError.self) { try await store.put([1]) }
        #expect(error?.code == .storage)
        #expect(error?.reason.contains("cannot reach S3 at http://127.0.0.1:1 for s3://bucket") == true)
        #expect(error?.reason.contains("check the endpoint") == true, "\(error?.reason ?? "")")
        let writer = try store.makeWriter()
        try writer.write([1, 2])
        #expect(throws: LedgerError.self) { try writer.commit() }
    }

    @Test("a multipart upload that fails part way is aborted")
    func multipartAbort() async throws {
        let transport = ScriptedTransport([
            .status(404), .status(200, body: "<InitiateMultipartUploadResult><UploadId>u+1/=</UploadId>"),
            .status(200, headers: [("ETag", "\"e1\"")]), .status(403, code: "AccessDenied"), .status(204),
        ])
        let configuration = S3ArtifactStore.Configuration(multipartThreshold: 5 << 20, partSize: 5 << 20)
        let store = try Self.store(transport, configuration: configuration)
        await #expect(throws: LedgerError.self) { try await store.put([UInt8](repeating: 7, count: 11 << 20)) }
        let calls = transport.sent.map { request in
            let query = request.url.split(separator: "?").dropFirst().first.map(String.init) ?? ""
            return "\(request.method) \(query)"
        }
        #expect(
            calls == [
                "HEAD ", "POST uploads=", "PUT partNumber=1&uploadId=u%2B1%2F%3D",
                "PUT partNumber=2&uploadId=u%2B1%2F%3D", "DELETE uploadId=u%2B1%2F%3D",
            ]
        )
    }

    @Test("a CompleteMultipartUpload that answers 200 with an error fails the put and aborts")
    func completionError() async throws {
        let transport = ScriptedTransport([
            .status(404), .status(200, body: "<UploadId>u</UploadId>"), .status(200, headers: [("ETag", "\"e\"")]),
            .status(200, headers: [("ETag", "\"e\"")]),
            .status(200, body: "<Error><Code>InternalError</Code><Message>try later</Message></Error>"), .status(204),
        ])
        let configuration = S3ArtifactStore.Configuration(multipartThreshold: 5 << 20, partSize: 5 << 20)
        let store = try Self.store(transport, configuration: configuration)
        let error = await #expect(throws: LedgerError.self) {
            try await store.put([UInt8](repeating: 1, count: 10 << 20))
        }
        #expect(error?.reason.contains("could not complete the multipart upload") == true)
        #expect(transport.sent.last?.method == "DELETE")
    }
}
