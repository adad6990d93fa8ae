/// The typed `data` of one event kind.
///
/// Decoding refuses, with `event.schema`, a member that is missing or of the wrong JSON type: nothing is defaulted.
/// Optional members are Swift optionals, absent from the JSON when nil. Encoding gives the same JSON value the
/// event's data always had (integers stay integral numbers), so its canonical bytes are unchanged.
public protocol EventData: Codable, Sendable, Hashable {
    /// The event type whose data this is.
    static var type: EventType { get }
}

extension EventData {
    /// Decodes `data` as this kind's data.
    public init(data: JSONValue) throws(LedgerError) {
        do {
            self = try JSONValueDecoding.decode(Self.self, from: data)
        } catch {
            throw LedgerError(.schema, "\(Self.type.rawValue) data: \(Self.describe(error))")
        }
    }

    /// This value as the JSON `data` of an event.
    public func data() throws(LedgerError) -> JSONValue {
        do {
            return try JSONValueEncoding.encode(self)
        } catch {
            throw LedgerError(.schema, "\(Self.type.rawValue) data cannot be encoded: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.reduce("data") { path, key in
                key.intValue.map { "\(path)[\($0)]" } ?? "\(path).\(key.stringValue)"
            }
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): missing required member"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case EncodingError.invalidValue(_, let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}

extension Event {
    /// This event's data as `kind`; refuses an event of another type or data that does not have the kind's shape.
    public func decode<Data: EventData>(_ kind: Data.Type) throws(LedgerError) -> Data {
        guard `is`(Data.type) else {
            throw LedgerError(.schema, "event \(seq) is \(type.escapingNonASCII), not \(Data.type.rawValue)")
        }
        do {
            return try Data(data: data)
        } catch {
            throw LedgerError(error.code, "event \(seq): \(error.reason)")
        }
    }
}

/// A closed set of strings in event data (a verdict, a trigger): decoded byte for byte, refusing any other string.
public protocol EventDataEnumeration: RawRepresentable<String>, CaseIterable, Codable, Sendable, Hashable {}

extension EventDataEnumeration {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self.allCases.first(where: { $0.rawValue.hasSameBytes(as: text) }) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
