import LedgerCore
import LedgerTesting
import Testing

/// Every event the new-event bounds accept fits a C2SP tlog-tiles entry bundle (issue 17, part 1): for each event type,
/// the largest data ``DataShape/Bounds/newEvent`` allows (every array at its most items, every string at its most
/// characters of the costliest kind, every number at its longest spelling), in a payload with the longest log origin,
/// the most subjects and the largest seq, signed, makes a leaf of at most 65,535 bytes; and one item or character more
/// anywhere is refused by the shape check.
@Suite("Event size bounds")
struct EventSizeBoundsTests {
    struct Unbounded: Error, CustomStringConvertible {
        let description: String
    }

    /// The costliest characters in canonical JSON: a control character is `\u00XX` (6 bytes), a character outside the
    /// BMP 4 bytes of UTF-8.
    static let control: Unicode.Scalar = "\u{01}"
    static let astral: Unicode.Scalar = "\u{1F600}"

    /// `count` copies of `scalar`, the last one varied by `variant` so that unique items stay unique.
    static func repeated(_ scalar: Unicode.Scalar, _ count: Int, variant: Int = 0) -> String {
        guard count > 0 else { return "" }
        var scalars = String.UnicodeScalarView(repeatElement(scalar, count: count - 1))
        scalars.append(Unicode.Scalar(scalar.value + UInt32(variant % 16)) ?? scalar)
        return String(scalars)
    }

    /// A token of exactly `length` characters, different for each `variant`.
    static func token(_ length: Int, variant: Int) -> String {
        let digits = String(variant)
        guard length > digits.count else { return String(repeating: "a", count: length) }
        return String(repeating: "a", count: length - digits.count) + digits
    }

    /// The canonical length of `value`.
    static func size(_ value: JSONValue) throws -> Int { try CanonicalJSON.encode(value).count }

    /// The number in `minimum...maximum` whose canonical spelling is longest among spellings of 17 significant digits
    /// in every notation RFC 8785 uses (`0.00000d…`, `d.d…e-N`, `d…0000`, `d.d…e+N`), negative where allowed.
    static func longestNumber(minimum: Double, maximum: Double) throws -> Double {
        let magnitudes: [Double] = [
            1.2345678901234567e-6, 1.2345678901234567e-7, 1.2345678901234567e-300, 0.12345678901234566,
            1.2345678901234567, 12.345678901234567, 98.765432109876543, 0.5000000000000001, 0.9989999999999999,
            1.2345678901234568e+20, 1.2345678901234567e+21, 1.2345678901234567e+300,
        ]
        let candidates = (magnitudes + magnitudes.map { -$0 }).filter { $0 >= minimum && $0 <= maximum }
        var best: (Double, Int)?
        for candidate in candidates {
            let length = try size(.number(candidate))
            if best.map({ length > $0.1 }) ?? true { best = (candidate, length) }
        }
        guard let best else { throw Unbounded(description: "no candidate number in \(minimum)...\(maximum)") }
        return best.0
    }

    /// The largest value `shape` accepts for a new event; `variant` makes unique items differ.
    static func largest(_ shape: DataShape, variant: Int = 0) throws -> JSONValue {
        switch shape {
        case .object(let required, let optional):
            var members: [String: JSONValue] = [:]
            for (name, member) in required.merging(optional, uniquingKeysWith: { first, _ in first }) {
                members[name] = try largest(member, variant: variant)
            }
            return .object(members)
        case .anyObject:
            throw Unbounded(description: "an object of any members has no largest value")
        case .string(_, let maxLength):
            return .string(repeated(control, maxLength, variant: variant))
        case .text(_, let maxLength):
            return .string(repeated(astral, maxLength, variant: variant))
        case .token(let maxLength):
            return .string(token(maxLength, variant: variant))
        case .lowercaseHex(let byteCount):
            return .string(String(repeating: "f", count: byteCount * 2))
        case .oneOf(let allowed):
            let sorted = allowed.sorted { $0.utf8.count > $1.utf8.count }
            return .string(sorted[variant % sorted.count])
        case .timestamp:
            return "2026-12-31T23:59:59.999Z"
        case .integer(let minimum, let maximum):
            let longest =
                String(minimum).count > String(maximum).count ? minimum + Int64(variant) : maximum - Int64(variant)
            return .number(Double(longest))
        case .number(let minimum, let maximum):
            return .number(try longestNumber(minimum: minimum, maximum: maximum))
        case .scalar(let string):
            let text = try largest(string, variant: variant)
            let number = JSONValue.number(
                try longestNumber(minimum: -.greatestFiniteMagnitude, maximum: .greatestFiniteMagnitude)
            )
            return try size(text) >= size(number) ? text : number
        case .map(let name, let value, let maxMembers):
            var members: [String: JSONValue] = [:]
            for index in 0..<maxMembers {
                guard let key = try largest(name, variant: index).stringValue else {
                    throw Unbounded(description: "a member name that is not a string")
                }
                members[key] = try largest(value, variant: index)
            }
            guard members.count == maxMembers else { throw Unbounded(description: "member names collide") }
            return .object(members)
        case .array(let element, _, let maxItems, _):
            return .array(try (0..<maxItems).map { try largest(element, variant: $0) })
        case .tightened(let newEvent, _):
            return try largest(newEvent, variant: variant)
        }
    }

