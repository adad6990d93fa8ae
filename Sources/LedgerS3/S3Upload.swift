import LedgerCore

/// The requests that store one artifact, made one at a time by ``S3ArtifactStore``: a HEAD, then nothing if the
/// object is there with the right size and the artifact's SHA-256 in its `x-amz-meta-sha256`, else one PUT, or a
/// multipart upload for an artifact over the threshold. Both store the SHA-256 in that metadata.
///
/// Shared by `put` (which awaits each request) and a writer's `commit()` (which blocks on each), so that both
/// store the same way. Nothing is visible under the key until the PUT or CompleteMultipartUpload succeeds.
struct S3Upload {
    enum Stage {
        case checking, putting, creating
        case uploading(part: Int, uploadID: String)
        case completing(uploadID: String)
        case finished
    }

    let key: String
    /// The artifact's SHA-256 in lowercase hex, kept as the object's `x-amz-meta-sha256`.
    let sha256: String
    /// `s3://bucket/key`, for messages.
    let object: String
    let size: Int
    /// Whether the artifact goes up in parts of `partSize` rather than in one PUT.
    let multipart: Bool
    let partSize: Int
    /// The `count` bytes of the artifact from `offset`.
    let read: (_ offset: Int, _ count: Int) throws(LedgerError) -> [UInt8]
    private(set) var stage = Stage.checking
    private(set) var etags: [String] = []
    /// The multipart upload started and not yet completed, which a failure must abort.
    private(set) var pendingUploadID: String?

    /// The next request to make, or `nil` once the artifact is stored.
    mutating func nextRequest() throws(LedgerError) -> S3Request? {
        switch stage {
        case .checking:
            return S3Request("HEAD", key: key)
        case .putting:
            return S3Request("PUT", key: key, headers: [Self.metadata(sha256)], body: try read(0, size))
        case .creating:
            return S3Request("POST", key: key, query: [("uploads", "")], headers: [Self.metadata(sha256)], body: [])
        case .uploading(let part, let uploadID):
            let offset = (part - 1) * partSize
            let query = [(name: "partNumber", value: String(part)), (name: "uploadId", value: uploadID)]
            return S3Request("PUT", key: key, query: query, body: try read(offset, min(partSize, size - offset)))
        case .completing(let uploadID):
            let parts = etags.enumerated().map { index, etag in
                "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>"
            }
            let body =
                "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + parts.joined() + "</CompleteMultipartUpload>"
            return S3Request("POST", key: key, query: [("uploadId", uploadID)], body: Array(body.utf8))
        case .finished:
            return nil
        }
    }

    /// Takes the successful (or, for the HEAD, 404) answer to the last request.
    mutating func accept(_ response: S3HTTPResponse) throws(LedgerError) {
        switch stage {
        case .checking:
            // Something else under the key (a replacement, a leftover, an object without the metadata) is
            // overwritten: the key is the digest, so the right bytes can only repair it.
            let present =
                response.status == 200 && response.header("content-length") == String(size)
                && response.header(Self.metadataName) == sha256
            stage = present ? .finished : multipart ? .creating : .putting
        case .putting:
            stage = .finished
        case .creating:
            guard let uploadID = S3XML.value(of: "UploadId", in: response.body), !uploadID.isEmpty else {
                throw malformed("started a multipart upload of \(object) without an UploadId")
            }
            pendingUploadID = uploadID
            stage = .uploading(part: 1, uploadID: uploadID)
        case .uploading(let part, let uploadID):
            guard let etag = response.header("etag") else {
                throw malformed("took part \(part) of \(object) without an ETag")
            }
            etags.append(etag)
            stage =
                part * partSize < size
                ? .uploading(part: part + 1, uploadID: uploadID) : .completing(uploadID: uploadID)
        case .completing:
            // S3 may answer 200 and still fail, with an <Error> body.
            if let code = S3XML.value(of: "Code", in: response.body) {
                let message = S3XML.value(of: "Message", in: response.body).map { ": \($0.prefix(200))" } ?? ""
                throw LedgerError(
                    .storage,
                    "S3 could not complete the multipart upload of \(object) (\(code)\(message)): try again, and "
                        + "check the S3 server's health"
                )
            }
            pendingUploadID = nil
            stage = .finished
        case .finished:
            break
        }
    }

    /// The user metadata that holds an object's SHA-256.
    static let metadataName = "x-amz-meta-sha256"

    private static func metadata(_ sha256: String) -> (name: String, value: String) {
        (name: metadataName, value: sha256)
    }

    private func malformed(_ what: String) -> LedgerError {
        LedgerError(.storage, "S3 \(what): check that the endpoint is an S3-compatible server")
    }

    /// The request that discards the parts of the multipart upload that a failure left unfinished, if any.
    var abortRequest: S3Request? {
        pendingUploadID.map { S3Request("DELETE", key: key, query: [("uploadId", $0)]) }
    }
}
