/// A string that compares, hashes and sorts by its UTF-8 bytes: the ledger's rule for identity.
///
/// Swift's `String` compares by Unicode canonical equivalence, so `"é"` (U+00E9) equals `"e\u{301}"` (e and a
/// combining acute accent), and `"\u{212A}"` (KELVIN SIGN) equals the letter `"K"`. Everything else that reads a log
/// (SQLite and PostgreSQL `TEXT`, the auditor's script, the Python peer) compares code points, and a verdict must not
/// depend on the Unicode tables of the Swift release that runs it. So every identity taken from a signed payload or
/// an export (the log id, a model name, a target, a run id, a key name, a JSON member name) MUST be compared as
/// bytes: with `Identifier`, ``IdentifierDictionary`` or ``IdentifierSet`` as keys, and with
/// ``Swift/String/hasSameBytes(as:)`` for a single comparison.
///
/// Plain `==` stays correct only where canonical equivalence cannot join two different byte strings. That is not
/// true of ASCII in general: U+212A KELVIN SIGN is equivalent to `K`, U+037E GREEK QUESTION MARK to `;` and U+1FEF
/// GREEK VARIA to a backtick. It holds today for lowercase hex digests and keyids (checked as `[0-9a-f]` by bytes
/// before any comparison) and for event types (the catalog's types are lowercase ASCII letters, dots and
/// underscores, with none of those three characters, and ``EventCatalog`` refuses a type whose bytes differ from
/// its entry's, so an equivalent spelling is an unknown type before `==` ever sees it).
///
/// The order is the bytes' order, which for UTF-8 is the code points' order, as `ORDER BY` sorts `TEXT` in SQLite
/// (and in PostgreSQL under the `C` collation).
public struct Identifier: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let string: String

    public init(_ string: String) { self.string = string }

    public init(stringLiteral value: String) { self.string = value }

    public var description: String { string }

    public static func == (lhs: Identifier, rhs: Identifier) -> Bool { lhs.string.hasSameBytes(as: rhs.string) }

    public func hash(into hasher: inout Hasher) {
        var string = string
        string.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    public static func < (lhs: Identifier, rhs: Identifier) -> Bool {
        lhs.string.utf8.lexicographicallyPrecedes(rhs.string.utf8)
    }
}

extension String {
    /// Whether the two strings have the same UTF-8 bytes, unlike `==`, which also holds for canonically equivalent
    /// strings such as `"é"` and `"e\u{301}"`. See ``Identifier``.
    public func hasSameBytes(as other: String) -> Bool { utf8.elementsEqual(other.utf8) }

