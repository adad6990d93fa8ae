/// Decodes `Decodable` values from a ``JSONValue`` tree, strictly: a missing member, a member of the wrong JSON
/// type, a fractional or out-of-range number where an integer is expected and a `null` where a value is expected are
/// all refused, never defaulted.
///
/// Member names are looked up by their UTF-8 bytes (``JSONObject`` is byte-keyed). An optional member decodes to nil
/// only when it is absent: a `null` in its place is refused, because re-encoding would drop it.
public enum JSONValueDecoding {
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try unbox(value, as: type, codingPath: [])
    }

    static func unbox<T: Decodable>(_ value: JSONValue, as type: T.Type, codingPath: [any CodingKey]) throws -> T {
        func mismatch(_ expectation: String) -> DecodingError {
            .typeMismatch(T.self, .init(codingPath: codingPath, debugDescription: "expected \(expectation)"))
        }
        if T.self == JSONValue.self, let value = value as? T { return value }
        if T.self == String.self {
            guard case .string(let string) = value, let result = string as? T else { throw mismatch("a string") }
            return result
        }
        if T.self == Double.self {
            guard case .number(let number) = value, let result = number as? T else { throw mismatch("a number") }
            return result
        }
        if T.self == Bool.self {
            guard case .bool(let bool) = value, let result = bool as? T else { throw mismatch("true or false") }
            return result
        }
        if let integerType = T.self as? any FixedWidthInteger.Type {
            guard let integer = value.integerValue, let result = integerType.init(exactly: integer) as? T else {
                throw mismatch("an integer")
            }
            return result
        }
        return try T(from: ValueDecoder(value: value, codingPath: codingPath))
    }
}

/// Encodes `Encodable` values to a ``JSONValue`` tree: integers become integral numbers, nil optionals are omitted
/// (the synthesized `encodeIfPresent`), and a ``JSONValue`` member is copied as it is.
public enum JSONValueEncoding {
    public static func encode(_ value: some Encodable) throws -> JSONValue {
        try box(value, codingPath: [])
    }

    static func box<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        if let string = value as? String { return .string(string) }
        if let number = value as? Double { return .number(number) }
        if let bool = value as? Bool { return .bool(bool) }
        if let integer = value as? any FixedWidthInteger {
            guard let exact = Int64(exactly: integer), exact.magnitude <= 9_007_199_254_740_992 else {
                throw EncodingError.invalidValue(
                    value,
                    .init(codingPath: codingPath, debugDescription: "an integer beyond 2^53 has no exact JSON number")
                )
            }
            return .number(Double(exact))
        }
        let node = EncodingNode()
        try value.encode(to: ValueEncoder(node: node, codingPath: codingPath))
        return node.resolved
    }
}

// MARK: - Decoding

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

