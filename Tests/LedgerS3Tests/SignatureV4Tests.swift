import Foundation
import LedgerArtifacts
import LedgerCore
import LedgerS3
import Testing

/// AWS's published examples for S3 requests signed in the Authorization header, payload in a single chunk:
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
/// (the GET Object, PUT Object, GET Bucket Lifecycle and Get Bucket (List Objects) examples).
@Suite("SigV4 signing")
struct SignatureV4Tests {
    static let credentials = S3Credentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    /// 20130524T000000Z.
    static let date = Date(timeIntervalSince1970: 1_369_353_600)
    static let host = "examplebucket.s3.amazonaws.com"
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// SHA-256 of `Welcome to Amazon S3.`, the PUT example's body.
    static let putHash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var method: String
        var path: String
        var query: [(name: String, value: String)]
        var headers: [(name: String, value: String)]
        var payloadHash: String
        var signedHeaders: String
        var signature: String
        var testDescription: String { name }
    }

    static let vectors = [
        Vector(
            name: "GET Object",
            method: "GET",
            path: "/test.txt",
            query: [],
            headers: [
                ("Host", host), ("Range", "bytes=0-9"), ("x-amz-content-sha256", emptyHash),
                ("x-amz-date", "20130524T000000Z"),
            ],
            payloadHash: emptyHash,
            signedHeaders: "host;range;x-amz-content-sha256;x-amz-date",
            signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        ),
        Vector(
            name: "PUT Object, with a key that needs encoding",
            method: "PUT",
            path: "/test$file.text",
            query: [],
            headers: [
                ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("Host", host), ("x-amz-date", "20130524T000000Z"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", putHash),
            ],
            payloadHash: putHash,
            signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
            signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        ),
        Vector(
            name: "GET Bucket Lifecycle, a subresource without a value",
            method: "GET",
            path: "/",
            query: [("lifecycle", "")],
            headers: [("Host", host), ("x-amz-content-sha256", emptyHash), ("x-amz-date", "20130524T000000Z")],
            payloadHash: emptyHash,
            signedHeaders: "host;x-amz-content-sha256;x-amz-date",
            signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        ),
        Vector(
            name: "List Objects, query out of order",
            method: "GET",
            path: "/",
            query: [("prefix", "J"), ("max-keys", "2")],
            headers: [("Host", host), ("x-amz-content-sha256", emptyHash), ("x-amz-date", "20130524T000000Z")],
            payloadHash: emptyHash,
            signedHeaders: "host;x-amz-content-sha256;x-amz-date",
            signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        ),
    ]

    /// The lowercase hex SHA-256 of `bytes`.
    static func hex(_ bytes: [UInt8]) -> String {
        ArtifactDigest.of(bytes).sha256.hex
    }

    static func authorization(_ vector: Vector, secret: String = credentials.secretAccessKey) -> String {
        SignatureV4.authorization(
            method: vector.method,
            path: vector.path,
            query: vector.query,
            headers: vector.headers,
            payloadHash: vector.payloadHash,
            date: date,
            credentials: S3Credentials(accessKeyID: credentials.accessKeyID, secretAccessKey: secret),
            region: "us-east-1"
        )
    }

    @Test("AWS's published examples give AWS's signatures", arguments: vectors)
    func knownAnswer(_ vector: Vector) {
        #expect(
            Self.authorization(vector)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=\(vector.signedHeaders),Signature=\(vector.signature)"
        )
    }

    @Test("the PUT example's canonical request is AWS's, byte for byte")
    func canonicalRequest() throws {
        let vector = try #require(Self.vectors.first { $0.method == "PUT" })
        let canonical = SignatureV4.canonicalRequest(
            method: vector.method,
            path: vector.path,
            query: vector.query,
            headers: vector.headers,
            payloadHash: vector.payloadHash
        )
        #expect(
            canonical.request == """
                PUT
                /test%24file.text

                date:Fri, 24 May 2013 00:00:00 GMT
                host:examplebucket.s3.amazonaws.com
                x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
                x-amz-date:20130524T000000Z
                x-amz-storage-class:REDUCED_REDUNDANCY

                date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
                44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
                """
        )
    }

    @Test("any change to what is signed changes the signature")
    func brokenTwins() throws {
        let vector = try #require(Self.vectors.first { $0.method == "PUT" })
        let original = Self.authorization(vector)
        var twins: [Vector] = []
        for change in 0..<5 {
            var twin = vector
            switch change {
            case 0: twin.method = "POST"
            case 1: twin.path = "/test$file.texT"
            case 2: twin.query = [("partNumber", "1")]
            case 3: twin.payloadHash = Self.emptyHash
            default: twin.headers[0].value = "Fri, 24 May 2013 00:00:01 GMT"
            }
            twins.append(twin)
        }
        for twin in twins { #expect(Self.authorization(twin) != original) }
        #expect(Self.authorization(vector, secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz") != original)
    }

    @Test(
        "keys are URI-encoded per segment, '/' kept in paths and encoded in query values",
        arguments: [
            ("a b", "a%20b"), ("a+b", "a%2Bb"), ("100%", "100%25"), ("ключ", "%D0%BA%D0%BB%D1%8E%D1%87"),
            ("team/models/x", "team/models/x"), ("A-z_0.9~", "A-z_0.9~"),
            ("=&?#*'()!$", "%3D%26%3F%23%2A%27%28%29%21%24"),
        ] as [(String, String)]
    )
    func uriEncoding(_ text: String, _ encoded: String) {
        #expect(SignatureV4.canonicalURI(text) == encoded)
        #expect(SignatureV4.uriEncode(text) == encoded.replacingOccurrences(of: "/", with: "%2F"))
    }

    @Test("query parameters sort by name, then value, and encode both")
    func canonicalQuery() {
        #expect(
            SignatureV4.canonicalQuery([("uploadId", "a+b/c="), ("partNumber", "2"), ("b", "2"), ("b", "1")])
                == "b=1&b=2&partNumber=2&uploadId=a%2Bb%2Fc%3D"
        )
        #expect(SignatureV4.canonicalQuery([("uploads", "")]) == "uploads=")
    }

    @Test(
        "x-amz-date is UTC in basic ISO 8601",
        arguments: [
            (1_369_353_600.0, "20130524T000000Z"), (0, "19700101T000000Z"), (951_782_400 - 1, "20000228T235959Z"),
            (951_782_400 + 86_400, "20000301T000000Z"), (4_107_542_399.9, "21000228T235959Z"),
            (4_107_542_400, "21000301T000000Z"),
            (-1, "19691231T235959Z"),
        ] as [(Double, String)]
    )
    func timestamps(_ seconds: Double, _ text: String) {
        #expect(SignatureV4.timestamp(Date(timeIntervalSince1970: seconds)) == text)
    }
}
