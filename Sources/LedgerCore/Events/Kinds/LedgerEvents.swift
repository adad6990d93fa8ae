/// `ledger.created`: genesis (seq 0 only), the log's first keys, their roles, and the policy.
public struct LedgerCreated: EventData {
    public static let type = EventType.ledgerCreated

    public var keys: [KeyAdded]
    public var policy: PolicyData

    public init(keys: [KeyAdded], policy: PolicyData) {
        self.keys = keys
        self.policy = policy
    }
}

/// `key.added`: a key and the roles it may sign with (also each key of `ledger.created`).
public struct KeyAdded: EventData {
    public static let type = EventType.keyAdded

    public var keyid: KeyID
    public var name: String
    /// The raw Ed25519 public key as 64 lowercase hex characters.
    public var publicKey: String
    /// Role names; a name that is no ``Role`` grants nothing.
    public var roles: [String]

    public init(
        keyid: KeyID,
        name: String,
        publicKey: String,
        roles: [String]
    ) {
        self.keyid = keyid
        self.name = name
        self.publicKey = publicKey
        self.roles = roles
    }
}

/// `key.revoked`: a key's later events are refused; its earlier ones stay valid.
public struct KeyRevoked: EventData {
    public static let type = EventType.keyRevoked

    public var keyid: KeyID
    public var reason: String

    public init(keyid: KeyID, reason: String) {
        self.keyid = keyid
        self.reason = reason
    }
}

/// `policy.set`: replaces the governance policy.
public struct PolicySet: EventData {
    public static let type = EventType.policySet

    public var policy: PolicyData

    public init(policy: PolicyData) {
        self.policy = policy
    }
}

/// `note.added`: a free-text annotation, optionally referring to earlier seqs.
public struct NoteAdded: EventData {
    public static let type = EventType.noteAdded

    public var text: String
    public var refs: [UInt64]?

    public init(text: String, refs: [UInt64]? = nil) {
        self.text = text
        self.refs = refs
    }
}
