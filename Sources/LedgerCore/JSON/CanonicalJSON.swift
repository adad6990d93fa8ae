/// RFC 8785 JSON Canonicalization Scheme (JCS) and a strict RFC 8259 parser.
///
/// The encoder sorts object members by the UTF-16 code units of their keys, writes no whitespace, escapes strings
/// minimally and writes numbers as ECMAScript's `Number.prototype.toString` does. The parser accepts exactly
/// RFC 8259 JSON in UTF-8 and also rejects duplicate keys, lone surrogates and nesting deeper than
/// ``maximumDepth``. Keys are duplicates only when their code points are (after unescaping): keys that differ only
/// in Unicode normalization, such as `"é"` and `"e\u0301"`, are two members (see ``Identifier``).
public enum CanonicalJSON {
    /// The deepest nesting of arrays and objects that the parser accepts.
    public static let maximumDepth = 128

    /// RFC 8785 bytes of `value`. Throws for a non-finite number.
    public static func encode(_ value: JSONValue) throws(JSONError) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(512)
        try append(value, to: &buffer)
        return buffer
    }

    /// Appends the RFC 8785 bytes of `value` to `buffer`. Throws for a non-finite number, having possibly appended
    /// part of the value.
    public static func append(_ value: JSONValue, to buffer: inout [UInt8]) throws(JSONError) {
        switch value {
        case .null:
            appendASCII("null", to: &buffer)
        case .bool(let flag):
            appendASCII(flag ? "true" : "false", to: &buffer)
        case .number(let number):
            guard number.isFinite else { throw JSONError.nonFinite }
            appendFiniteNumber(number, to: &buffer)
        case .string(let string):
            appendString(string, to: &buffer)
        case .array(let elements):
            buffer.append(JSONByte.leftBracket)
            var first = true
            for element in elements {
                if !first { buffer.append(JSONByte.comma) }
                first = false
                try append(element, to: &buffer)
            }
            buffer.append(JSONByte.rightBracket)
        case .object(let members):
            buffer.append(JSONByte.leftBrace)
            if members.count == 1 {
                for (key, member) in members {
                    appendString(key, to: &buffer)
                    buffer.append(JSONByte.colon)
                    try append(member, to: &buffer)
                }
            } else if !members.isEmpty {
                var first = true
                for (key, member) in sortedMembers(members) {
                    if !first { buffer.append(JSONByte.comma) }
                    first = false
                    appendString(key, to: &buffer)
                    buffer.append(JSONByte.colon)
                    try append(member, to: &buffer)
                }
            }
            buffer.append(JSONByte.rightBrace)
        }
    }

    /// Appends a JSON string literal with JCS escaping: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls
    /// below U+0020 as `\u00xx` (lowercase hex), everything else as literal UTF-8.
    public static func appendString(_ string: String, to buffer: inout [UInt8]) {
        var string = string
        string.withUTF8 { appendEscaped($0, to: &buffer) }
    }

    /// Strict RFC 8259 parse of UTF-8 bytes.
    ///
    /// Rejects comments, trailing commas, leading zeros, `NaN` and `Infinity`, unescaped control characters, lone
    /// surrogates, invalid UTF-8, a byte order mark, duplicate object keys, nesting deeper than ``maximumDepth``,
    /// numbers beyond the range of `Double`, and anything but whitespace after the value.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONError) -> JSONValue {
        let result = bytes.withContiguousStorageIfAvailable { JSONParser.parse($0) }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { JSONParser.parse($0) }.get()
    }

    /// Strict RFC 8259 parse of the UTF-8 form of `text`, by the rules of the byte-oriented `parse`.
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        var text = text
        return try text.withUTF8 { JSONParser.parse($0) }.get()
    }

    /// Parses `bytes` strictly, then encodes the value canonically.
    public static func canonicalize(_ bytes: some Collection<UInt8>) throws(JSONError) -> [UInt8] {
        try encode(parse(bytes))
    }

    /// The ECMAScript `Number.prototype.toString` form of a finite double (RFC 8785 §3.2.2.3). Throws for NaN and
    /// the infinities.
    public static func formatNumber(_ value: Double) throws(JSONError) -> String {
        guard value.isFinite else { throw JSONError.nonFinite }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(32)
        appendFiniteNumber(value, to: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}

// MARK: - Encoder internals

extension CanonicalJSON {
    /// Like ``append(_:to:)`` but writes a non-finite number as `NaN`, `Infinity` or `-Infinity` instead of
    /// throwing; for `description`.
    static func appendLenient(_ value: JSONValue, to buffer: inout [UInt8]) {
        switch value {
        case .null, .bool, .string:
            do { try append(value, to: &buffer) } catch { return }
        case .number(let number):
            if number.isFinite {
                appendFiniteNumber(number, to: &buffer)
            } else if number.isNaN {
                appendASCII("NaN", to: &buffer)
            } else {
                appendASCII(number < 0 ? "-Infinity" : "Infinity", to: &buffer)
            }
        case .array(let elements):
            buffer.append(JSONByte.leftBracket)
            for (index, element) in elements.enumerated() {
                if index > 0 { buffer.append(JSONByte.comma) }
                appendLenient(element, to: &buffer)
            }
            buffer.append(JSONByte.rightBracket)
        case .object(let members):
            buffer.append(JSONByte.leftBrace)
            for (index, (key, member)) in sortedMembers(members).enumerated() {
                if index > 0 { buffer.append(JSONByte.comma) }
                appendString(key, to: &buffer)
                buffer.append(JSONByte.colon)
                appendLenient(member, to: &buffer)
            }
            buffer.append(JSONByte.rightBrace)
        }
    }

    @inline(__always)
    private static func appendASCII(_ text: StaticString, to buffer: inout [UInt8]) {
        text.withUTF8Buffer { buffer.append(contentsOf: $0) }
    }

    /// The members in RFC 8785 order: by the UTF-16 code units of the keys.
    static func sortedMembers(_ members: JSONObject) -> [(key: String, value: JSONValue)] {
        var entries = Array(members)
        guard entries.count <= 16 else {
            entries.sort { keyPrecedes($0.key, $1.key) }
            return entries
        }
        // Insertion sort by swapping in place: no retain and release traffic for the moves.
        entries.withUnsafeMutableBufferPointer { entries in
            for index in entries.indices.dropFirst() {
                var current = index
                while current > 0 && keyPrecedes(entries[current].key, entries[current - 1].key) {
                    entries.swapAt(current, current - 1)
                    current -= 1
                }
            }
        }
        return entries
    }

    /// Whether `lhs` sorts before `rhs` by UTF-16 code units.
    static func keyPrecedes(_ lhs: String, _ rhs: String) -> Bool {
        let fast = lhs.utf8.withContiguousStorageIfAvailable { left in
            rhs.utf8.withContiguousStorageIfAvailable { right in utf16Precedes(left, right) }
        }
        if let fast, let result = fast { return result }
        var lhs = lhs
        var rhs = rhs
        return lhs.withUTF8 { left in rhs.withUTF8 { right in utf16Precedes(left, right) } }
    }

    /// Compares two valid UTF-8 sequences in UTF-16 code unit order without transcoding.
    ///
    /// UTF-8 byte order is code point order, which differs from UTF-16 order only in that U+E000...U+FFFF (lead
    /// bytes EE and EF) sort after the supplementary planes (lead bytes F0...F4, surrogates in UTF-16). Bytes of two
    /// valid sequences that agree on a prefix stay aligned on character boundaries, so remapping those two lead
    /// bytes above F4 at the first difference is enough.
    static func utf16Precedes(_ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>) -> Bool {
        let common = Swift.min(lhs.count, rhs.count)
        var index = 0
        while index < common {
            let left = lhs[index]
            let right = rhs[index]
            if left != right {
                return utf16Rank(left) < utf16Rank(right)
            }
            index += 1
        }
        return lhs.count < rhs.count
    }

    @inline(__always)
    private static func utf16Rank(_ byte: UInt8) -> UInt8 {
        byte == 0xEE || byte == 0xEF ? byte &+ 0x10 : byte
    }

    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        buffer.append(JSONByte.quote)
        var runStart = 0
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte >= 0x20 && byte != JSONByte.quote && byte != JSONByte.backslash {
                index += 1
                continue
            }
            if runStart < index {
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            }
            buffer.append(JSONByte.backslash)
            switch byte {
            case JSONByte.quote, JSONByte.backslash: buffer.append(byte)
            case 0x08: buffer.append(UInt8(ascii: "b"))
            case 0x09: buffer.append(UInt8(ascii: "t"))
            case 0x0A: buffer.append(UInt8(ascii: "n"))
            case 0x0C: buffer.append(UInt8(ascii: "f"))
            case 0x0D: buffer.append(UInt8(ascii: "r"))
            default:
                buffer.append(UInt8(ascii: "u"))
                buffer.append(JSONByte.zero)
                buffer.append(JSONByte.zero)
                buffer.append(hexDigit(byte >> 4))
                buffer.append(hexDigit(byte & 0x0F))
            }
            index += 1
            runStart = index
        }
        if runStart < count {
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<count]))
        }
        buffer.append(JSONByte.quote)
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? JSONByte.zero &+ nibble : UInt8(ascii: "a") &+ (nibble &- 10)
    }

    /// Appends the ECMAScript form of a finite `value` (ECMA-262 Number::toString, radix 10).
    static func appendFiniteNumber(_ value: Double, to buffer: inout [UInt8]) {
        if value == 0 {
            buffer.append(JSONByte.zero)  // both +0 and -0
            return
        }
        // Integers below 2^53 are their own shortest round-trip digits.
        if value.magnitude < 9_007_199_254_740_992, value.rounded(.towardZero) == value {
            appendInteger(Int64(value), to: &buffer)
            return
        }
        // Swift's description has the shortest round-trip digits, nearest to the value; only the layout differs.
        var text = value.description
        text.withUTF8 { appendReformatted($0, to: &buffer) }
    }

    private static func appendInteger(_ value: Int64, to buffer: inout [UInt8]) {
        var magnitude = value.magnitude
        if value < 0 { buffer.append(JSONByte.minus) }
        let start = buffer.count
        repeat {
            buffer.append(JSONByte.zero &+ UInt8(truncatingIfNeeded: magnitude % 10))
            magnitude /= 10
        } while magnitude != 0
        buffer[start...].reverse()
    }

    /// Re-lays Swift's description of a finite non-zero double (`-1.5`, `1e-05`, `1.2345e+20`, `0.001`) in the
    /// ECMAScript layout.
    private static func appendReformatted(_ text: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        var index = 0
        if index < text.count, text[index] == JSONByte.minus {
            buffer.append(JSONByte.minus)
            index += 1
        }
        // The mantissa: digits with at most one '.'.
        let mantissaStart = index
        var dot = -1
        while index < text.count, text[index] != UInt8(ascii: "e"), text[index] != UInt8(ascii: "E") {
            if text[index] == JSONByte.dot { dot = index }
            index += 1
        }
        let mantissaEnd = index
        var exponent = 0
        if index < text.count {
            index += 1
            var negative = false
            if index < text.count, text[index] == JSONByte.minus || text[index] == JSONByte.plus {
                negative = text[index] == JSONByte.minus
                index += 1
            }
            while index < text.count {
                exponent = exponent * 10 + Int(text[index] &- JSONByte.zero)
                index += 1
            }
            if negative { exponent = -exponent }
        }
        // Gather the significant digits (at most 17) without leading or trailing zeros.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits, one per byte
        var count = 0
        var integerDigits = 0  // digits of the mantissa before its '.', leading zeros included
        var leadingZeros = 0
        var position = mantissaStart
        while position < mantissaEnd {
            let byte = text[position]
            position += 1
            if byte == JSONByte.dot { continue }
            if dot < 0 || position - 1 < dot { integerDigits += 1 }
            if count == 0 && byte == JSONByte.zero {
                leadingZeros += 1
                continue
            }
            if count < 24 {
                withUnsafeMutableBytes(of: &digits) { $0[count] = byte }
                count += 1
            }
        }
        withUnsafeBytes(of: &digits) { raw in
            var k = count
            while k > 1 && raw[k - 1] == JSONByte.zero { k -= 1 }
            // value = 0.d1d2...dk × 10^n
            let n = integerDigits - leadingZeros + exponent
            let digit = { (position: Int) in raw[position] }
            if k <= n && n <= 21 {
                for position in 0..<k { buffer.append(digit(position)) }
                for _ in k..<n { buffer.append(JSONByte.zero) }
            } else if 0 < n && n <= 21 {
                for position in 0..<n { buffer.append(digit(position)) }
                buffer.append(JSONByte.dot)
                for position in n..<k { buffer.append(digit(position)) }
            } else if -6 < n && n <= 0 {
                buffer.append(JSONByte.zero)
                buffer.append(JSONByte.dot)
                for _ in 0 ..< -n { buffer.append(JSONByte.zero) }
                for position in 0..<k { buffer.append(digit(position)) }
            } else {
                buffer.append(digit(0))
                if k > 1 {
                    buffer.append(JSONByte.dot)
                    for position in 1..<k { buffer.append(digit(position)) }
                }
                buffer.append(UInt8(ascii: "e"))
                let e = n - 1
                buffer.append(e < 0 ? JSONByte.minus : JSONByte.plus)
                appendInteger(Int64(e.magnitude), to: &buffer)
            }
        }
    }
}

