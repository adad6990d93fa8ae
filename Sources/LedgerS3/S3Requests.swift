import AsyncHTTPClient
import Foundation
package import LedgerCore
import NIOCore

/// Sending, retrying, signing, and mapping S3's answers to errors.
extension S3ArtifactStore {
    /// Sends `request`, retrying as the policy says, and returns the answer if it is a success, or a 404 to a
    /// GET or HEAD of an object; throws the matching ``LedgerError`` for anything else.
    package func send(_ request: S3Request) async throws(LedgerError) -> S3HTTPResponse {
        try checked((try? await attempts(of: request).get()) ?? .dropped, for: request)
    }

    /// ``send(_:)``, blocking this thread on NIO's event loops rather than awaiting.
    func sendBlocking(_ request: S3Request) throws(LedgerError) -> S3HTTPResponse {
        try checked((try? attempts(of: request).wait()) ?? .dropped, for: request)
    }

    /// The last attempt's result, and how many attempts were made.
    struct Outcome: Sendable {
        var result: Result<S3HTTPResponse, any Error>
        var attempts: Int

        /// What a request whose event loop shut down before it ended gives: it never happens in use.
        static let dropped = Outcome(result: .failure(ChannelError.ioOnClosedChannel), attempts: 0)
    }

    /// Attempts `request` until it succeeds, fails for good, or the retry policy gives up.
    private func attempts(of request: S3Request) -> EventLoopFuture<Outcome> {
        let loop = HTTPClientTransport.client.eventLoopGroup.next()
        let promise = loop.makePromise(of: Outcome.self)
        attempt(request, number: 1, on: loop, promise: promise)
        return promise.futureResult
    }

    private func attempt(_ request: S3Request, number: Int, on loop: any EventLoop, promise: EventLoopPromise<Outcome>)
    {
        configuration.transport.send(signed(request, at: Date()), timeout: configuration.requestTimeout) { result in
            let retryable =
                switch result {
                case .success(let response):
                    S3RetryPolicy.isRetryable(status: response.status, code: response.errorCode)
                case .failure: true
                }
            let jitter = Double.random(in: 0..<1)
            if retryable, let delay = self.configuration.retryPolicy.delay(afterAttempt: number, jitter: jitter) {
                loop.scheduleTask(in: TimeAmount(delay)) {
                    self.attempt(request, number: number + 1, on: loop, promise: promise)
                }
            } else {
                promise.succeed(Outcome(result: result, attempts: number))
            }
        }
    }

    /// `request` ready to send at `date`: its URL and headers, with the SigV4 `Authorization`.
    private func signed(_ request: S3Request, at date: Date) -> S3HTTPRequest {
        let path = "/\(bucket)/\(request.key)"
        var headers = [
            (name: "host", value: authority), (name: "x-amz-content-sha256", value: request.payloadHash),
            (name: "x-amz-date", value: SignatureV4.timestamp(date)),
        ]
        if let token = credentials.sessionToken { headers.append((name: "x-amz-security-token", value: token)) }
        headers += request.headers
        let authorization = SignatureV4.authorization(
            method: request.method,
            path: path,
            query: request.query,
            headers: headers,
            payloadHash: request.payloadHash,
            date: date,
            credentials: credentials,
            region: region
        )
        headers.append((name: "authorization", value: authorization))
        let query = SignatureV4.canonicalQuery(request.query)
        let url = endpoint + SignatureV4.canonicalURI(path) + (query.isEmpty ? "" : "?" + query)
        return S3HTTPRequest(method: request.method, url: url, headers: headers, body: request.body)
    }

    /// The answer, if it is one the caller handles; otherwise the error it means, naming what to check.
    private func checked(_ outcome: Outcome, for request: S3Request) throws(LedgerError) -> S3HTTPResponse {
        let tries = outcome.attempts == 1 ? "1 attempt" : "\(outcome.attempts) attempts"
        let response: S3HTTPResponse
        switch outcome.result {
        case .success(let answer): response = answer
        case .failure(let error):
            throw LedgerError(
                .storage,
                "cannot reach S3 at \(endpoint) for \(name) after \(tries): \(String(describing: error).prefix(200)); "
                    + "check the endpoint, and that the server is running and reachable"
            )
        }
        let code = response.errorCode ?? (response.status == 403 ? "HTTP 403" : nil)
        if (200..<300).contains(response.status)
            || (response.status == 404 && ["GET", "HEAD"].contains(request.method) && code != "NoSuchBucket")
        {
            return response
        }
        if code == "NoSuchBucket" {
            throw LedgerError(
                .storage,
                "the bucket \"\(bucket)\" does not exist at \(endpoint): create it, or check the bucket and the "
                    + "endpoint in the s3:// URL"
            )
        }
        if let code, let refusal = Self.refusals.first(where: { $0.codes.contains(code) }) {
            throw LedgerError(refusal.error, "S3 refused \(refusal.what) for \(name) (\(code)): \(refusal.check)")
        }
        let message = S3XML.value(of: "Message", in: response.body).map { ": \($0.prefix(200))" } ?? ""
        throw LedgerError(
            .storage,
            "S3 answered HTTP \(response.status)\(code.map { " (\($0)\(message))" } ?? "") to \(request.method) "
                + "s3://\(bucket)/\(request.key) after \(tries): check the S3 server and its logs"
        )
    }

    /// The S3 error codes that a retry cannot fix, what each refused, and what to check.
    private static let refusals: [(codes: Set<String>, error: LedgerError.Code, what: String, check: String)] = [
        (
            ["SignatureDoesNotMatch", "HTTP 403"], .storageCredentials, "the request signature",
            "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ),
        (["InvalidAccessKeyId"], .storageCredentials, "the access key ID", "check AWS_ACCESS_KEY_ID"),
        (
            ["ExpiredToken", "InvalidToken", "TokenRefreshRequired"], .storageCredentials, "the session token",
            "check AWS_SESSION_TOKEN"
        ),
        (
            ["AccessDenied", "AllAccessDisabled"], .storageCredentials, "access",
            "check that the key in AWS_ACCESS_KEY_ID may read and write this bucket, and AWS_SECRET_ACCESS_KEY"
        ),
        (["RequestTimeTooSkewed"], .storage, "the request time", "check this machine's clock"),
        (
            ["PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"], .storage,
            "the request", "check the region and the endpoint in the s3:// URL"
        ),
    ]
}
