import AsyncHTTPClient
public import Foundation
public import LedgerArtifacts
public import LedgerCore
import NIOCore

/// An ``ArtifactStore`` in an S3-compatible object store: the workspace's `artifacts = "s3://…"`.
///
/// Layout: the same as ``FileArtifactStore``'s, under a key prefix: each artifact is the object
/// `<prefix>/sha256/<first two hex digits>/<64 hex digits>` of the bucket, holding exactly its bytes. Requests
/// use path-style addressing (`<endpoint>/<bucket>/<key>`) and AWS Signature Version 4, with the payload's
/// SHA-256 signed, so the server refuses a body changed in transit.
///
/// Durability is the server's: an artifact is stored once S3 has answered the PUT or the
/// CompleteMultipartUpload, either of which makes the whole object visible at once, so an artifact is either
/// absent or complete. Every object carries its SHA-256 as `x-amz-meta-sha256`. `put` first asks (HEAD) whether
/// the object is there with the right size and that metadata, and then does nothing; anything else under the key
/// is overwritten, so a `put` of the right bytes repairs an object truncated, extended or replaced behind the
/// store's back (unless the replacement forged the metadata too, which `get` still reports). Artifacts over ``Configuration/multipartThreshold`` go up in
/// parts of ``Configuration/partSize``, read one at a time, and a failed multipart upload is aborted.
///
/// Reads verify the SHA-256 every time. Failed requests are retried as ``S3RetryPolicy`` says. Errors name
/// what to check: `store.credentials` for a refused signature, key or token, `store.failure` for a missing
/// bucket, an unreachable endpoint or a server error. The secret key never appears in a message or description.
///
/// `put`, `get` and `contains` await the network without blocking a thread; a writer's `commit()` blocks its
/// thread until the upload is done (it waits on NIO's event loops, which do the work).
public final class S3ArtifactStore: ArtifactStore, CustomStringConvertible {
    /// How an ``S3ArtifactStore`` uploads and retries.
    public struct Configuration: Sendable {
        /// Artifacts larger than this many bytes use a multipart upload. Default 8 MiB.
        public var multipartThreshold: Int
        /// The size of each part but the last: at least 5 MiB, as S3 requires; default 8 MiB. Grown as needed to
        /// keep within S3's 10,000 parts.
        public var partSize: Int
        /// When a failed request is repeated.
        public var retryPolicy: S3RetryPolicy
        /// The longest one attempt of one request may take.
        public var requestTimeout: Duration
        /// What carries the requests: AsyncHTTPClient, or a fake in tests.
        package var transport: any S3Transport = HTTPClientTransport()

        /// The defaults, or other values; a `partSize` below 5 MiB counts as 5 MiB.
        public init(
            multipartThreshold: Int = 8 << 20,
            partSize: Int = 8 << 20,
            retryPolicy: S3RetryPolicy = .standard,
            requestTimeout: Duration = .seconds(300)
        ) {
            self.multipartThreshold = max(0, multipartThreshold)
            self.partSize = max(5 << 20, partSize)
            self.retryPolicy = retryPolicy
            self.requestTimeout = requestTimeout
        }
    }

    /// The bucket name.
    public let bucket: String
    /// The key prefix, without leading or trailing `/`; empty for the bucket's root.
    public let prefix: String
    /// The server, as `http[s]://host[:port]`.
    public let endpoint: String
    /// The region requests are signed for, such as `us-east-1`.
    public let region: String
    /// How this store uploads and retries.
    public let configuration: Configuration
    /// `host[:port]` of the endpoint: the signed `host` header.
    let authority: String
    let credentials: S3Credentials

    /// A store in `bucket` under `prefix`, at `endpoint` (default `https://s3.<region>.amazonaws.com`).
    ///
    /// Throws `argument.invalid` for a bucket, prefix, endpoint or region that cannot be used. Makes no request:
    /// a wrong credential or a missing bucket shows on first use.
    public init(
        bucket: String,
        prefix: String = "",
        endpoint: String? = nil,
        region: String = "us-east-1",
        credentials: S3Credentials,
        configuration: Configuration = Configuration()
    ) throws(LedgerError) {
        (self.prefix, self.endpoint, self.authority) = try Self.checked(bucket, prefix, endpoint, region)
        self.bucket = bucket
        self.region = region
        self.credentials = credentials
        self.configuration = configuration
    }