/// ASCII bytes the JSON encoder and parser use.
enum JSONByte {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let slash = UInt8(ascii: "/")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let leftBracket = UInt8(ascii: "[")
    static let rightBracket = UInt8(ascii: "]")
    static let leftBrace = UInt8(ascii: "{")
    static let rightBrace = UInt8(ascii: "}")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
}

// MARK: - Errors

/// Why a JSON text was rejected, or why a value could not be encoded.
///
/// `code` is stable and meant for programs; `reason` is for people and may change.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Sendable, Hashable {
        case syntax(String)
        case duplicateKey(String)
        case invalidUnicode(String)
        case depth
        case trailingData
        case nonFinite
        case numberOutOfRange
    }

    private let kind: Kind

    /// The byte offset from the start of the input where the problem was found; nil for encoding errors.
    public let offset: Int?

    private init(_ kind: Kind, offset: Int?) {
        self.kind = kind
        self.offset = offset
    }

    static func syntax(_ reason: String, offset: Int) -> JSONError { JSONError(.syntax(reason), offset: offset) }
    /// `quotedKey` is already quoted and shortened for a message.
    static func duplicateKey(_ quotedKey: String, offset: Int) -> JSONError {
        JSONError(.duplicateKey(quotedKey), offset: offset)
    }
    static func invalidUnicode(_ reason: String, offset: Int) -> JSONError {
        JSONError(.invalidUnicode(reason), offset: offset)
    }
    static func depth(offset: Int) -> JSONError { JSONError(.depth, offset: offset) }
    static func trailingData(offset: Int) -> JSONError { JSONError(.trailingData, offset: offset) }
    static func numberOutOfRange(offset: Int) -> JSONError { JSONError(.numberOutOfRange, offset: offset) }
    static let nonFinite = JSONError(.nonFinite, offset: nil)

    /// A stable identifier: `json.syntax`, `json.duplicateKey`, `json.invalidUnicode`, `json.depth`,
    /// `json.trailingData`, `json.nonFinite` or `json.numberOutOfRange`.
    public var code: String {
        switch kind {
        case .syntax: "json.syntax"
        case .duplicateKey: "json.duplicateKey"
        case .invalidUnicode: "json.invalidUnicode"
        case .depth: "json.depth"
        case .trailingData: "json.trailingData"
        case .nonFinite: "json.nonFinite"
        case .numberOutOfRange: "json.numberOutOfRange"
        }
    }

    /// What went wrong, for people.
    public var reason: String {
        switch kind {
        case .syntax(let reason): reason
        case .duplicateKey(let key): "duplicate object key \(key)"
        case .invalidUnicode(let reason): reason
        case .depth: "nesting deeper than \(CanonicalJSON.maximumDepth) levels"
        case .trailingData: "unexpected data after the JSON value"
        case .nonFinite: "a number must be finite (NaN and infinities have no JSON form)"
        case .numberOutOfRange: "number is outside the range of a 64-bit double"
        }
    }

    public var description: String {
        if let offset { return "invalid JSON at byte \(offset): \(reason)" }
        return "invalid JSON: \(reason)"
    }
}
