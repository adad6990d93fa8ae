/// The error every ledger module throws for a refused operation.
///
/// `code` is stable and meant for scripts and tests; `reason` is one human sentence. Neither ever
/// contains key material or audit data, so the error is always safe to print and log.
public struct LedgerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, dotted error code such as `event.schema` or `store.conflict`.
    ///
    /// A struct rather than an enum so that adding a code breaks no caller's exhaustive switch.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
    }

    public let code: Code
    public let reason: String
    /// Where the error was raised, as `Module/File.swift:line`, for bug reports.
    public let location: String

    public init(_ code: Code, _ reason: String, fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(fileID):\(line)"
    }

    public var description: String { reason }

    public static func == (lhs: LedgerError, rhs: LedgerError) -> Bool {
        lhs.code == rhs.code && lhs.reason == rhs.reason
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(reason)
    }
}

extension LedgerError.Code {
    /// Bytes that are not a well-formed envelope, payload or event.
    public static let malformed = Self(rawValue: "event.malformed")
    /// An event type the ledger does not know.
    public static let unknownType = Self(rawValue: "event.unknownType")
    /// Event data that does not match its schema.
    public static let schema = Self(rawValue: "event.schema")
    /// A signature that does not verify.
    public static let badSignature = Self(rawValue: "event.badSignature")
    /// A key that is not in the keyring.
    public static let unknownKey = Self(rawValue: "authority.unknownKey")
    /// A key that was revoked before this event.
    public static let revokedKey = Self(rawValue: "authority.revokedKey")
    /// A key that lacks the role the event type requires.
    public static let roleNotAllowed = Self(rawValue: "authority.role")
    /// A governance rule of the keyring or policy that the event breaks.
    public static let policy = Self(rawValue: "authority.policy")
    /// A `seq` that is not the next one.
    public static let sequence = Self(rawValue: "chain.sequence")
    /// A `prev` that is not the leaf hash of the previous entry.
    public static let brokenChain = Self(rawValue: "chain.prev")
    /// An event time earlier than its predecessor's.
    public static let timeBackwards = Self(rawValue: "chain.time")
    /// An event that names a different log than the genesis event.
    public static let foreignLog = Self(rawValue: "chain.foreignLog")
    /// A genesis leaf hash that differs from the trusted one.
    public static let trustAnchor = Self(rawValue: "chain.trustAnchor")
    /// A log that disagrees with a signed checkpoint: truncated or rewritten.
    public static let checkpoint = Self(rawValue: "chain.checkpoint")
    /// A private or public key that cannot be read or parsed.
    public static let key = Self(rawValue: "key.invalid")
    /// Another writer appended first; re-read the head and try again.
    public static let conflict = Self(rawValue: "store.conflict")
    /// A storage failure: the database or file system refused.
    public static let storage = Self(rawValue: "store.failure")
    /// A Merkle proof that does not verify.
    public static let proof = Self(rawValue: "proof.invalid")
    /// A request that is not valid on its own, such as a proof for a size beyond the log.
    public static let invalidArgument = Self(rawValue: "argument.invalid")
}
