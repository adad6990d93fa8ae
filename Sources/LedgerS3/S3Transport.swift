import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// One S3 request before signing: what to do to which key of the store's bucket.
package struct S3Request: Sendable {
    /// `GET`, `HEAD`, `PUT`, `POST` or `DELETE`.
    package var method: String
    /// The object key, unencoded, such as `prefix/sha256/ab/ab…`.
    package var key: String
    /// Query parameters, unencoded; a subresource such as `uploads` has the value `""`.
    package var query: [(name: String, value: String)]
    /// The body, or `nil` for none.
    package var body: [UInt8]?
    /// Headers beyond the ones every request has, such as `x-amz-meta-*`; all of them are signed.
    package var headers: [(name: String, value: String)]
    /// The lowercase hex SHA-256 of the body, sent as `x-amz-content-sha256` and signed.
    package let payloadHash: String

    package init(
        _ method: String,
        key: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil
    ) {
        self.method = method
        self.key = key
        self.query = query
        self.headers = headers
        self.body = body
        self.payloadHash = body.map { hex(SHA256.hash(data: $0)) } ?? SignatureV4.emptyPayloadHash
    }
}

/// One HTTP request as sent: signed, with its absolute URL.
package struct S3HTTPRequest: Sendable {
    package var method: String
    package var url: String
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]?
}

/// One HTTP answer, its body read in full.
package struct S3HTTPResponse: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    package init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header named `name`, in any case.
    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The `<Code>` of an S3 XML error body, such as `NoSuchKey`; `nil` for a success or a body without one.
    package var errorCode: String? {
        status >= 300 ? S3XML.value(of: "Code", in: body) : nil
    }
}

/// Carries signed requests to the server: AsyncHTTPClient in use, a scripted fake in tests.
package protocol S3Transport: Sendable {
    /// Sends `request`, giving up after `timeout`, and calls `completion` exactly once, on any thread, with the
    /// answer (whatever its status) or the error that kept one from arriving.
    func send(
        _ request: S3HTTPRequest,
        timeout: Duration,
        completion: @escaping @Sendable (Result<S3HTTPResponse, any Error>) -> Void
    )
}

/// The transport in use: one process-wide `HTTPClient` on NIO's singleton event loops, never shut down.
///
/// Not `HTTPClient.shared`, whose browser-like settings follow redirects (carrying a signed request to another
/// host) and decompress bodies (changing the bytes that are verified). A failed connection fails the request at
/// once, rather than after AsyncHTTPClient's own retries for the whole connect timeout: the store's
/// ``S3RetryPolicy`` decides what is repeated.
struct HTTPClientTransport: S3Transport {
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(120)),
            decompression: .disabled
        )
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    func send(
        _ request: S3HTTPRequest,
        timeout: Duration,
        completion: @escaping @Sendable (Result<S3HTTPResponse, any Error>) -> Void
    ) {
        guard
            let httpRequest = try? HTTPClient.Request(
                url: request.url,
                method: HTTPMethod(rawValue: request.method),
                headers: HTTPHeaders(request.headers.map { ($0.name, $0.value) }),
                body: request.body.map { .bytes($0) }
            )
        else { return completion(.failure(HTTPClientError.invalidURL)) }
        Self.client.execute(request: httpRequest, deadline: .now() + TimeAmount(timeout)).whenComplete { result in
            completion(
                result.map { response in
                    S3HTTPResponse(
                        status: Int(response.status.code),
                        headers: response.headers.map { (name: $0.name, value: $0.value) },
                        body: response.body.map { Array($0.readableBytesView) } ?? []
                    )
                }
            )
        }
    }
}

/// The little XML that S3 speaks: one element's text out of an answer, and escaping for a request body.
enum S3XML {
    /// The text of the first `<tag>…</tag>` in `body`, unescaped; `nil` if there is none.
    static func value(of tag: String, in body: [UInt8]) -> String? {
        let text = String(decoding: body, as: UTF8.self)
        guard let open = text.range(of: "<\(tag)>"),
            let close = text.range(of: "</\(tag)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        var value = String(text[open.upperBound..<close.lowerBound])
        for (entity, character) in [("&quot;", "\""), ("&apos;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")] {
            value = value.replacingOccurrences(of: entity, with: character)
        }
        return value
    }

    /// `text` with `&`, `<` and `>` escaped, for an element's content.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
