/// A strict RFC 8259 recursive-descent parser over contiguous UTF-8 bytes; `CanonicalJSON.parse` documents the
/// rules.
struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var depth = 0
    /// Reused for strings with escapes.
    private var scratch: [UInt8] = []

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONError> {
        var parser = JSONParser(bytes: bytes)
        do throws(JSONError) {
            return .success(try parser.parseDocument())
        } catch {
            return .failure(error)
        }
    }

    private mutating func parseDocument() throws(JSONError) -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            throw syntax("a byte order mark is not allowed", at: 0)
        }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if position < bytes.count {
            throw JSONError.trailingData(offset: position)
        }
        return value
    }

    // MARK: Values

    private mutating func parseValue() throws(JSONError) -> JSONValue {
        guard position < bytes.count else {
            throw syntax("unexpected end of input, expected a value", at: position)
        }
        switch bytes[position] {
        case JSONByte.quote:
            return .string(try parseString())
        case JSONByte.leftBrace:
            return try parseObject()
        case JSONByte.leftBracket:
            return try parseArray()
        case JSONByte.minus, JSONByte.zero...JSONByte.nine:
            return .number(try parseNumber())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        default:
            throw unexpected(expecting: "a value")
        }
    }

    private mutating func parseObject() throws(JSONError) -> JSONValue {
        try enterContainer()
        position += 1  // '{'
        skipWhitespace()
        if position < bytes.count, bytes[position] == JSONByte.rightBrace {
            position += 1
            depth -= 1
            return .object([:])
        }
        // One allocation for typical objects instead of regrowing at 1, 3 and 6 members.
        var members = JSONObject(minimumCapacity: 8)
        while true {
            guard position < bytes.count, bytes[position] == JSONByte.quote else {
                throw unexpected(expecting: "a string key")
            }
            let keyOffset = position
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == JSONByte.colon else {
                throw unexpected(expecting: "':'")
            }
            position += 1
            skipWhitespace()
            let value = try parseValue()
            if members.updateValue(value, forKey: key) != nil {
                throw JSONError.duplicateKey(Self.quotedForMessage(key), offset: keyOffset)
            }
            skipWhitespace()
            guard position < bytes.count else { throw unexpected(expecting: "',' or '}'") }
            let byte = bytes[position]
            position += 1
            if byte == JSONByte.rightBrace { break }
            guard byte == JSONByte.comma else {
                position -= 1
                throw unexpected(expecting: "',' or '}'")
            }
            skipWhitespace()
            if position < bytes.count, bytes[position] == JSONByte.rightBrace {
                throw syntax("a trailing comma is not allowed", at: position)
            }
        }
        depth -= 1
        return .object(members)
    }

    private mutating func parseArray() throws(JSONError) -> JSONValue {
        try enterContainer()
        position += 1  // '['
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == JSONByte.rightBracket {
            position += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw unexpected(expecting: "',' or ']'") }
            let byte = bytes[position]
            position += 1
            if byte == JSONByte.rightBracket { break }
            guard byte == JSONByte.comma else {
                position -= 1
                throw unexpected(expecting: "',' or ']'")
            }
            skipWhitespace()
            if position < bytes.count, bytes[position] == JSONByte.rightBracket {
                throw syntax("a trailing comma is not allowed", at: position)
            }
        }
        depth -= 1
        return .array(elements)
    }

    @inline(__always)
    private mutating func enterContainer() throws(JSONError) {
        depth += 1
        if depth > CanonicalJSON.maximumDepth {
            throw JSONError.depth(offset: position)
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let start = position
        let matched = literal.withUTF8Buffer { expected -> Bool in
            guard bytes.count - start >= expected.count else { return false }
            for index in 0..<expected.count where bytes[start + index] != expected[index] {
                return false
            }
            return true
        }
        guard matched else { throw unexpected(expecting: "a value") }
        position += literal.utf8CodeUnitCount
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case JSONByte.space, JSONByte.newline, JSONByte.carriageReturn, JSONByte.tab: position += 1
            default: return
            }
        }
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote.
    private mutating func parseString() throws(JSONError) -> String {
        let open = position
        var index = open + 1
        let count = bytes.count
        // Fast path: no escapes, so the string is a slice of the input.
        while index < count {
            let byte = bytes[index]
            if byte == JSONByte.quote {
                position = index + 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[(open + 1)..<index]), as: UTF8.self)
            }
            if byte == JSONByte.backslash { break }
            if byte < 0x20 { throw controlCharacter(byte, at: index) }
            index = byte < 0x80 ? index + 1 : try validateUTF8Sequence(at: index)
        }
        guard index < count else { throw syntax("unterminated string", at: open) }
        // Slow path: decode escapes into the scratch buffer.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(open + 1)..<index]))
        while index < count {
            let byte = bytes[index]
            if byte == JSONByte.quote {
                position = index + 1
                return scratch.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
            }
            if byte == JSONByte.backslash {
                index = try decodeEscape(at: index)
                continue
            }
            if byte < 0x20 { throw controlCharacter(byte, at: index) }
            if byte < 0x80 {
                scratch.append(byte)
                index += 1
            } else {
                let end = try validateUTF8Sequence(at: index)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<end]))
                index = end
            }
        }
        throw syntax("unterminated string", at: open)
    }

    /// Decodes the escape at `index` (a backslash) into `scratch`; returns the index after it.
    private mutating func decodeEscape(at index: Int) throws(JSONError) -> Int {
        guard index + 1 < bytes.count else { throw syntax("unterminated string", at: index) }
        let escaped = bytes[index + 1]
        let replacement: UInt8
        switch escaped {
        case JSONByte.quote, JSONByte.backslash, JSONByte.slash: replacement = escaped
        case UInt8(ascii: "b"): replacement = 0x08
        case UInt8(ascii: "f"): replacement = 0x0C
        case UInt8(ascii: "n"): replacement = 0x0A
        case UInt8(ascii: "r"): replacement = 0x0D
        case UInt8(ascii: "t"): replacement = 0x09
        case UInt8(ascii: "u"):
            let unit = try hexQuad(at: index + 2)
            var scalar = UInt32(unit)
            var end = index + 6
            if (0xD800...0xDBFF).contains(unit) {
                guard end + 1 < bytes.count, bytes[end] == JSONByte.backslash, bytes[end + 1] == UInt8(ascii: "u")
                else {
                    throw loneSurrogate(unit, at: index)
                }
                let low = try hexQuad(at: end + 2)
                guard (0xDC00...0xDFFF).contains(low) else { throw loneSurrogate(unit, at: index) }
                scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                end += 6
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw loneSurrogate(unit, at: index)
            }
            appendUTF8(scalar)
            return end
        default:
            throw syntax("invalid escape \(Self.describeByte(escaped)) in string", at: index)
        }
        scratch.append(replacement)
        return index + 2
    }

    private func hexQuad(at index: Int) throws(JSONError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw syntax("incomplete \\u escape", at: index - 2) }
        var unit: UInt16 = 0
        for offset in 0..<4 {
            let byte = bytes[index + offset]
            let nibble: UInt8
            switch byte {
            case JSONByte.zero...JSONByte.nine: nibble = byte - JSONByte.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: throw syntax("invalid hex digit in \\u escape", at: index + offset)
            }
            unit = unit << 4 | UInt16(nibble)
        }
        return unit
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case ..<0x80:
            scratch.append(UInt8(truncatingIfNeeded: scalar))
        case ..<0x800:
            scratch.append(0xC0 | UInt8(truncatingIfNeeded: scalar >> 6))
            scratch.append(0x80 | UInt8(truncatingIfNeeded: scalar & 0x3F))
        case ..<0x10000:
            scratch.append(0xE0 | UInt8(truncatingIfNeeded: scalar >> 12))
            scratch.append(0x80 | UInt8(truncatingIfNeeded: (scalar >> 6) & 0x3F))
            scratch.append(0x80 | UInt8(truncatingIfNeeded: scalar & 0x3F))
        default:
            scratch.append(0xF0 | UInt8(truncatingIfNeeded: scalar >> 18))
            scratch.append(0x80 | UInt8(truncatingIfNeeded: (scalar >> 12) & 0x3F))
            scratch.append(0x80 | UInt8(truncatingIfNeeded: (scalar >> 6) & 0x3F))
            scratch.append(0x80 | UInt8(truncatingIfNeeded: scalar & 0x3F))
        }
    }

    /// Validates the multi-byte UTF-8 sequence whose lead byte is at `index` (Unicode Table 3-7: no overlong forms,
    /// no surrogates, nothing above U+10FFFF); returns the index after it.
    private func validateUTF8Sequence(at index: Int) throws(JSONError) -> Int {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
        default:
            throw invalidUTF8(at: index)
        }
        guard index + length <= bytes.count else { throw invalidUTF8(at: index) }
        let second = bytes[index + 1]
        guard second >= low && second <= high else { throw invalidUTF8(at: index) }
        var next = index + 2
        while next < index + length {
            guard bytes[next] & 0xC0 == 0x80 else { throw invalidUTF8(at: index) }
            next += 1
        }
        return next
    }

    // MARK: Numbers

    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Parses `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` into the nearest double.
    private mutating func parseNumber() throws(JSONError) -> Double {
        let start = position
        let count = bytes.count
        var index = position
        var negative = false
        if bytes[index] == JSONByte.minus {
            negative = true
            index += 1
        }
        // Up to 19 significant digits, exactly; `dropped` says whether any non-zero digit did not fit.
        var significand: UInt64 = 0
        var digitCount = 0
        var dropped = false
        var exponent = 0  // decimal exponent to apply to `significand`
        guard index < count, bytes[index] >= JSONByte.zero, bytes[index] <= JSONByte.nine else {
            if index < count, bytes[index] == UInt8(ascii: "I") {
                throw syntax("Infinity is not allowed", at: start)
            }
            throw syntax("expected a digit", at: index)
        }
        if bytes[index] == JSONByte.zero {
            index += 1
            if index < count, bytes[index] >= JSONByte.zero, bytes[index] <= JSONByte.nine {
                throw syntax("a number must not have leading zeros", at: start)
            }
        } else {
            while index < count, bytes[index] >= JSONByte.zero, bytes[index] <= JSONByte.nine {
                let digit = bytes[index] - JSONByte.zero
                if digitCount < 19 {
                    significand = significand * 10 + UInt64(digit)
                    digitCount += 1
                } else {
                    exponent += 1
                    if digit != 0 { dropped = true }
                }
                index += 1
            }
        }
        if index < count, bytes[index] == JSONByte.dot {
            index += 1
            guard index < count, bytes[index] >= JSONByte.zero, bytes[index] <= JSONByte.nine else {
                throw syntax("expected a digit after the decimal point", at: index)
            }
            while index < count, bytes[index] >= JSONByte.zero, bytes[index] <= JSONByte.nine {
                let digit = bytes[index] - JSONByte.zero
                if significand == 0 && digit == 0 {
                    exponent -= 1
                } else if digitCount < 19 {
                    significand = significand * 10 + UInt64(digit)
                    digitCount += 1
                    exponent -= 1
                } else if digit != 0 {
                    dropped = true
                }
                index += 1
            }
        }
        if index < count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var exponentNegative = false
            if index < count, bytes[index] == JSONByte.plus || bytes[index] == JSONByte.minus {
                exponentNegative = bytes[index] == JSONByte.minus
                index += 1
            }
            guard index < count, bytes[index] >= JSONByte.zero, bytes[index] <= JSONByte.nine else {
                throw syntax("expected a digit in the exponent", at: index)
            }
            var written = 0
            while index < count, bytes[index] >= JSONByte.zero, bytes[index] <= JSONByte.nine {
                if written < 100_000_000 { written = written * 10 + Int(bytes[index] - JSONByte.zero) }
                index += 1
            }
            exponent += exponentNegative ? -written : written
        }
        position = index

        if significand == 0 { return negative ? -0.0 : 0.0 }
        // Clinger's fast path: both the significand and the power of ten are exact doubles, so one rounding.
        if !dropped, significand < (1 << 53), exponent >= -22, exponent <= 22 {
            let magnitude =
                exponent < 0
                ? Double(significand) / Self.exactPowersOfTen[-exponent]
                : Double(significand) * Self.exactPowersOfTen[exponent]
            return negative ? -magnitude : magnitude
        }
        // Otherwise the standard library's correctly rounded conversion of the (already validated) text.
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw JSONError.numberOutOfRange(offset: start)
        }
        return value
    }

    // MARK: Errors

    private func syntax(_ reason: String, at offset: Int) -> JSONError {
        JSONError.syntax(reason, offset: offset)
    }

    /// An error for the byte at `position`, which is not what the grammar allows there.
    private func unexpected(expecting expected: String) -> JSONError {
        guard position < bytes.count else {
            return syntax("unexpected end of input, expected \(expected)", at: position)
        }
        let byte = bytes[position]
        let reason: String
        switch byte {
        case JSONByte.slash:
            reason = "comments are not allowed"
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            reason = "NaN and Infinity are not allowed"
        case UInt8(ascii: "'"):
            reason = "strings must use double quotes"
        case 0x80...:
            reason = "unexpected byte \(Self.describeByte(byte)), expected \(expected)"
        default:
            reason = "unexpected character \(Self.describeByte(byte)), expected \(expected)"
        }
        return syntax(reason, at: position)
    }

    private func controlCharacter(_ byte: UInt8, at offset: Int) -> JSONError {
        syntax("unescaped control character \(Self.describeByte(byte)) in string", at: offset)
    }

    private func invalidUTF8(at offset: Int) -> JSONError {
        JSONError.invalidUnicode("invalid UTF-8 starting with \(Self.describeByte(bytes[offset]))", offset: offset)
    }

    private func loneSurrogate(_ unit: UInt16, at offset: Int) -> JSONError {
        let hex = String(unit, radix: 16, uppercase: true)
        return JSONError.invalidUnicode("lone surrogate \\u\(hex) in string", offset: offset)
    }

    /// A short printable form of one byte: `'x'` for printable ASCII, `0x1F` otherwise.
    private static func describeByte(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0x0\(hex)" : "0x\(hex)"
    }

    /// A key for an error message: JSON-quoted and cut to 40 characters.
    private static func quotedForMessage(_ key: String) -> String {
        var buffer: [UInt8] = []
        if key.count > 40 {
            CanonicalJSON.appendString(String(key.prefix(40)), to: &buffer)
            buffer.removeLast()
            buffer.append(contentsOf: "…\"".utf8)
        } else {
            CanonicalJSON.appendString(key, to: &buffer)
        }
        return String(decoding: buffer, as: UTF8.self)
    }
}
