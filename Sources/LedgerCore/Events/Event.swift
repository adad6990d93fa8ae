/// An artifact an event is about: `{"name": "...", "digest": {"sha256": "<hex>"}}`.
public struct Subject: Sendable, Hashable {
    public var name: String
    public var sha256: Hash256

    public init(name: String, sha256: Hash256) {
        self.name = name
        self.sha256 = sha256
    }
}

/// The signed payload of one ledger event (DESIGN.md, "Event payload").
///
/// Its bytes on the wire are the RFC 8785 canonical JSON of
/// `{"v":1,"log","seq","prev","time","type","actor","subject"?,"data"}`. A decoded event always
/// re-encodes to exactly the bytes it came from: ``init(canonicalBytes:)`` refuses any other spelling.
public struct Event: Sendable, Hashable {
    /// The payload format version this code writes and reads.
    public static let formatVersion = 1

    /// The log's origin, the same in every event of one log.
    public var log: String
    public var seq: UInt64
    /// The leaf hash of the entry at `seq - 1`, or ``Hash256/zero`` at seq 0.
    public var prev: Hash256
    public var time: Timestamp
    public var type: String
    /// The keyid that signs the event.
    public var actor: KeyID
    /// The artifacts the event is about; omitted from the JSON when empty.
    public var subject: [Subject]
    /// The type-specific data, validated against `schemas/events/<type>.schema.json`.
    public var data: JSONValue

    public init(
        log: String,
        seq: UInt64,
        prev: Hash256,
        time: Timestamp,
        type: String,
        actor: KeyID,
        subject: [Subject] = [],
        data: JSONValue
    ) {
        self.log = log
        self.seq = seq
        self.prev = prev
        self.time = time
        self.type = type
        self.actor = actor
        self.subject = subject
        self.data = data
    }

    /// The canonical JSON bytes that are signed.
    ///
    /// Members are written in RFC 8785 order by hand (`actor`, `data`, `log`, `prev`, `seq`,
    /// `subject`, `time`, `type`, `v`); a test pins this to the generic encoder.
    public func canonicalBytes() throws(LedgerError) -> [UInt8] {
        try canonicalBytes(encodedData: Self.encode(data))
    }

    /// The canonical JSON of `data`, for ``canonicalBytes(encodedData:)``.
    package static func encode(_ data: JSONValue) throws(LedgerError) -> [UInt8] {
        do {
            return try CanonicalJSON.encode(data)
        } catch {
            throw LedgerError(.schema, "event data cannot be canonicalized: \(error.reason)")
        }
    }

    /// ``canonicalBytes()`` with `data` already encoded: the append path encodes every draft's data
    /// in parallel before the sequential signing loop.
    package func canonicalBytes(encodedData: [UInt8]) -> [UInt8] {
        canonicalBytesAndPrevOffset(encodedData: encodedData).bytes
    }

    /// The signed bytes of this event with its `prev` left to be filled in: the PAE of the payload
    /// and where `prev`'s 64 hex characters sit in it. The append path builds these for a whole
    /// batch in parallel; the sequential loop then only patches `prev` and signs.
    package func preAuthenticationTemplate(encodedData: [UInt8]) -> EventTemplate {
        let (payload, prevOffset) = canonicalBytesAndPrevOffset(encodedData: encodedData)
        let pae = Envelope.preAuthenticationEncoding(payloadType: Envelope.eventPayloadType, payload: payload)
        let payloadStart = pae.count - payload.count
        return EventTemplate(pae: pae, payloadStart: payloadStart, prevOffset: payloadStart + prevOffset)
    }

