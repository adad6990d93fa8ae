/// A JSON value as RFC 8259 describes it, with every number held as an IEEE 754 double (I-JSON, RFC 7493).
///
/// Equality is structural, and strings and member names compare by their UTF-8 bytes (see ``Identifier``), as
/// RFC 8785 and every other reader of the log do: `{"é":1,"e\u0301":2}` has two members, and `"é"` is not equal
/// to `"e\u0301"`. Numbers compare as doubles, so `0` equals `-0`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON object's members by name; names are told apart by their bytes, never merged by Unicode normalization.
public typealias JSONObject = IdentifierDictionary<JSONValue>

extension JSONValue {
    /// An object with the members of a Swift dictionary, for values the program builds itself. A Swift dictionary
    /// merges canonically equivalent keys, so build a ``JSONObject`` instead where names come from outside.
    public static func object(_ members: [String: JSONValue]) -> JSONValue { .object(JSONObject(members)) }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let left), .bool(let right)): left == right
        case (.number(let left), .number(let right)): left == right
        case (.string(let left), .string(let right)): left.hasSameBytes(as: right)
        case (.array(let left), .array(let right)): left == right
        case (.object(let left), .object(let right)): left == right
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value):
            hasher.combine(1)
            hasher.combine(value)
        case .number(let value):
            hasher.combine(2)
            hasher.combine(value)
        case .string(let value):
            hasher.combine(3)
            hasher.combine(Identifier(value))
        case .array(let value):
            hasher.combine(4)
            hasher.combine(value)
        case .object(let value):
            hasher.combine(5)
            hasher.combine(value)
        }
    }
}

extension JSONValue {
    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The Boolean, if this is `true` or `false`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The number, if this is a number.
    public var doubleValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The number as an integer, if it is integral and its magnitude is at most 2^53 (so exactly representable).
    public var integerValue: Int64? {
        guard case .number(let value) = self, value.isFinite, value.rounded(.towardZero) == value,
            value.magnitude <= 9_007_199_254_740_992
        else { return nil }
        return Int64(value)
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The member named `key`, or nil if there is none or this is not an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }
}

extension JSONValue {
    /// An integer as a JSON number; exact for magnitudes up to 2^53, which is all the ledger writes.
    public static func int(_ value: some BinaryInteger) -> JSONValue { .number(Double(value)) }
}

extension JSONValue: CustomStringConvertible {
    /// The RFC 8785 canonical text. A non-finite number, which has no JSON form, shows as `NaN`, `Infinity` or
    /// `-Infinity`.
    public var description: String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64)
        CanonicalJSON.appendLenient(self, to: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

extension JSONValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) {
        self = .null
    }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) {
        self = .number(Double(value))
    }
}

extension JSONValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) {
        self = .number(value)
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension JSONValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: JSONValue...) {
        self = .array(elements)
    }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// Builds an object; if a key repeats (byte for byte), the last value wins.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var members = JSONObject(minimumCapacity: elements.count)
        for (key, value) in elements { members[key] = value }
        self = .object(members)
    }
}
