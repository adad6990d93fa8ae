/// A small, closed subset of JSON Schema that the append path and the verifier enforce natively.
///
/// Each event type's shape here mirrors `schemas/events/<type>.schema.json`; a test runs an
/// independent JSON Schema validator over the same accepted and refused examples to keep the two in step.
public indirect enum DataShape: Sendable {
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

    /// Throws `event.schema` naming the first offending path, such as `data.keys[0].roles[1]`.
    public func validate(_ value: JSONValue, at path: String = "data") throws(LedgerError) {
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
                    try shape.validate(member, at: "\(path).\(name)")
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
                try element.validate(item, at: "\(path)[\(index)]")
            }
        }
    }

    /// The shape of the member `name` in `shapes`, matching the name byte for byte.
    private static func member(_ name: String, of shapes: [String: DataShape]) -> DataShape? {
        guard let index = shapes.index(forKey: name), shapes[index].key.hasSameBytes(as: name) else { return nil }
        return shapes[index].value
    }
}
