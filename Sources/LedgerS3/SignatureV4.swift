import Crypto
package import Foundation

/// AWS Signature Version 4 for S3 requests signed in the `Authorization` header, with the payload's SHA-256
/// known in advance (a single chunk).
///
/// A pure function of its inputs, pinned by AWS's published examples: no clock, no I/O. The caller MUST send
/// exactly the headers it signed (at least `host`, `x-amz-date` and `x-amz-content-sha256`) and the path and
/// query as ``canonicalURI(_:)`` and ``canonicalQuery(_:)`` encode them.
package enum SignatureV4 {
    /// The hex SHA-256 of no bytes: the payload hash of a GET, HEAD or DELETE.
    package static let emptyPayloadHash = hex(SHA256.hash(data: [UInt8]()))

    /// The `Authorization` header value for one request.
    ///
    /// - Parameters:
    ///   - path: the object path, unencoded, starting with `/`; each segment is URI-encoded, `/` is kept.
    ///   - query: unencoded names and values; a subresource such as `uploads` has the value `""`.
    ///   - headers: every header to sign, in any case and order.
    ///   - payloadHash: the lowercase hex SHA-256 of the body, also sent as `x-amz-content-sha256`.
    ///   - date: the time also sent as `x-amz-date`.
    package static func authorization(
        method: String,
        path: String,
        query: [(name: String, value: String)],
        headers: [(name: String, value: String)],
        payloadHash: String,
        date: Date,
        credentials: S3Credentials,
        region: String,
        service: String = "s3"
    ) -> String {
        let timestamp = timestamp(date)
        let day = String(timestamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let canonical = canonicalRequest(
            method: method,
            path: path,
            query: query,
            headers: headers,
            payloadHash: payloadHash
        )
        let stringToSign = [
            "AWS4-HMAC-SHA256", timestamp, scope, hex(SHA256.hash(data: Array(canonical.request.utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Array(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope),"
            + "SignedHeaders=\(canonical.signedHeaders),Signature=\(signature)"
    }

    /// The canonical request AWS hashes, and the `;`-joined lowercase names of the signed headers.
    package static func canonicalRequest(
        method: String,
        path: String,
        query: [(name: String, value: String)],
        headers: [(name: String, value: String)],
        payloadHash: String
    ) -> (request: String, signedHeaders: String) {
        let sortedHeaders = headers.map { header in
            let value = header.value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            return (name: header.name.lowercased(), value: value)
        }.sorted { $0.name < $1.name }
        let signedHeaders = sortedHeaders.map(\.name).joined(separator: ";")
        let request = [
            method, canonicalURI(path), canonicalQuery(query),
            sortedHeaders.map { "\($0.name):\($0.value)\n" }.joined(), signedHeaders, payloadHash,
        ].joined(separator: "\n")
        return (request, signedHeaders)
    }

    /// `path` with each segment URI-encoded and `/` kept: the canonical URI, and the path sent on the wire.
    package static func canonicalURI(_ path: String) -> String {
        path.isEmpty ? "/" : uriEncode(path, encodingSlash: false)
    }

    /// The query sorted by encoded name, then value, as `name=value` joined by `&`: also the query sent.
    package static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (uriEncode($0.name), uriEncode($0.value)) }
        let sorted = encoded.sorted { $0.name == $1.name ? $0.value < $1.value : $0.name < $1.name }
        return sorted.map { $0.name + "=" + $0.value }.joined(separator: "&")
    }

    /// SigV4's URI encoding: every byte of the UTF-8 except `A-Z a-z 0-9 - . _ ~` becomes `%XX` (uppercase),
    /// and so does `/` unless `encodingSlash` is false.
    package static func uriEncode(_ text: String, encodingSlash: Bool = true) -> String {
        text.addingPercentEncoding(withAllowedCharacters: encodingSlash ? unreserved : unreserved.union(["/"])) ?? text
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )

    /// `date` in UTC as `yyyyMMdd'T'HHmmss'Z'`, the form of `x-amz-date`.
    package static func timestamp(_ date: Date) -> String {
        date.formatted(timestampStyle)
    }

    private static let timestampStyle = Date.ISO8601FormatStyle(
        dateSeparator: .omitted,
        dateTimeSeparator: .standard,
        timeSeparator: .omitted,
        timeZone: TimeZone(secondsFromGMT: 0) ?? .current
    )
}

/// `bytes` as lowercase hex, for digests and MACs.
func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