    /// Values of `shape` each of which exceeds exactly one count or length bound of a new event by one (one more item,
    /// member or character), everything else at its largest, with the path of what grew.
    static func oversized(_ shape: DataShape, at path: String = "data") throws -> [(path: String, value: JSONValue)] {
        switch shape {
        case .object(let required, let optional):
            let all = required.merging(optional, uniquingKeysWith: { first, _ in first })
            let base = try largest(shape)
            var found: [(String, JSONValue)] = []
            for (name, member) in all.sorted(by: { $0.key < $1.key }) {
                for (grownPath, grown) in try oversized(member, at: "\(path).\(name)") {
                    guard var members = base.objectValue
                    else { continue }
                    members[name] = grown
                    found.append((grownPath, .object(members)))
                }
            }
            return found
        case .string(_, let maxLength):
            return [(path, .string(repeated(control, maxLength + 1)))]
        case .text(_, let maxLength):
            return [(path, .string(repeated(astral, maxLength + 1)))]
        case .token(let maxLength):
            return [(path, .string(token(maxLength + 1, variant: 0)))]
        case .scalar(let string):
            return try oversized(string, at: path)
        case .map(let name, let value, let maxMembers):
            let base = try largest(shape)
            guard var members = base.objectValue,
                let first = members.keys.sorted().first, let firstValue = members[first]
            else { return [] }
            var found: [(String, JSONValue)] = []
            var more = members
            more[token(64, variant: 999_999)] = firstValue
            found.append(("\(path) (\(maxMembers + 1) members)", .object(more)))
            for (_, grownName) in try oversized(name, at: path) {
                guard let key = grownName.stringValue else { continue }
                var renamed = members
                renamed[first] = nil
                renamed[key] = firstValue
                found.append(("\(path) (a member name of \(key.unicodeScalars.count) characters)", .object(renamed)))
            }
            for (grownPath, grown) in try oversized(value, at: "\(path).\(first)") {
                members[first] = grown
                found.append((grownPath, .object(members)))
                members[first] = firstValue
            }
            return found
        case .array(let element, _, let maxItems, let uniqueItems):
            guard var items = try largest(shape).arrayValue, let firstItem = items.first else { return [] }
            var found: [(String, JSONValue)] = []
            var more = items
            more.append(try largest(element, variant: uniqueItems ? maxItems : 0))
            // Unique items of a closed set (the roles) cannot grow: the uniqueness refuses them anyway.
            found.append(("\(path) (\(maxItems + 1) items)", .array(more)))
            for (grownPath, grown) in try oversized(element, at: "\(path)[0]") {
                items[0] = grown
                found.append((grownPath, .array(items)))
                items[0] = firstItem
            }
            return found
        case .tightened(let newEvent, _):
            return try oversized(newEvent, at: path)
        case .anyObject, .lowercaseHex, .oneOf, .timestamp, .integer, .number:
            return []
        }
    }

    /// The longest log origin the payload schema accepts: 255 characters of 4 bytes each (the rules also cap it at
    /// 255 UTF-8 bytes, which is shorter).
    static let longestLog = repeated(astral, 255)

    /// The most subjects a new event names, each with the longest name of the costliest characters.
    static let largestSubjects = (0..<EventCatalog.maximumSubjects).map {
        Subject(
            name: repeated(control, EventCatalog.maximumSubjectNameLength, variant: $0),
            sha256: Hash256.sha256([UInt8($0)])
        )
    }

    /// The leaf of `data` as a `type` event with the largest payload around it.
    static func largestLeaf(type: String, data: JSONValue) throws -> [UInt8] {
        let event = Event(
            log: longestLog,
            seq: 9_007_199_254_740_992,
            prev: Hash256.sha256([1]),
            time: Timestamp(millisecondsSinceEpoch: 253_402_300_799_999),
            type: type,
            actor: TestKeys.admin.keyID,
            subject: largestSubjects,
            data: data
        )
        return try SignedEvent(signing: event, with: TestKeys.admin).leaf
    }

    static var types: [String] { EventCatalog.kinds.keys.sorted() }

