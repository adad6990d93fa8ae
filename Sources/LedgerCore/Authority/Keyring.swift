/// A key as the log knows it: who, what it may sign, and when it was added and revoked.
public struct KeyRecord: Sendable, Hashable {
    public let publicKey: PublicKey
    public let name: String
    public let roles: Set<Role>
    /// The seq of the event that added the key (0 for genesis keys).
    public let addedAt: UInt64
    /// The seq of the `key.revoked` event, if any. Events after it are refused.
    public internal(set) var revokedAt: UInt64?

    public var keyID: KeyID { publicKey.keyID }
    public var isActive: Bool { revokedAt == nil }

    /// The `{"keyid","name","publicKey","roles"}` object that adds this key.
    public var jsonValue: JSONValue {
        .object([
            "keyid": .string(keyID), "name": .string(name),
            "publicKey": .string(Hex.encode(publicKey.rawRepresentation)),
            "roles": .array(roles.sorted().map { .string($0.rawValue) }),
        ])
    }

    /// The key a `key.added` (or a genesis key) names, checking its keyid. A role name that is no ``Role`` grants
    /// nothing (the catalog's shape admits only role names).
    init(_ data: KeyAdded, addedAt seq: UInt64) throws(LedgerError) {
        let publicKey = try PublicKey(rawRepresentation: Hex.decode(data.publicKey) ?? [])
        guard data.keyid.hasSameBytes(as: publicKey.keyID) else {
            throw LedgerError(.policy, "keyid \(data.keyid) is not the SHA-256 of its public key")
        }
        self.publicKey = publicKey
        self.name = data.name
        self.roles = Set(data.roles.compactMap { name in Role.allCases.first { $0.rawValue.hasSameBytes(as: name) } })
        self.addedAt = seq
        self.revokedAt = nil
    }

    /// The `key.added` data that adds this key.
    public var keyAdded: KeyAdded {
        KeyAdded(
            keyid: keyID,
            name: name,
            publicKey: Hex.encode(publicKey.rawRepresentation),
            roles: roles.sorted().map(\.rawValue)
        )
    }

    public init(publicKey: PublicKey, name: String, roles: Set<Role>, addedAt: UInt64 = 0, revokedAt: UInt64? = nil) {
        self.publicKey = publicKey
        self.name = name
        self.roles = roles
        self.addedAt = addedAt
        self.revokedAt = revokedAt
    }
}

/// Every key the log has ever named, in the order they were added. Keys are never removed; a
/// revoked key stays so that its earlier signatures can still be checked.
public struct Keyring: Sendable, Hashable {
    public private(set) var records: [KeyRecord] = []
    /// By keyid, byte for byte (a keyid in an envelope is whatever string it carries).
    private var indexByID: [Identifier: Int] = [:]

    public init() {}

    public subscript(keyID: KeyID) -> KeyRecord? {
        indexByID[Identifier(keyID)].map { records[$0] }
    }

    /// The keys currently active that hold `role`.
    public func activeKeys(with role: Role) -> [KeyRecord] {
        records.filter { $0.isActive && $0.roles.contains(role) }
    }

    mutating func add(_ record: KeyRecord) {
        indexByID[Identifier(record.keyID)] = records.count
        records.append(record)
    }

    mutating func revoke(_ keyID: KeyID, at seq: UInt64) {
        if let index = indexByID[Identifier(keyID)] { records[index].revokedAt = seq }
    }
}