    /// Opens the store that a workspace setting names: `s3://bucket[/prefix][?endpoint=URL][&region=NAME]`, with
    /// the credentials from `environment`'s `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optional
    /// `AWS_SESSION_TOKEN`.
    ///
    /// The endpoint defaults to `https://s3.<region>.amazonaws.com` and the region to `us-east-1`; parameter
    /// values are percent-decoded, the prefix is used literally. Throws `argument.invalid` for a malformed URL
    /// or an unknown parameter, and `store.credentials` naming the variables that are missing.
    public static func url(
        _ text: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        configuration: Configuration = Configuration()
    ) throws(LedgerError) -> S3ArtifactStore {
        let location = text.dropFirst("s3://".count).prefix { $0 != "?" }
        guard text.hasPrefix("s3://"), !location.contains("@") else {
            throw LedgerError(
                .invalidArgument,
                "an S3 artifact store is an s3:// URL without credentials, such as "
                    + "s3://bucket/prefix?endpoint=http://host:port&region=us-east-1; set AWS_ACCESS_KEY_ID and "
                    + "AWS_SECRET_ACCESS_KEY for the credentials"
            )
        }
        let bucket = String(location.prefix { $0 != "/" })
        var (endpoint, region) = (String?.none, "us-east-1")
        for parameter in text.dropFirst("s3://".count + location.count + 1).split(separator: "&") {
            let name = parameter.prefix { $0 != "=" }
            switch (name, parameter.dropFirst(name.count + 1).removingPercentEncoding) {
            case ("endpoint", let value?): endpoint = value
            case ("region", let value?): region = value
            default:
                throw LedgerError(
                    .invalidArgument,
                    "s3://\(location) has the unknown or badly encoded parameter \"\(name)\": use endpoint and region"
                )
            }
        }
        let prefix = try checked(bucket, String(location.dropFirst(bucket.count)), endpoint, region).prefix
        return try S3ArtifactStore(
            bucket: bucket,
            prefix: prefix,
            endpoint: endpoint,
            region: region,
            credentials: .environment(environment, for: "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)")),
            configuration: configuration
        )
    }

    /// `s3://bucket/prefix at <endpoint> (<region>)`. Never the credentials.
    public var description: String { "\(name) at \(endpoint) (\(region))" }

    /// `s3://bucket/prefix`, for messages.
    var name: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }

    /// The key of the object that holds, or would hold, the artifact with `digest`.
    public func key(for digest: ArtifactDigest) -> String {
        let hex = digest.sha256.hex
        return (prefix.isEmpty ? "" : prefix + "/") + "sha256/\(hex.prefix(2))/\(hex)"
    }

    public func put(_ bytes: [UInt8]) async throws(LedgerError) -> ArtifactDigest {
        let digest = ArtifactDigest.of(bytes)
        var upload = upload(of: digest, size: bytes.count) { offset, count in
            offset == 0 && count == bytes.count ? bytes : Array(bytes[offset..<(offset + count)])
        }
        do {
            while let request = try upload.nextRequest() { try upload.accept(try await send(request)) }
        } catch {
            if let abort = upload.abortRequest { _ = try? await send(abort) }
            throw error
        }
        return digest
    }

    public func makeWriter() throws(LedgerError) -> any ArtifactWriter {
        try S3ArtifactWriter(store: self)
    }

    public func get(_ digest: ArtifactDigest) async throws(LedgerError) -> [UInt8] {
        let key = key(for: digest)
        let response = try await send(S3Request("GET", key: key))
        guard response.status != 404 else {
            throw LedgerError(.artifactMissing, "artifact \(digest) is not in the store (s3://\(bucket)/\(key))")
        }
        guard ArtifactDigest.of(response.body) == digest else {
            throw LedgerError(
                .artifactCorrupt,
                "artifact \(digest) is corrupt: the \(response.body.count) bytes of s3://\(bucket)/\(key) do not "
                    + "hash to its digest; it will not be used"
            )
        }
        return response.body
    }

    public func contains(_ digest: ArtifactDigest) async throws(LedgerError) -> Bool {
        try await send(S3Request("HEAD", key: key(for: digest))).status != 404
    }

    /// The upload of the `size` bytes that `read` gives, as the artifact `digest`.
    func upload(
        of digest: ArtifactDigest,
        size: Int,
        read: @escaping (_ offset: Int, _ count: Int) throws(LedgerError) -> [UInt8]
    ) -> S3Upload {
        let key = key(for: digest)
        return S3Upload(
            key: key,
            sha256: digest.sha256.hex,
            object: "s3://\(bucket)/\(key)",
            size: size,
            multipart: size > configuration.multipartThreshold,
            // S3 allows at most 10,000 parts: larger artifacts get larger parts.
            partSize: max(configuration.partSize, (size + 9_999) / 10_000),
            read: read
        )
    }

    /// Makes `upload`'s requests one after the other, blocking this thread, and aborts it on failure.
    ///
    /// MUST NOT be called on an event loop: it waits for futures that NIO's event loops complete.
    func runBlocking(_ upload: inout S3Upload) throws(LedgerError) {
        do {
            while let request = try upload.nextRequest() { try upload.accept(try sendBlocking(request)) }
        } catch {
            if let abort = upload.abortRequest { _ = try? sendBlocking(abort) }
            throw error
        }
    }

    /// Checks a store's location; returns the prefix trimmed of `/`, the endpoint and its `host[:port]`.
    private static func checked(
        _ bucket: String,
        _ prefix: String,
        _ endpoint: String?,
        _ region: String
    ) throws(LedgerError) -> (prefix: String, endpoint: String, authority: String) {
        guard !bucket.isEmpty, bucket.utf8.count <= 255, bucket.unicodeScalars.allSatisfy(bucketCharacters.contains)
        else {
            throw LedgerError(
                .invalidArgument,
                (bucket.isEmpty ? "the S3 artifact store names no bucket" : "\"\(bucket)\" is not an S3 bucket name")
                    + ": use s3://bucket/prefix, the bucket made of letters, digits, '.', '-' and '_'"
            )
        }
        var trimmed = Substring(prefix)
        while trimmed.hasPrefix("/") { trimmed.removeFirst() }
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        let segments = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard trimmed.isEmpty || segments.allSatisfy({ !["", ".", ".."].contains($0) }),
            !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw LedgerError(
                .invalidArgument,
                "the key prefix of s3://\(bucket)/\(trimmed) has an empty, '.' or '..' segment or a control "
                    + "character: use a prefix such as team/models"
            )
        }
        guard !region.isEmpty, region.unicodeScalars.allSatisfy(regionCharacters.contains) else {
            throw LedgerError(.invalidArgument, "\"\(region)\" is not an S3 region name such as us-east-1")
        }
        let endpoint = endpoint ?? "https://s3.\(region).amazonaws.com"
        guard let parts = URLComponents(string: endpoint), ["http", "https"].contains(parts.scheme),
            parts.host?.isEmpty == false, parts.user == nil, parts.password == nil, ["", "/"].contains(parts.path),
            parts.query == nil, parts.fragment == nil, let schemeEnd = endpoint.range(of: "://")
        else {
            throw LedgerError(
                .invalidArgument,
                "the S3 endpoint \(endpoint.contains("@") ? "given" : "\"\(endpoint)\"") for s3://\(bucket) is not an "
                    + "http:// or https:// URL with a host and no path, user or query: use endpoint=http://host:port"
            )
        }
        let authority = String(endpoint[schemeEnd.upperBound...].prefix { $0 != "/" })
        return (String(trimmed), "\(endpoint[..<schemeEnd.upperBound])\(authority)", authority)
    }

    private static let bucketCharacters = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"
    )
    private static let regionCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789-")

    static let writerFinished = LedgerError(
        .invalidArgument,
        "this artifact writer is finished: it was committed, abandoned or failed"
    )
}