    /// The string with every scalar outside printable ASCII written as `\u{…}`, to tell apart two strings that look
    /// alike in a message: `"cafe\u{301}"` and `"caf\u{E9}"`.
    public var escapingNonASCII: String {
        var result = ""
        for scalar in unicodeScalars {
            if scalar.value >= 0x20 && scalar.value < 0x7f {
                result.unicodeScalars.append(scalar)
            } else {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return result
    }
}

/// A dictionary keyed by strings that are told apart by their UTF-8 bytes (see ``Identifier``), with the parts of
/// `Dictionary`'s interface that take and give `String` keys.
///
/// `[String: Value]` would merge two keys that are canonically equivalent; this never does. Iteration order is
/// unspecified, as for `Dictionary`.
public struct IdentifierDictionary<Value> {
    public private(set) var storage: [Identifier: Value]

    public init() { storage = [:] }

    /// The entries of a Swift dictionary (which cannot hold two canonically equivalent keys in the first place).
    public init(_ dictionary: [String: Value]) {
        storage = Dictionary(uniqueKeysWithValues: dictionary.map { (Identifier($0.key), $0.value) })
    }

    public init(minimumCapacity: Int) { storage = Dictionary(minimumCapacity: minimumCapacity) }

    init(storage: [Identifier: Value]) { self.storage = storage }

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }
    /// The keys, in iteration order.
    public var keys: [String] { storage.keys.map(\.string) }
    public var values: Dictionary<Identifier, Value>.Values { storage.values }

    public subscript(key: String) -> Value? {
        get { storage[Identifier(key)] }
        _modify { yield &storage[Identifier(key)] }
        set { storage[Identifier(key)] = newValue }
    }

    public subscript(key: Identifier) -> Value? {
        get { storage[key] }
        _modify { yield &storage[key] }
        set { storage[key] = newValue }
    }

    public subscript(key: String, default defaultValue: @autoclosure () -> Value) -> Value {
        get { storage[Identifier(key), default: defaultValue()] }
        _modify { yield &storage[Identifier(key), default: defaultValue()] }
        set { storage[Identifier(key)] = newValue }
    }

    /// Sets the value of `key` and returns the one it replaced, if any.
    @discardableResult
    public mutating func updateValue(_ value: Value, forKey key: String) -> Value? {
        storage.updateValue(value, forKey: Identifier(key))
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> Value? { storage.removeValue(forKey: Identifier(key)) }

    public func mapValues<T>(_ transform: (Value) throws -> T) rethrows -> IdentifierDictionary<T> {
        IdentifierDictionary<T>(storage: try storage.mapValues(transform))
    }

    public func compactMapValues<T>(_ transform: (Value) throws -> T?) rethrows -> IdentifierDictionary<T> {
        IdentifierDictionary<T>(storage: try storage.compactMapValues(transform))
    }

    public func filter(_ isIncluded: ((key: String, value: Value)) throws -> Bool) rethrows -> Self {
        Self(storage: try storage.filter { try isIncluded((key: $0.key.string, value: $0.value)) })
    }

    /// The entries of both; `combine` picks the value of a key that is in both (byte for byte).
    public func merging(_ other: Self, uniquingKeysWith combine: (Value, Value) throws -> Value) rethrows -> Self {
        Self(storage: try storage.merging(other.storage, uniquingKeysWith: combine))
    }

    /// The entries sorted by key, in byte order.
    public func sortedByKey() -> [(key: String, value: Value)] {
        storage.sorted { $0.key < $1.key }.map { (key: $0.key.string, value: $0.value) }
    }
}

extension IdentifierDictionary: Sequence {
    public struct Iterator: IteratorProtocol {
        var base: Dictionary<Identifier, Value>.Iterator

        public mutating func next() -> (key: String, value: Value)? {
            base.next().map { (key: $0.key.string, value: $0.value) }
        }
    }

    public func makeIterator() -> Iterator { Iterator(base: storage.makeIterator()) }

    public var underestimatedCount: Int { storage.count }
}

extension IdentifierDictionary: ExpressibleByDictionaryLiteral {
    /// Builds a dictionary; if a key repeats (byte for byte), the last value wins.
    public init(dictionaryLiteral elements: (String, Value)...) {
        storage = Dictionary(elements.map { (Identifier($0.0), $0.1) }, uniquingKeysWith: { _, last in last })
    }
}

extension IdentifierDictionary: Sendable where Value: Sendable {}
extension IdentifierDictionary: Equatable where Value: Equatable {}
extension IdentifierDictionary: Hashable where Value: Hashable {}

/// A set of strings told apart by their UTF-8 bytes (see ``Identifier``), with the parts of `Set`'s interface that
/// take and give `String`.
public struct IdentifierSet: Sendable, Hashable, Sequence, ExpressibleByArrayLiteral {
    public private(set) var storage: Set<Identifier>

    public init() { storage = [] }

    public init(_ strings: some Sequence<String>) { storage = Set(strings.map { Identifier($0) }) }

    public init(arrayLiteral elements: String...) { self.init(elements) }

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }

    public func contains(_ string: String) -> Bool { storage.contains(Identifier(string)) }

    @discardableResult
    public mutating func insert(_ string: String) -> (inserted: Bool, memberAfterInsert: String) {
        let result = storage.insert(Identifier(string))
        return (result.inserted, result.memberAfterInsert.string)
    }

    @discardableResult
    public mutating func remove(_ string: String) -> String? { storage.remove(Identifier(string))?.string }

    /// The members in byte order.
    public func sorted() -> [String] { storage.sorted().map(\.string) }

    public func makeIterator() -> LazyMapSequence<Set<Identifier>, String>.Iterator {
        storage.lazy.map(\.string).makeIterator()
    }

    public var underestimatedCount: Int { storage.count }
}
