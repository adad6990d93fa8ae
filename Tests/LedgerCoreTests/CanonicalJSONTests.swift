import Foundation
import LedgerCore
import Testing

// Known answers come from cyberphone/json-canonicalization testdata/ (see Fixtures/jcs/SOURCE.md).

private let jcsVectorNames = ["arrays", "french", "structures", "unicode", "values", "weird"]

private enum JCSFixtureError: Error {
    case missing(String)
}

private func jcsFixture(_ relativePath: String) throws -> [UInt8] {
    guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
        throw JCSFixtureError.missing("Fixtures")
    }
    let url = root.appendingPathComponent("jcs").appendingPathComponent(relativePath)
    return [UInt8](try Data(contentsOf: url))
}

private func jcsText(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

/// One input the parser must reject, with the error code it must give.
private struct JCSRejection: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let code: String
    let offset: Int?

    init(_ name: String, _ text: String, _ code: String, at offset: Int? = nil) {
        self.name = name
        self.bytes = Array(text.utf8)
        self.code = code
        self.offset = offset
    }

    init(_ name: String, bytes: [UInt8], _ code: String, at offset: Int? = nil) {
        self.name = name
        self.bytes = bytes
        self.code = code
        self.offset = offset
    }

    var testDescription: String { name }
}

private let jcsRejections: [JCSRejection] = [
    // Syntax.
    JCSRejection("empty input", "", "json.syntax", at: 0),
    JCSRejection("only whitespace", " \n\t\r", "json.syntax", at: 4),
    JCSRejection("line comment", "// note\n1", "json.syntax", at: 0),
    JCSRejection("block comment", "/* note */ 1", "json.syntax", at: 0),
    JCSRejection("comment inside array", "[1 /* x */]", "json.syntax", at: 3),
    JCSRejection("trailing comma in array", "[1,]", "json.syntax", at: 3),
    JCSRejection("trailing comma in object", #"{"a":1,}"#, "json.syntax", at: 7),
    JCSRejection("empty array element", "[1,,2]", "json.syntax", at: 3),
    JCSRejection("leading comma in object", "{,}", "json.syntax", at: 1),
    JCSRejection("leading zero", "01", "json.syntax", at: 0),
    JCSRejection("negative leading zero", "-012", "json.syntax", at: 0),
    JCSRejection("double zero in array", "[00]", "json.syntax", at: 1),
    JCSRejection("bare decimal point", "1.", "json.syntax", at: 2),
    JCSRejection("leading decimal point", ".5", "json.syntax", at: 0),
    JCSRejection("plus sign", "+1", "json.syntax", at: 0),
    JCSRejection("empty exponent", "1e", "json.syntax", at: 2),
    JCSRejection("signed empty exponent", "1e+", "json.syntax", at: 3),
    JCSRejection("lone minus", "-", "json.syntax", at: 1),
    JCSRejection("hex number", "[0x10]", "json.syntax", at: 2),
    JCSRejection("NaN", "NaN", "json.syntax", at: 0),
    JCSRejection("Infinity", "Infinity", "json.syntax", at: 0),
    JCSRejection("negative Infinity", "[-Infinity]", "json.syntax", at: 1),
    JCSRejection("unescaped control character", "\"a\u{01}b\"", "json.syntax", at: 2),
    JCSRejection("unescaped tab", "\"a\tb\"", "json.syntax", at: 2),
    JCSRejection("unescaped newline after escape", "\"\\n\n\"", "json.syntax", at: 3),
    JCSRejection("unescaped NUL", "\"\u{00}\"", "json.syntax", at: 1),
    JCSRejection("invalid escape", #""\x""#, "json.syntax", at: 1),
    JCSRejection("short unicode escape", #""\u12""#, "json.syntax"),
    JCSRejection("bad hex in unicode escape", #""\u12G4""#, "json.syntax", at: 5),
    JCSRejection("single quotes", "'a'", "json.syntax", at: 0),
    JCSRejection("unquoted key", "{a:1}", "json.syntax", at: 1),
    JCSRejection("missing colon", #"{"a" 1}"#, "json.syntax", at: 5),
    JCSRejection("unterminated string", #""abc"#, "json.syntax", at: 0),
    JCSRejection("unterminated array", "[1", "json.syntax", at: 2),
    JCSRejection("unterminated object", #"{"a":1"#, "json.syntax", at: 6),
    JCSRejection("truncated literal", "tru", "json.syntax", at: 0),
    JCSRejection("capitalised literal", "True", "json.syntax", at: 0),
    JCSRejection("vertical tab is not whitespace", "\u{0B}1", "json.syntax", at: 0),
    JCSRejection("no-break space is not whitespace", "\u{A0}1", "json.syntax", at: 0),
    JCSRejection("byte order mark", bytes: [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], "json.syntax", at: 0),
    // Unicode.
    JCSRejection("lone high surrogate", #""\ud800""#, "json.invalidUnicode", at: 1),
    JCSRejection("lone low surrogate", #""\udc00""#, "json.invalidUnicode", at: 1),
    JCSRejection("high surrogate then non-surrogate", #""\ud800\u0041""#, "json.invalidUnicode", at: 1),
    JCSRejection("high surrogate then text", #""\uD83Dx""#, "json.invalidUnicode", at: 1),
    JCSRejection("reversed surrogate pair", #""\ude02\ud83d""#, "json.invalidUnicode", at: 1),
    JCSRejection("byte FF", bytes: [0x22, 0xFF, 0x22], "json.invalidUnicode", at: 1),
    JCSRejection("stray continuation byte", bytes: [0x22, 0x61, 0x80, 0x22], "json.invalidUnicode", at: 2),
    JCSRejection("overlong slash", bytes: [0x22, 0xC0, 0xAF, 0x22], "json.invalidUnicode", at: 1),
    JCSRejection("overlong three-byte", bytes: [0x22, 0xE0, 0x80, 0xAF, 0x22], "json.invalidUnicode", at: 1),
    JCSRejection("encoded surrogate", bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], "json.invalidUnicode", at: 1),
    JCSRejection("above U+10FFFF", bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "json.invalidUnicode", at: 1),
    JCSRejection("truncated sequence", bytes: [0x22, 0xE2, 0x82, 0x22], "json.invalidUnicode", at: 1),
    JCSRejection("sequence cut by end", bytes: [0x22, 0xF0, 0x9F], "json.invalidUnicode", at: 1),
    JCSRejection(
        "invalid UTF-8 after an escape",
        bytes: [0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22],
        "json.invalidUnicode",
        at: 3
    ),
    JCSRejection(
        "invalid UTF-8 in a key",
        bytes: [0x7B, 0x22, 0xFE, 0x22, 0x3A, 0x31, 0x7D],
        "json.invalidUnicode",
        at: 2
    ),
    // Duplicates.
    JCSRejection("duplicate key", #"{"a":1,"a":2}"#, "json.duplicateKey", at: 7),
    JCSRejection("duplicate key spelled with an escape", #"{"a":1,"\u0061":2}"#, "json.duplicateKey", at: 7),
    JCSRejection("nested duplicate key", #"[{"x":{"k":null,"j":0,"k":true}}]"#, "json.duplicateKey", at: 22),
    // Depth.
    JCSRejection(
        "129 nested arrays",
        String(repeating: "[", count: 129) + String(repeating: "]", count: 129),
        "json.depth",
        at: 128
    ),
    JCSRejection(
        "129 nested objects",
        String(repeating: #"{"a":"#, count: 129) + "1" + String(repeating: "}", count: 129),
        "json.depth",
        at: 640
    ),
    // Trailing data.
    JCSRejection("two values", "1 2", "json.trailingData", at: 2),
    JCSRejection("junk after object", "{} x", "json.trailingData", at: 3),
    JCSRejection("junk after literal", "nullx", "json.trailingData", at: 4),
    JCSRejection("comment after value", "[1]//", "json.trailingData", at: 3),
    JCSRejection("NUL after value", "{}\u{00}", "json.trailingData", at: 2),
    // Range.
    JCSRejection("overflowing number", "1e400", "json.numberOutOfRange", at: 0),
    JCSRejection("overflowing negative number", "[-1.8e308]", "json.numberOutOfRange", at: 1),
    JCSRejection("overflowing long integer", String(repeating: "9", count: 400), "json.numberOutOfRange", at: 0),
]

/// Whether `lhs` precedes `rhs` by UTF-16 code units, computed the slow, obvious way.
private func jcsUTF16Precedes(_ lhs: String, _ rhs: String) -> Bool {
    Array(lhs.utf16).lexicographicallyPrecedes(Array(rhs.utf16))
}

@Suite("Canonical JSON (RFC 8785) and strict parsing")
struct CanonicalJSONTests {
    @Test("cyberphone input/output pairs are byte-exact", arguments: jcsVectorNames)
    func knownAnswerPairs(name: String) throws {
        let input = try jcsFixture("input/\(name).json")
        let expected = try jcsFixture("output/\(name).json")
        #expect(jcsText(try CanonicalJSON.canonicalize(input)) == jcsText(expected))
        #expect(try CanonicalJSON.canonicalize(input) == expected)
        #expect(try CanonicalJSON.encode(CanonicalJSON.parse(jcsText(input))) == expected)
        // Canonical output is a fixed point.
        #expect(try CanonicalJSON.canonicalize(expected) == expected)
        #expect(try CanonicalJSON.parse(expected) == CanonicalJSON.parse(input))
    }

    @Test("10,000 ES6 number vectors format and parse exactly")
    func es6Numbers() throws {
        let lines = jcsText(try jcsFixture("es6numbers_first10000.txt")).split(separator: "\n")
        #expect(lines.count == 10_000)
        var failures: [String] = []
        for line in lines {
            let fields = line.split(separator: ",")
            guard fields.count == 2, let bits = UInt64(fields[0], radix: 16) else {
                failures.append("malformed line \(line)")
                continue
            }
            let value = Double(bitPattern: bits)
            let expected = String(fields[1])
            guard value.isFinite else {
                failures.append("non-finite vector \(line)")
                continue
            }
            let formatted = try CanonicalJSON.formatNumber(value)
            if formatted != expected {
                failures.append("\(fields[0]): got \(formatted), expected \(expected)")
            }
            if try CanonicalJSON.encode(.number(value)) != Array(expected.utf8) {
                failures.append("\(fields[0]): encode differs from formatNumber")
            }
            // The canonical text parses back to the same double (-0 aside, which is written "0").
            let parsed = try CanonicalJSON.parse(expected).doubleValue
            if parsed != value {
                failures.append("\(fields[0]): \(expected) parsed as \(String(describing: parsed))")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
    }

    @Test(
        "number formatting edge cases",
        arguments: [
            (0.0, "0"), (-0.0, "0"), (1, "1"), (-1, "-1"), (0.5, "0.5"), (-1.5, "-1.5"),
            (1e21, "1e+21"), (1e20, "100000000000000000000"), (123e18, "123000000000000000000"),
            (1e-6, "0.000001"), (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (123.456, "123.456"),
            (0.1 + 0.2, "0.30000000000000004"), (.leastNonzeroMagnitude, "5e-324"),
            (-.leastNonzeroMagnitude, "-5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"), (9_007_199_254_740_991, "9007199254740991"),
            (9_007_199_254_740_992, "9007199254740992"), (1_152_921_504_606_846_976, "1152921504606847000"),
            (333_333_333.333_333_29, "333333333.3333333"), (1e30, "1e+30"), (4.5, "4.5"), (2e-3, "0.002"),
            (1e-27, "1e-27"), (1.0e23, "1e+23"), (-1.2345e-10, "-1.2345e-10"),
        ] as [(Double, String)]
    )
    func numberEdgeCases(value: Double, expected: String) throws {
        #expect(try CanonicalJSON.formatNumber(value) == expected)
    }

    @Test("non-finite numbers cannot be encoded", arguments: [Double.nan, .infinity, -.infinity])
    func nonFinite(value: Double) {
        let formatError = #expect(throws: JSONError.self) { try CanonicalJSON.formatNumber(value) }
        #expect(formatError?.code == "json.nonFinite")
        #expect(formatError?.offset == nil)
        let encodeError = #expect(throws: JSONError.self) { try CanonicalJSON.encode(["a": [.number(value)]]) }
        #expect(encodeError?.code == "json.nonFinite")
    }

    @Test("the parser rejects what RFC 8259 does not allow", arguments: jcsRejections)
    fileprivate func rejections(_ rejection: JCSRejection) {
        let error = #expect(throws: JSONError.self) { try CanonicalJSON.parse(rejection.bytes) }
        #expect(error?.code == rejection.code, "\(String(describing: error))")
        if let offset = rejection.offset {
            #expect(error?.offset == offset, "\(String(describing: error))")
        }
        if let error {
            #expect(error.description.hasPrefix("invalid JSON at byte \(error.offset ?? -1): "))
            #expect(error.description.utf8.count < 160)
        }
    }

    @Test("errors describe themselves briefly")
    func errorDescriptions() {
        let duplicate = #expect(throws: JSONError.self) { try CanonicalJSON.parse(#"{"ab\n":1,"ab\n":2}"#) }
        #expect(duplicate?.description == #"invalid JSON at byte 10: duplicate object key "ab\n""#)
        let longKey = String(repeating: "k", count: 500)
        let long = #expect(throws: JSONError.self) {
            try CanonicalJSON.parse("{\"\(longKey)\":1,\"\(longKey)\":2}")
        }
        #expect(long?.reason.contains(String(repeating: "k", count: 40)) == true)
        #expect(long?.reason.contains(String(repeating: "k", count: 41)) == false)
        let comma = #expect(throws: JSONError.self) { try CanonicalJSON.parse("[1,]") }
        #expect(comma?.description == "invalid JSON at byte 3: a trailing comma is not allowed")
        let encoding = #expect(throws: JSONError.self) { try CanonicalJSON.encode(.number(.nan)) }
        #expect(encoding?.description.hasPrefix("invalid JSON: ") == true)
    }

    @Test("the parser accepts what RFC 8259 allows")
    func acceptance() throws {
        let deepest = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(try CanonicalJSON.canonicalize(Array(deepest.utf8)) == Array(deepest.utf8))
        #expect(try CanonicalJSON.parse(" \t\r\n 7 \t\r\n ") == 7)
        #expect(try CanonicalJSON.parse("\"\"") == "")
        #expect(try CanonicalJSON.parse("-0").doubleValue?.sign == .minus)
        #expect(try CanonicalJSON.parse("[1E2, 1e+2, 1.0e2, 10000e-2, 0.0]") == [100, 100, 100, 100, 0])
        #expect(try CanonicalJSON.parse("1e-400") == 0)  // underflow rounds to zero; only overflow is an error
        #expect(try CanonicalJSON.parse("123456789012345678901234567890") == 1.2345678901234568e29)
        #expect(try CanonicalJSON.parse("0.30000000000000004") == .number(0.1 + 0.2))
        #expect(
            try CanonicalJSON.parse("2.2250738585072011e-308") == .number(Double(bitPattern: 0x000F_FFFF_FFFF_FFFF))
        )
        let escapes = try CanonicalJSON.parse(#""\"\\\/\b\f\n\r\t\u0000\u00e9\uD83D\uDE02\uffff""#)
        #expect(escapes == .string("\"\\/\u{08}\u{0C}\n\r\t\u{00}\u{E9}\u{1F602}\u{FFFF}"))
        #expect(try CanonicalJSON.parse("\"\u{7F}\u{2028}é😂\"") == "\u{7F}\u{2028}é😂")
        // A collection without contiguous storage takes the copying path.
        #expect(try CanonicalJSON.parse(Array("[true,false,null]".utf8).lazy.map { $0 }) == [true, false, nil])
        #expect(try CanonicalJSON.parse("{\"a\":{},\"b\":[]}".utf8) == ["a": [:], "b": []])
    }

    @Test("strings are escaped minimally")
    func stringEscaping() throws {
        var controls = ""
        for scalar in 0..<0x20 {
            controls.unicodeScalars.append(Unicode.Scalar(UInt8(scalar)))
        }
        let expected =
            #""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f"#
            + #"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f""#
        #expect(jcsText(try CanonicalJSON.encode(.string(controls))) == expected)
        let literal = "\u{7F}\u{80}\u{2028}\u{2029}</script>'é😂\u{FEFF}"
        #expect(try CanonicalJSON.encode(.string(literal)) == Array("\"\(literal)\"".utf8))
        #expect(try CanonicalJSON.encode(#"a"b\c/d"#) == Array(#""a\"b\\c/d""#.utf8))
        var buffer: [UInt8] = Array("x".utf8)
        CanonicalJSON.appendString("tab\there", to: &buffer)
        #expect(jcsText(buffer) == #"x"tab\there""#)
    }

    @Test("object members sort by UTF-16 code units")
    func keyOrder() throws {
        let keys = [
            "\u{FB33}", "\u{10000}", "b", "a", "", "aa", "A", "\u{E000}", "\u{FFFF}", "\u{D7FF}", "\u{1F602}",
            "\u{80}", "\u{7F}", "\u{10FFFF}", "\u{20AC}", "a\u{0}", "\u{0}", "1", "10", "\u{F6}",
        ]
        var members: [String: JSONValue] = [:]
        for (index, key) in keys.enumerated() {
            members[key] = .number(Double(index))
        }
        let encoded = try CanonicalJSON.encode(.object(members))
        let expectedOrder = keys.sorted(by: jcsUTF16Precedes)
        var expected: [UInt8] = [UInt8(ascii: "{")]
        for (position, key) in expectedOrder.enumerated() {
            if position > 0 { expected.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(key, to: &expected)
            expected.append(UInt8(ascii: ":"))
            expected.append(contentsOf: try CanonicalJSON.formatNumber(members[key]?.doubleValue ?? -1).utf8)
        }
        expected.append(UInt8(ascii: "}"))
        #expect(jcsText(encoded) == jcsText(expected))
        // The case RFC 8785 calls out: U+10000 is D800 DC00 in UTF-16, so it precedes U+FB33.
        #expect(
            jcsText(try CanonicalJSON.encode(["\u{FB33}": 1, "\u{10000}": 2])) == "{\"\u{10000}\":2,\"\u{FB33}\":1}"
        )
        #expect(expectedOrder.firstIndex(of: "\u{10000}") ?? 99 < expectedOrder.firstIndex(of: "\u{FB33}") ?? 0)
        #expect(expectedOrder.firstIndex(of: "\u{1F602}") ?? 99 < expectedOrder.firstIndex(of: "\u{E000}") ?? 0)
    }

    @Test("canonical output round-trips")
    func roundTrip() throws {
        let value: JSONValue = [
            "v": 1,
            "log": "example.org/log",
            "seq": 12_345,
            "neg": -0.0,
            "big": 1e300,
            "small": .number(.leastNonzeroMagnitude),
            "frac": 0.1,
            "text": "line\nbreak \u{1} \u{7F} \u{2028} \u{10FFFF} \"q\" \\",
            "nested": ["a": [1, 2, ["b": nil, "c": [true, false]]], "": [:], "e": []],
            "\u{10000}": "astral",
            "\u{FB33}": "bmp",
        ]
        let canonical = try CanonicalJSON.encode(value)
        let reparsed = try CanonicalJSON.parse(canonical)
        #expect(reparsed == value)
        #expect(try CanonicalJSON.encode(reparsed) == canonical)
        #expect(try CanonicalJSON.canonicalize(canonical) == canonical)
        #expect(value.description == jcsText(canonical))
        var appended: [UInt8] = Array("prefix".utf8)
        try CanonicalJSON.append(value, to: &appended)
        #expect(appended == Array("prefix".utf8) + canonical)
    }

    @Test("JSONValue conveniences")
    func conveniences() {
        let value: JSONValue = ["s": "x", "b": true, "n": 2.5, "i": -42, "a": [1, nil], "o": ["k": "v"], "z": nil]
        #expect(value["s"]?.stringValue == "x")
        #expect(value["b"]?.boolValue == true)
        #expect(value["n"]?.doubleValue == 2.5)
        #expect(value["n"]?.integerValue == nil)
        #expect(value["i"]?.integerValue == -42)
        #expect(value["a"]?.arrayValue == [1, .null])
        #expect(value["o"]?.objectValue == ["k": "v"])
        #expect(value["o"]?["k"] == "v")
        #expect(value["z"] == .null)
        #expect(value["missing"] == nil)
        #expect(value["s"]?["k"] == nil)
        #expect(value["s"]?.boolValue == nil)
        #expect(JSONValue.number(9_007_199_254_740_992).integerValue == 9_007_199_254_740_992)
        #expect(JSONValue.number(-9_007_199_254_740_992).integerValue == -9_007_199_254_740_992)
        #expect(JSONValue.number(9_007_199_254_740_994).integerValue == nil)
        #expect(JSONValue.number(.infinity).integerValue == nil)
        #expect(JSONValue.number(.nan).integerValue == nil)
        #expect(JSONValue.number(-0.0).integerValue == 0)
        #expect(value.description == #"{"a":[1,null],"b":true,"i":-42,"n":2.5,"o":{"k":"v"},"s":"x","z":null}"#)
        #expect(JSONValue.array([.number(.nan), .number(-.infinity)]).description == "[NaN,-Infinity]")
        let duplicateLiteral: JSONValue = ["k": 1, "k": 2]
        #expect(duplicateLiteral == ["k": 2])
    }
}
