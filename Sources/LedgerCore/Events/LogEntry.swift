/// One entry of the log as a store keeps it: the leaf bytes plus the columns it is indexed by.
///
/// `leaf` is the canonical JSON of the DSSE envelope; everything else is derived from it and
/// kept only so that stores can index. Nothing here has been verified.
///
/// An entry read back from a store carries the store's index columns (`leafHash`, `type`, `time`,
/// `actor`) as they are stored: an edited database can make them disagree with `leaf`. Nothing may
/// decide or filter on them: decode `leaf` (``SignedEvent/init(leaf:)``) instead. `ledger verify`
/// checks every column against the leaf and reports the seq where one differs.
public struct LogEntry: Sendable, Hashable {
    public var seq: UInt64
    public var leaf: [UInt8]
    /// `SHA-256(0x00 || leaf)`.
    public var leafHash: Hash256
    public var type: String
    public var time: Timestamp
    public var actor: KeyID

    public init(seq: UInt64, leaf: [UInt8], leafHash: Hash256, type: String, time: Timestamp, actor: KeyID) {
        self.seq = seq
        self.leaf = leaf
        self.leafHash = leafHash
        self.type = type
        self.time = time
        self.actor = actor
    }

    /// The entry for a signed event.
    public init(_ event: SignedEvent) {
        self.init(
            seq: event.event.seq,
            leaf: event.leaf,
            leafHash: event.leafHash,
            type: event.event.type,
            time: event.event.time,
            actor: event.event.actor
        )
    }
}

/// An envelope with its decoded event and leaf: well formed, but not yet checked against the log.
public struct SignedEvent: Sendable, Hashable {
    public let envelope: Envelope
    public let event: Event
    /// The canonical JSON of `envelope`.
    public let leaf: [UInt8]
    public let leafHash: Hash256

    /// Signs `event` with `key`.
    public init(signing event: Event, with key: SigningKey) throws(LedgerError) {
        let envelope = try Envelope.signing(try event.canonicalBytes(), with: key)
        self.envelope = envelope
        self.event = event
        self.leaf = envelope.canonicalBytes()
        self.leafHash = MerkleTree.leafHash(leaf)
    }

    /// Assembles a signed event whose parts the caller already computed and checked: `leaf` MUST be
    /// `envelope.canonicalBytes()`, `leafHash` its leaf hash, and `envelope.payload` the canonical
    /// bytes of `event`.
    package init(envelope: Envelope, event: Event, leaf: [UInt8], leafHash: Hash256) {
        self.envelope = envelope
        self.event = event
        self.leaf = leaf
        self.leafHash = leafHash
    }

    /// Signs `event` from its template: `template` MUST come from `event` with any `prev`, and
    /// is filled with `event.prev` here.
    package init(signing event: Event, template: EventTemplate, with key: SigningKey) throws(LedgerError) {
        var template = template
        template.fill(prev: event.prev)
        let signature = try key.signature(for: template.pae)
        let envelope = Envelope(
            payloadType: Envelope.eventPayloadType,
            payload: Array(template.pae[template.payloadStart...]),
            signatures: [Envelope.Signature(keyID: key.keyID, signature: signature)]
        )
        let leaf = envelope.canonicalBytes()
        self.init(envelope: envelope, event: event, leaf: leaf, leafHash: MerkleTree.leafHash(leaf))
    }

    /// Decodes an envelope that was signed elsewhere. It must carry a ledger event payload.
    public init(envelope: Envelope) throws(LedgerError) {
        guard envelope.payloadType == Envelope.eventPayloadType else {
            throw LedgerError(.malformed, "the payloadType is not \(Envelope.eventPayloadType)")
        }
        self.envelope = envelope
        self.event = try Event(canonicalBytes: envelope.payload)
        self.leaf = envelope.canonicalBytes()
        self.leafHash = MerkleTree.leafHash(leaf)
    }

    /// Decodes leaf bytes; they must be the canonical JSON of the envelope.
    public init(leaf: [UInt8]) throws(LedgerError) {
        let envelope = try Envelope(jsonBytes: leaf)
        try self.init(envelope: envelope)
        guard self.leaf == leaf else {
            throw LedgerError(.malformed, "the entry is not the canonical JSON of its envelope")
        }
    }
}
