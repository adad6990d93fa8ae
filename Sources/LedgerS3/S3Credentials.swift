public import LedgerCore

extension LedgerError.Code {
    /// The object store refused the credentials: a wrong or unknown key, an expired session token, or a key
    /// that may not use the bucket. Retrying does not help; fix the credentials.
    public static let storageCredentials = Self(rawValue: "store.credentials")
}

/// The AWS access key an ``S3ArtifactStore`` signs its requests with.
///
/// The secret access key and the session token MUST NOT appear in any message, log or description: `description`,
/// `debugDescription` and the mirror show the access key ID only, which AWS treats as an identifier, not a secret.
public struct S3Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The access key ID, such as `AKIAIOSFODNN7EXAMPLE`.
    public var accessKeyID: String
    /// The secret access key. Used only to derive signing keys.
    public var secretAccessKey: String
    /// The session token of temporary credentials, sent as `x-amz-security-token`.
    public var sessionToken: String?

    /// Credentials from their parts. Empty strings are kept as given; the store's server will refuse them.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The standard AWS variables: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, for temporary credentials,
    /// `AWS_SESSION_TOKEN`.
    ///
    /// Throws `store.credentials` naming the variables that are unset or empty. `store` names the store the
    /// credentials are for, in that message.
    public static func environment(_ environment: [String: String], for store: String) throws(LedgerError) -> Self {
        let names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        let missing = names.filter { environment[$0, default: ""].isEmpty }
        guard missing.isEmpty, let accessKeyID = environment[names[0]], let secret = environment[names[1]] else {
            throw LedgerError(
                .storageCredentials,
                "no S3 credentials for \(store): set \(missing.joined(separator: " and ")) "
                    + "(and AWS_SESSION_TOKEN for temporary credentials)"
            )
        }
        let token = environment["AWS_SESSION_TOKEN", default: ""]
        return Self(accessKeyID: accessKeyID, secretAccessKey: secret, sessionToken: token.isEmpty ? nil : token)
    }

    /// The access key ID only: `S3Credentials(accessKeyID: …, secret redacted)`.
    public var description: String {
        "S3Credentials(accessKeyID: \(accessKeyID), secret redacted\(sessionToken == nil ? "" : ", session token"))"
    }

    /// Same as `description`: never the secret.
    public var debugDescription: String { description }

    /// The access key ID only, so that `dump` and debuggers show no secret.
    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID], displayStyle: .struct)
    }
}
