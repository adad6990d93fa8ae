import Foundation
import LedgerML
import LedgerTesting
import Testing

@Suite("NumericCSV")
struct NumericCSVTests {
    static func parse(
        _ text: String,
        label: String? = "label",
        ignoring: Set<String> = []
    ) throws(MLError) -> (matrix: FeatureMatrix, labels: [UInt8]?) {
        try NumericCSV.parse(Array(text.utf8), labelColumn: label, ignoring: ignoring)
    }

    @Test("features in header order, the label column apart, ignored columns skipped")
    func basic() throws {
        let (matrix, labels) = try Self.parse("a,label,holdout,b\n1.5,0,x,-2\n3,1,,4e2\n", ignoring: ["holdout"])
        #expect(matrix.featureNames == ["a", "b"])
        #expect(matrix.rows == 2)
        #expect(matrix.values == [1.5, -2, 3, 400])
        #expect(labels == [0, 1])
    }

    @Test(
        "line endings, a missing final newline, trailing blank lines and a byte order mark",
        arguments: [
            "x,label\n1,0\n2,1\n", "x,label\r\n1,0\r\n2,1\r\n", "x,label\n1,0\n2,1", "x,label\r\n1,0\r\n2,1",
            "x,label\n1,0\n2,1\n\n\r\n", "\u{FEFF}x,label\n1,0\n2,1\n", "x,label\n1,false\n2,true\n",
        ]
    )
    func lineEndings(text: String) throws {
        let (matrix, labels) = try Self.parse(text)
        #expect(matrix.values == [1, 2])
        #expect(matrix.featureNames == ["x"])
        #expect(labels == [0, 1])
    }

    @Test("without a label column every column is a feature and labels are nil")
    func noLabel() throws {
        let (matrix, labels) = try Self.parse("a,b\n1,2\n", label: nil)
        #expect(matrix.featureNames == ["a", "b"])
        #expect(labels == nil)
    }

    @Test("a header with no rows gives an empty matrix")
    func headerOnly() throws {
        let (matrix, labels) = try Self.parse("a,label\n")
        #expect(matrix.rows == 0)
        #expect(labels == [])
    }

    @Test(
        "number syntax accepted",
        arguments: [
            ("0", 0.0), ("-0", -0.0), ("+1.5E+3", 1500), (".5", 0.5), ("5.", 5), ("1e-5", 0.00001),
            ("123456789012345678901234567890", 123_456_789_012_345_678_901_234_567_890.0),
            ("4.9e-324", .leastNonzeroMagnitude), ("1.7976931348623157e308", 1.797_693_134_862_315_7e308),
            ("4503599627370496.5", 4_503_599_627_370_496), ("4503599627370497.5", 4_503_599_627_370_498),
            ("9007199254740993", 9_007_199_254_740_992), ("0.000000000000000000000000000001", 1e-30),
        ] as [(String, Double)]
    )
    func numbers(text: String, expected: Double) throws {
        let (matrix, _) = try Self.parse("x\n\(text)\n", label: nil)
        #expect(matrix.values[0].bitPattern == expected.bitPattern, "\(text)")
    }

    @Test("every double round-trips through its 17-significant-digit and shortest text")
    func roundTrip() throws {
        var random = TestRandom(seed: 7)
        var originals: [Double] = []
        while originals.count < 20_000 {
            let candidate: Double
            switch originals.count % 4 {
            case 0: candidate = Double(bitPattern: random.next())
            case 1: candidate = (random.unit() - 0.5) * pow(10, Double(random.int(below: 40) - 20))
            case 2: candidate = Double(random.int(below: 1 << 30)) / 1024
            default: candidate = Double(4_503_599_627_370_496 + random.int(below: 1 << 30)) + 0.5
            }
            if candidate.isFinite { originals.append(candidate) }
        }
        for format in ["%.17g", "shortest", "%.6e"] {
            let cells = originals.map { format == "shortest" ? "\($0)" : String(format: format, $0) }
            let text = "x\n" + cells.joined(separator: "\n") + "\n"
            let (matrix, _) = try Self.parse(text, label: nil)
            for (cell, parsed) in zip(cells, matrix.values) {
                // The standard library's parser is correctly rounded: ours must agree bit for bit.
                let expected = try #require(Double(cell))
                #expect(parsed.bitPattern == expected.bitPattern, "\(cell)")
            }
            if format != "%.6e" {
                #expect(matrix.values.map(\.bitPattern) == originals.map(\.bitPattern))
            }
        }
    }