    @Test("the largest data of each type is accepted, and its leaf fits an entry bundle", arguments: types)
    func largestFits(type: String) throws {
        let kind = try EventCatalog.kind(of: type)
        let data = try Self.largest(kind.shape)
        try kind.shape.validate(data, bounds: .newEvent)
        // The new bounds are tighter than the released ones, never looser.
        try kind.shape.validate(data)
        let leaf = try Self.largestLeaf(type: type, data: data)
        #expect(leaf.count <= Envelope.maximumBundledLeafBytes, "\(type): \(leaf.count) bytes")
        // And the leaf reads back as the event it was.
        #expect(try SignedEvent(leaf: leaf).event.data == data)
    }

    @Test("one more item, member or character anywhere is refused for a new event", arguments: types)
    func oneMoreIsRefused(type: String) throws {
        let kind = try EventCatalog.kind(of: type)
        let cases = try Self.oversized(kind.shape)
        #expect(!cases.isEmpty || type == "policy.set", "\(type) has no count or length bound")
        for (path, value) in cases {
            let error = #expect(throws: LedgerError.self, "\(type): \(path) one too many") {
                try kind.shape.validate(value, bounds: .newEvent)
            }
            #expect(error?.code == .schema, "\(type): \(path): \(error?.description ?? "accepted")")
        }
    }

    @Test("the bounds of the payload: the most subjects, each with the longest name")
    func subjects() throws {
        try EventCatalog.validateNewSubjects(Self.largestSubjects)
        let tooMany = Self.largestSubjects + [Subject(name: "x", sha256: Hash256.sha256([9]))]
        #expect(throws: LedgerError.self) { try EventCatalog.validateNewSubjects(tooMany) }
        let longName = Subject(
            name: Self.repeated(Self.astral, EventCatalog.maximumSubjectNameLength + 1),
            sha256: Hash256.sha256([9])
        )
        #expect(throws: LedgerError.self) { try EventCatalog.validateNewSubjects([longName]) }
        #expect(throws: LedgerError.self) {
            try EventCatalog.validateNewSubjects([Subject(name: "", sha256: Hash256.sha256([9]))])
        }
    }

    @Test("what a log already holds keeps the released bounds: 10,000 features verify, a new event takes 128")
    func releasedBoundsStillAccepted() throws {
        let kind = try EventCatalog.kind(of: "drift.measured")
        var data = try Self.largest(kind.shape)
        let feature = try #require(data["features"]?.arrayValue?.first)
        guard var members = data.objectValue else {
            Issue.record("drift.measured data is not an object")
            return
        }
        members["features"] = .array(Array(repeating: feature, count: 10_000))
        data = .object(members)
        try kind.shape.validate(data)
        #expect(throws: LedgerError.self) { try kind.shape.validate(data, bounds: .newEvent) }
        #expect(try Self.largestLeaf(type: "drift.measured", data: data).count > Envelope.maximumBundledLeafBytes)
    }

    @Test("the token, text, scalar and map shapes refuse what they must")
    func newShapes() {
        let token = DataShape.token(maxLength: 4)
        for bad: JSONValue in ["", "abcde", "a b", "é", "a\u{0}", 5] {
            #expect(throws: LedgerError.self, "\(bad)") { try token.validate(bad) }
        }
        #expect(throws: Never.self) { try token.validate("A.z-") }
        let text = DataShape.text(minLength: 0, maxLength: 2)
        for bad: JSONValue in ["a\n", "\u{1F}", "abc", 1] {
            #expect(throws: LedgerError.self, "\(bad)") { try text.validate(bad) }
        }
        #expect(throws: Never.self) { try text.validate("\u{1F600}\u{7F}") }
        let scalar = DataShape.scalar(string: text)
        for bad: JSONValue in [nil, [1], ["a": 1], "abc"] {
            #expect(throws: LedgerError.self, "\(bad)") { try scalar.validate(bad) }
        }
        for good: JSONValue in [true, 1.5, "ab"] {
            #expect(throws: Never.self) { try scalar.validate(good) }
        }
        let map = DataShape.map(name: token, value: scalar, maxMembers: 2)
        for bad: JSONValue in [["a": 1, "b": 2, "c": 3], ["a b": 1], ["a": [1]], [1]] {
            #expect(throws: LedgerError.self, "\(bad)") { try map.validate(bad) }
        }
        #expect(throws: Never.self) { try map.validate(["a": 1, "b": "x"]) }
        let tightened = DataShape.tightened(.token(maxLength: 1), released: .string(minLength: 1, maxLength: 3))
        #expect(throws: Never.self) { try tightened.validate("abc") }
        #expect(throws: LedgerError.self) { try tightened.validate("abc", bounds: .newEvent) }
    }
}
