/// A JSON value as RFC 8259 describes it, with every number held as an IEEE 754 double (I-JSON, RFC 7493).
///
/// Equality is structural. Object keys compare as Swift strings do, that is by canonical equivalence, so two keys
/// that differ only in Unicode normalization are the same key here (the parser rejects such a pair as a duplicate).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
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
    public var objectValue: [String: JSONValue]? {
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
    /// Builds an object; if a key repeats, the last value wins.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