    @Test(
        "errors name the line and the column",
        arguments: [
            ("a,label\n1,0\n2,1\n3,1\nabc,0\n", "line 5, column \"a\": \"abc\" is not a number"),
            ("a,b,label\n1,,0\n", "line 2, column \"b\": empty value"),
            ("a,b,label\n1,2,\n", "line 2, column \"label\": \"\" is not 0, 1, false or true"),
            ("a,label\n1,2\n", "line 2, column \"label\": \"2\" is not 0, 1, false or true"),
            ("a,label\n1,1.0\n", "line 2, column \"label\": \"1.0\" is not 0, 1, false or true"),
            ("a,label\n1\n", "line 2 has 1 fields but the header has 2"),
            ("a,label\n1,0,5\n", "line 2 has 3 fields but the header has 2"),
            ("a,label\n1,0\n\n2,1\n", "line 3 is empty"),
            ("a,label\nnan,0\n", "line 2, column \"a\": \"nan\" is not a number"),
            ("a,label\ninf,0\n", "line 2, column \"a\": \"inf\" is not a number"),
            ("a,label\n1e999,0\n", "line 2, column \"a\": \"1e999\" is out of range"),
            ("a,label\n 1,0\n", "line 2, column \"a\": \" 1\" is not a number"),
            ("a,label\n1.5.2,0\n", "line 2, column \"a\": \"1.5.2\" is not a number"),
            ("a,label\n0x10,0\n", "line 2, column \"a\": \"0x10\" is not a number"),
            ("a,label\n\"1\",0\n", "line 2, column \"a\": \"\"1\"\" is not a number"),
            ("a,b\n1,2\n", "line 1: the label column \"label\" is not in the header"),
            ("a,a,label\n1,2,0\n", "line 1: column \"a\" appears more than once"),
            ("a,,label\n1,2,0\n", "line 1: column 2 has an empty name"),
            ("label\n1\n", "line 1: the header has no feature columns"),
            ("", "line 1: the CSV has no header row"),
            ("\n1,0\n", "line 1: the CSV has no header row"),
        ]
    )
    func errors(text: String, reason: String) {
        let error = expectMLError(MLError.inputCode) { _ = try Self.parse(text) }
        #expect(error?.reason == reason)
    }

    @Test("a header that is not UTF-8 is refused")
    func invalidUTF8() {
        let error = expectMLError(MLError.inputCode) {
            _ = try NumericCSV.parse([0x61, 0xFF, 0x2C, 0x62, 0x0A], labelColumn: nil)
        }
        #expect(error?.reason == "line 1: the header is not valid UTF-8")
    }

    @Test("an 11,000 × 7 CSV parses within 500 ms even in a debug build")
    func speed() throws {
        var random = TestRandom(seed: 3)
        var text = "f0,f1,f2,f3,f4,f5,label\n"
        for _ in 0..<11_000 {
            let cells = (0..<6).map { _ in "\(random.normal())" } + [random.unit() < 0.1 ? "1" : "0"]
            text += cells.joined(separator: ",") + "\n"
        }
        let bytes = Array(text.utf8)
        let clock = ContinuousClock()
        let elapsed = try clock.measure { _ = try NumericCSV.parse(bytes, labelColumn: "label") }
        #expect(elapsed < .milliseconds(500), "\(elapsed)")
    }
}