    private func canonicalBytesAndPrevOffset(encodedData: [UInt8]) -> (bytes: [UInt8], prevOffset: Int) {
        var out: [UInt8] = []
        out.reserveCapacity(encodedData.count + 400)
        out.append(contentsOf: #"{"actor":"#.utf8)
        CanonicalJSON.appendString(actor, to: &out)
        out.append(contentsOf: #","data":"#.utf8)
        out.append(contentsOf: encodedData)
        out.append(contentsOf: #","log":"#.utf8)
        CanonicalJSON.appendString(log, to: &out)
        out.append(contentsOf: #","prev":""#.utf8)
        let prevOffset = out.count
        out.append(contentsOf: prev.hex.utf8)
        out.append(contentsOf: #"","seq":"#.utf8)
        out.append(contentsOf: String(seq).utf8)
        if !subject.isEmpty {
            out.append(contentsOf: #","subject":["#.utf8)
            for (index, item) in subject.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: #"{"digest":{"sha256":""#.utf8)
                out.append(contentsOf: item.sha256.hex.utf8)
                out.append(contentsOf: #""},"name":"#.utf8)
                CanonicalJSON.appendString(item.name, to: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(contentsOf: #","time":""#.utf8)
        out.append(contentsOf: time.rfc3339.utf8)
        out.append(contentsOf: #"","type":"#.utf8)
        CanonicalJSON.appendString(type, to: &out)
        out.append(contentsOf: #","v":1}"#.utf8)
        return (out, prevOffset)
    }

    /// The payload as a JSON value (for display and schema checks).
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "v": .number(Double(Self.formatVersion)), "log": .string(log), "seq": .number(Double(seq)),
            "prev": .string(prev.hex), "time": .string(time.rfc3339), "type": .string(type),
            "actor": .string(actor), "data": data,
        ]
        if !subject.isEmpty {
            object["subject"] = .array(
                subject.map {
                    .object(["name": .string($0.name), "digest": .object(["sha256": .string($0.sha256.hex)])])
                }
            )
        }
        return .object(object)
    }

    /// Decodes and checks a payload: it must be canonical JSON with exactly the members above.
    public init(canonicalBytes bytes: [UInt8]) throws(LedgerError) {
        let json: JSONValue
        do {
            json = try CanonicalJSON.parse(bytes)
        } catch {
            throw LedgerError(.malformed, "the payload is not valid JSON (\(error.reason))")
        }
        try self.init(json: json)
        guard try canonicalBytes() == bytes else {
            throw LedgerError(.malformed, "the payload is not in RFC 8785 canonical form")
        }
    }

    /// Decodes a payload from a JSON value, member by member.
    public init(json: JSONValue) throws(LedgerError) {
        guard let object = json.objectValue else { throw LedgerError(.malformed, "the payload is not a JSON object") }
        let allowed: IdentifierSet = ["v", "log", "seq", "prev", "time", "type", "actor", "subject", "data"]
        for key in object.keys where !allowed.contains(key) {
            throw LedgerError(.malformed, "the payload has an unknown member \"\(key)\"")
        }
        guard object["v"]?.integerValue == Int64(Self.formatVersion) else {
            throw LedgerError(.malformed, "the payload version \"v\" is not \(Self.formatVersion)")
        }
        guard let log = object["log"]?.stringValue, !log.isEmpty else {
            throw LedgerError(.malformed, "the payload has no \"log\" origin")
        }
        guard let seqValue = object["seq"]?.integerValue, seqValue >= 0 else {
            throw LedgerError(.malformed, "the payload \"seq\" is not a non-negative integer")
        }
        guard let prevText = object["prev"]?.stringValue, Hex.isLowercase(prevText, byteCount: 32),
            let prev = Hash256(hex: prevText)
        else {
            throw LedgerError(.malformed, "the payload \"prev\" is not 64 lowercase hex characters")
        }
        guard let timeText = object["time"]?.stringValue, let time = Timestamp(rfc3339: timeText) else {
            throw LedgerError(.malformed, "the payload \"time\" is not RFC 3339 UTC with milliseconds")
        }
        guard let type = object["type"]?.stringValue, !type.isEmpty else {
            throw LedgerError(.malformed, "the payload has no \"type\"")
        }
        guard let actor = object["actor"]?.stringValue, Hex.isLowercase(actor, byteCount: 32) else {
            throw LedgerError(.malformed, "the payload \"actor\" is not a keyid")
        }
        guard let data = object["data"], data.objectValue != nil else {
            throw LedgerError(.malformed, "the payload \"data\" is not an object")
        }
        var subject: [Subject] = []
        if let subjectValue = object["subject"] {
            guard let items = subjectValue.arrayValue, !items.isEmpty else {
                throw LedgerError(.malformed, "the payload \"subject\" must be a non-empty array when present")
            }
            for item in items {
                guard let member = item.objectValue, member.count == 2, let name = member["name"]?.stringValue,
                    !name.isEmpty, let digest = member["digest"]?.objectValue, digest.count == 1,
                    let hex = digest["sha256"]?.stringValue, Hex.isLowercase(hex, byteCount: 32),
                    let hash = Hash256(hex: hex)
                else {
                    throw LedgerError(.malformed, "a subject is not {\"name\", \"digest\": {\"sha256\"}}")
                }
                subject.append(Subject(name: name, sha256: hash))
            }
        }
        self.init(
            log: log,
            seq: UInt64(seqValue),
            prev: prev,
            time: time,
            type: type,
            actor: actor,
            subject: subject,
            data: data
        )
    }
}

/// The PAE bytes of an event whose `prev` is still to be written (see
/// ``Event/preAuthenticationTemplate(encodedData:)``).
package struct EventTemplate: Sendable {
    package var pae: [UInt8]
    /// Where the payload starts in `pae`.
    package let payloadStart: Int
    /// Where `prev`'s 64 lowercase hex characters start in `pae`.
    package let prevOffset: Int

    /// Writes `prev` into the template.
    package mutating func fill(prev: Hash256) {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        pae.withUnsafeMutableBufferPointer { buffer in
            for (index, byte) in prev.bytes.enumerated() {
                buffer[prevOffset + 2 * index] = digits[Int(byte >> 4)]
                buffer[prevOffset + 2 * index + 1] = digits[Int(byte & 0x0f)]
            }
        }
    }
}
