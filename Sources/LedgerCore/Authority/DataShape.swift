/// A small, closed subset of JSON Schema that the append path and the verifier enforce natively.
///
/// Each event type's shape here mirrors `schemas/events/<type>.schema.json` with ``Bounds/newEvent``; a test runs an
/// independent JSON Schema validator over the same accepted and refused examples to keep the two in step.
///
/// Two sets of bounds: ``Bounds/newEvent`` keeps the leaf of every event it accepts within 65,535 bytes
/// (``Envelope/maximumBundledLeafBytes``, a C2SP tlog-tiles entry bundle's limit) and is what the append path and
/// `schemas/` enforce; ``Bounds/released`` is what format v1 accepted before those bounds, which the verifier and
/// every reader keep applying to events already in a log, so that every log ever written keeps verifying. The two
/// differ only where a shape says ``tightened(_:released:)``.
public indirect enum DataShape: Sendable {
    /// Which bounds a check applies.
    public enum Bounds: Sendable {
        /// The bounds format v1 was released with: for events already in a log (the verifier, decoding).
        case released
        /// The tighter bounds under which every leaf fits a tlog-tiles entry bundle: for an event about to be
        /// appended.
        case newEvent
    }

    /// An object with exactly these members: `required` must be present, `optional` may be,
    /// nothing else is allowed.
    case object(required: [String: DataShape], optional: [String: DataShape] = [:])
    /// Any JSON object (a part of the format that a later version defines).
    case anyObject
    case string(minLength: Int = 1, maxLength: Int = 4096)
    /// Exactly `byteCount` bytes as lowercase hex.
    case lowercaseHex(byteCount: Int)
    case oneOf([String])
    case integer(minimum: Int64, maximum: Int64 = 1 << 53)
    /// Any finite JSON number from `minimum` to `maximum`, both included.
    case number(minimum: Double, maximum: Double)
    /// An RFC 3339 UTC time in the ledger's one spelling, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    case timestamp
    case array(DataShape, minItems: Int = 0, maxItems: Int = 10_000, uniqueItems: Bool = false)
    /// 1 to `maxLength` ASCII letters, digits, `.`, `_` or `-`, such as a feature or a parameter name: one byte of
    /// canonical JSON each. The schemas say `"pattern": "^[A-Za-z0-9._-]+$"`.
    case token(maxLength: Int)
    /// A string of `minLength` to `maxLength` characters none of which is a control character (U+0000 to U+001F), so
    /// that each takes at most 4 bytes of canonical JSON (6 for `\u00XX`). The schemas say
    /// `"pattern": "^[^\\u0000-\\u001f]*$"`.
    case text(minLength: Int, maxLength: Int)
    /// A finite number, a boolean, or a string of the shape `string`.
    case scalar(string: DataShape)
    /// An object of at most `maxMembers` members with any names of the shape `name`, each value of the shape `value`.
    case map(name: DataShape, value: DataShape, maxMembers: Int)
    /// `newEvent` under ``Bounds/newEvent``, `released` under ``Bounds/released``.
    case tightened(_ newEvent: DataShape, released: DataShape)

    /// Throws `event.schema` naming the first offending path, such as `data.keys[0].roles[1]`.
    ///
    /// - Parameter bounds: ``Bounds/released`` (the default) for an event already in a log, ``Bounds/newEvent`` for
    ///   one about to be appended.
    public func validate(_ value: JSONValue, at path: String = "data", bounds: Bounds = .released) throws(LedgerError) {
        func fail(_ expectation: String) -> LedgerError {
            LedgerError(.schema, "\(path): expected \(expectation)")
        }
        switch self {
        case .object(let required, let optional):
            guard let object = value.objectValue else { throw fail("an object") }
            // The happy path does no sorting; on failure, names are sorted so that the error
            // always names the same member.
            // Member names compare byte for byte, here as in `object`: "precisionAt\u{212A}" (KELVIN SIGN) is not
            // "precisionAtK".
            func shape(named name: String) -> DataShape? {
                Self.member(name, of: required) ?? Self.member(name, of: optional)
            }
            if required.keys.contains(where: { object[$0] == nil }) {
                let missing = required.keys.filter { object[$0] == nil }.sorted()
                throw LedgerError(.schema, "\(path): missing required member \"\(missing[0])\"")
            }
            if object.count > required.count,
                object.keys.contains(where: { shape(named: $0) == nil })
            {
                let unexpected = object.keys.filter { shape(named: $0) == nil }.sorted()
                throw LedgerError(.schema, "\(path): unexpected member \"\(unexpected[0])\"")
            }
            var firstError: (name: String, error: LedgerError)?
            for (name, member) in object {
                guard let shape = shape(named: name) else { continue }
                do {
                    try shape.validate(member, at: "\(path).\(name)", bounds: bounds)
                } catch  where firstError == nil || name < firstError?.name ?? "" {
                    firstError = (name, error)
                }
            }
            if let firstError { throw firstError.error }
        case .anyObject:
            guard value.objectValue != nil else { throw fail("an object") }
        case .string(let minLength, let maxLength):
            guard let string = value.stringValue else { throw fail("a string") }
            let length = string.unicodeScalars.count
            guard length >= minLength, length <= maxLength else {
                throw fail("a string of \(minLength) to \(maxLength) characters")
            }
        case .lowercaseHex(let byteCount):
            guard let string = value.stringValue, Hex.isLowercase(string, byteCount: byteCount) else {
                throw fail("\(byteCount * 2) lowercase hex characters")
            }
        case .oneOf(let allowed):
            guard let string = value.stringValue, allowed.contains(where: { $0.hasSameBytes(as: string) }) else {
                throw fail("one of \(allowed.joined(separator: ", "))")
            }
        case .timestamp:
            guard let string = value.stringValue, Timestamp(rfc3339: string) != nil else {
                throw fail("an RFC 3339 UTC time such as 2026-03-03T09:00:00.000Z")
            }
        case .integer(let minimum, let maximum):
            guard let integer = value.integerValue, integer >= minimum, integer <= maximum else {
                throw fail("an integer from \(minimum) to \(maximum)")
            }
        case .number(let minimum, let maximum):
            guard let number = value.doubleValue, number >= minimum, number <= maximum else {
                throw fail("a number from \(minimum) to \(maximum)")
            }
        case .array(let element, let minItems, let maxItems, let uniqueItems):
            guard let items = value.arrayValue else { throw fail("an array") }
            guard items.count >= minItems, items.count <= maxItems else {
                throw fail("an array of \(minItems) to \(maxItems) items")
            }
            if uniqueItems, Set(items).count != items.count { throw fail("unique items") }
            for (index, item) in items.enumerated() {
                try element.validate(item, at: "\(path)[\(index)]", bounds: bounds)
            }
        case .token(let maxLength):
            guard let string = value.stringValue, string.utf8.count >= 1, string.utf8.count <= maxLength,
                string.utf8.allSatisfy(Self.isTokenByte)
            else {
                throw fail("1 to \(maxLength) letters, digits, '.', '_' or '-'")
            }
        case .text(let minLength, let maxLength):
            guard let string = value.stringValue else { throw fail("a string") }
            let length = string.unicodeScalars.count
            guard length >= minLength, length <= maxLength, !string.utf8.contains(where: { $0 < 0x20 }) else {
                throw fail("a string of \(minLength) to \(maxLength) characters without control characters")
            }
        case .scalar(let string):
            switch value {
            case .bool: break
            case .number(let number) where number.isFinite: break
            case .string: try string.validate(value, at: path, bounds: bounds)
            default: throw fail("a number, a boolean or a string")
            }
        case .map(let name, let member, let maxMembers):
            guard let object = value.objectValue else { throw fail("an object") }
            guard object.count <= maxMembers else { throw fail("an object of at most \(maxMembers) members") }
            for key in object.keys.sorted() {
                try name.validate(.string(key), at: "\(path): the member name \"\(key.prefix(80))\"", bounds: bounds)
                if let item = object[key] { try member.validate(item, at: "\(path).\(key)", bounds: bounds) }
            }
        case .tightened(let newEvent, let released):
            try (bounds == .newEvent ? newEvent : released).validate(value, at: path, bounds: bounds)
        }
    }

    /// ASCII letters, digits, `.`, `_` and `-`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte) || byte == 0x2e
            || byte == 0x5f || byte == 0x2d
    }

    /// The shape of the member `name` in `shapes`, matching the name byte for byte.
    private static func member(_ name: String, of shapes: [String: DataShape]) -> DataShape? {
        guard let index = shapes.index(forKey: name), shapes[index].key.hasSameBytes(as: name) else { return nil }
        return shapes[index].value
    }
}