private struct ValueDecoder: Decoder, SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else {
            throw DecodingError.typeMismatch(
                JSONObject.self,
                .init(codingPath: codingPath, debugDescription: "expected an object")
            )
        }
        return KeyedDecodingContainer(KeyedValueDecoder<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw DecodingError.typeMismatch(
                [JSONValue].self,
                .init(codingPath: codingPath, debugDescription: "expected an array")
            )
        }
        return UnkeyedValueDecoder(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { value == .null }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONValueDecoding.unbox(value, as: type, codingPath: codingPath)
    }
    func decode(_ type: Bool.Type) throws -> Bool { try unbox(type) }
    func decode(_ type: String.Type) throws -> String { try unbox(type) }
    func decode(_ type: Double.Type) throws -> Double { try unbox(type) }
    func decode(_ type: Float.Type) throws -> Float { Float(try unbox(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try unbox(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try unbox(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try unbox(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try unbox(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try unbox(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try unbox(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try unbox(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try unbox(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try unbox(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try unbox(type) }

    private func unbox<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONValueDecoding.unbox(value, as: type, codingPath: codingPath)
    }
}

private struct KeyedValueDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSONValue {
        guard let value = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing member"))
        }
        return value
    }

    /// Never true: a `null` member is decoded as the member's type, which refuses it, so that the standard
    /// `decodeIfPresent` overloads give nil only for an absent member.
    func decodeNil(forKey key: Key) throws -> Bool {
        _ = try member(key)
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try JSONValueDecoding.unbox(member(key), as: type, codingPath: codingPath + [key])
    }

    /// Nil only when the member is absent; a `null` member is refused by the type's own decoding.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = object[key.stringValue] else { return nil }
        return try JSONValueDecoding.unbox(value, as: type, codingPath: codingPath + [key])
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try unbox(type, key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try unbox(type, key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try unbox(type, key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try unbox(Double.self, key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try unbox(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try unbox(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try unbox(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try unbox(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try unbox(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try unbox(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try unbox(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try unbox(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try unbox(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try unbox(type, key) }

    private func unbox<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
        try JSONValueDecoding.unbox(member(key), as: type, codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(object), codingPath: codingPath) }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        try ValueDecoder(value: member(key), codingPath: codingPath + [key])
    }
}

private struct UnkeyedValueDecoder: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> (JSONValue, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                JSONValue.self,
                .init(codingPath: codingPath, debugDescription: "the array has no more elements")
            )
        }
        defer { currentIndex += 1 }
        return (elements[currentIndex], codingPath + [AnyKey(intValue: currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next()
        return try JSONValueDecoding.unbox(value, as: type, codingPath: path)
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try unbox(type) }
    mutating func decode(_ type: String.Type) throws -> String { try unbox(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try unbox(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { Float(try unbox(Double.self)) }
    mutating func decode(_ type: Int.Type) throws -> Int { try unbox(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try unbox(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try unbox(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try unbox(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try unbox(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try unbox(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try unbox(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try unbox(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try unbox(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try unbox(type) }

    private mutating func unbox<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next()
        return try JSONValueDecoding.unbox(value, as: type, codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, path) = try next()
        return try ValueDecoder(value: value, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, path) = try next()
        return try ValueDecoder(value: value, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (value, path) = try next()
        return ValueDecoder(value: value, codingPath: path)
    }
}

// MARK: - Encoding

/// One value under construction; containers hand out child nodes and resolve them at the end.
private final class EncodingNode {
    enum Content {
        case value(JSONValue)
        case object([(String, EncodingNode)])
        case array([EncodingNode])
    }

    var content: Content = .value(.null)

    var resolved: JSONValue {
        switch content {
        case .value(let value): return value
        case .array(let nodes): return .array(nodes.map(\.resolved))
        case .object(let members):
            var object = JSONObject(minimumCapacity: members.count)
            for (name, node) in members { object[name] = node.resolved }
            return .object(object)
        }
    }

    func add(_ name: String) -> EncodingNode {
        let child = EncodingNode()
        if case .object(var members) = content {
            members.append((name, child))
            content = .object(members)
        } else {
            content = .object([(name, child)])
        }
        return child
    }

    func append() -> EncodingNode {
        let child = EncodingNode()
        if case .array(var nodes) = content {
            nodes.append(child)
            content = .array(nodes)
        } else {
            content = .array([child])
        }
        return child
    }
}

private struct ValueEncoder: Encoder, SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.content {} else { node.content = .object([]) }
        return KeyedEncodingContainer(KeyedValueEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.content {} else { node.content = .array([]) }
        return UnkeyedValueEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    func encodeNil() throws { node.content = .value(.null) }
    func encode<T: Encodable>(_ value: T) throws {
        node.content = .value(try JSONValueEncoding.box(value, codingPath: codingPath))
    }
    private func put<T: Encodable>(_ value: T) throws {
        node.content = .value(try JSONValueEncoding.box(value, codingPath: codingPath))
    }
    func encode(_ value: Bool) throws { node.content = .value(.bool(value)) }
    func encode(_ value: String) throws { node.content = .value(.string(value)) }
    func encode(_ value: Double) throws { node.content = .value(.number(value)) }
    func encode(_ value: Float) throws { node.content = .value(.number(Double(value))) }
    func encode(_ value: Int) throws { try put(value) }
    func encode(_ value: Int8) throws { try put(value) }
    func encode(_ value: Int16) throws { try put(value) }
    func encode(_ value: Int32) throws { try put(value) }
    func encode(_ value: Int64) throws { try put(value) }
    func encode(_ value: UInt) throws { try put(value) }
    func encode(_ value: UInt8) throws { try put(value) }
    func encode(_ value: UInt16) throws { try put(value) }
    func encode(_ value: UInt32) throws { try put(value) }
    func encode(_ value: UInt64) throws { try put(value) }
}

private struct KeyedValueEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.add(key.stringValue).content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        node.add(key.stringValue).content = .value(try JSONValueEncoding.box(value, codingPath: codingPath + [key]))
    }
    private mutating func put<T: Encodable>(_ value: T, _ key: Key) throws {
        node.add(key.stringValue).content = .value(try JSONValueEncoding.box(value, codingPath: codingPath + [key]))
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: String, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try encode(Double(value), forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try put(value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try put(value, key) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        ValueEncoder(node: node.add(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(node: node.add(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { ValueEncoder(node: node.add("super"), codingPath: codingPath) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ValueEncoder(node: node.add(key.stringValue), codingPath: codingPath + [key])
    }
}

private struct UnkeyedValueEncoder: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    var count: Int {
        if case .array(let nodes) = node.content { return nodes.count }
        return 0
    }

    private var nextPath: [any CodingKey] { codingPath + [AnyKey(intValue: count)] }

    mutating func encodeNil() throws { node.append().content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = nextPath
        node.append().content = .value(try JSONValueEncoding.box(value, codingPath: path))
    }
    private mutating func put<T: Encodable>(_ value: T) throws {
        let path = nextPath
        node.append().content = .value(try JSONValueEncoding.box(value, codingPath: path))
    }
    mutating func encode(_ value: Bool) throws { try put(value) }
    mutating func encode(_ value: String) throws { try put(value) }
    mutating func encode(_ value: Double) throws { try put(value) }
    mutating func encode(_ value: Float) throws { try encode(Double(value)) }
    mutating func encode(_ value: Int) throws { try put(value) }
    mutating func encode(_ value: Int8) throws { try put(value) }
    mutating func encode(_ value: Int16) throws { try put(value) }
    mutating func encode(_ value: Int32) throws { try put(value) }
    mutating func encode(_ value: Int64) throws { try put(value) }
    mutating func encode(_ value: UInt) throws { try put(value) }
    mutating func encode(_ value: UInt8) throws { try put(value) }
    mutating func encode(_ value: UInt16) throws { try put(value) }
    mutating func encode(_ value: UInt32) throws { try put(value) }
    mutating func encode(_ value: UInt64) throws { try put(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let path = nextPath
        return ValueEncoder(node: node.append(), codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = nextPath
        return ValueEncoder(node: node.append(), codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let path = nextPath
        return ValueEncoder(node: node.append(), codingPath: path)
    }
}

// MARK: - JSONValue as a member

extension JSONValue: Codable {
    /// A free-form member (`parameters`, `environment`) decodes as it is from ``JSONValueDecoding``; other decoders
    /// go through the generic containers.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(JSONObject(try container.decode([String: JSONValue].self)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value):
            var members: [String: JSONValue] = [:]
            for (name, member) in value { members[name] = member }
            try container.encode(members)
        }
    }
}
