/// Parses one decimal number from bytes, correctly rounded to the nearest double.
///
/// The grammar is `[+-]? digits [. digits]? ([eE] [+-]? digits)?`, where the mantissa may also be
/// `digits.` or `.digits`: no spaces, no hex, no `inf` or `nan`. Mantissas of up to 19 significant
/// digits with a decimal exponent in −27...27 (which covers the 17-significant-digit values a
/// round-trip writer produces for magnitudes from about 1e-10 to 1e40) are converted exactly with
/// integer arithmetic: one 64-bit power of five, a 128-by-64-bit division or a 64×64 product, and
/// round-half-to-even. Everything else falls back to the
/// standard library's `Double(_:)`, which is also correctly rounded.
enum DecimalParser {
    /// 5^0 ... 5^27, every power of five below 2^64.
    private static let powersOfFive: [UInt64] = {
        var powers: [UInt64] = [1]
        for _ in 1...27 { powers.append(powers[powers.count - 1] * 5) }
        return powers
    }()

    /// Parses the number that starts at `start` and returns it with the index of the first byte
    /// after it, or nil when no number starts there. A number that overflows returns ±∞.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (value: Double, end: Int)? {
        var index = start
        let count = bytes.count
        var negative = false
        if index < count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var digits = 0
        var truncated = false
        while index < count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            digits += 1
            if significant < 19 {
                mantissa = mantissa * 10 + UInt64(digit)
                if mantissa != 0 { significant += 1 }
            } else {
                exponent += 1
                if digit != 0 { truncated = true }
            }
            index += 1
        }
        if index < count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < count {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                digits += 1
                if significant < 19 {
                    mantissa = mantissa * 10 + UInt64(digit)
                    if mantissa != 0 { significant += 1 }
                    exponent -= 1
                } else if digit != 0 {
                    truncated = true
                }
                index += 1
            }
        }
        guard digits > 0 else { return nil }
        if index < count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            var cursor = index + 1
            var exponentNegative = false
            if cursor < count, bytes[cursor] == UInt8(ascii: "-") || bytes[cursor] == UInt8(ascii: "+") {
                exponentNegative = bytes[cursor] == UInt8(ascii: "-")
                cursor += 1
            }
            var written = 0
            var exponentDigits = 0
            while cursor < count {
                let digit = bytes[cursor] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                if written < 100_000 { written = written * 10 + Int(digit) }
                exponentDigits += 1
                cursor += 1
            }
            guard exponentDigits > 0 else { return nil }
            exponent += exponentNegative ? -written : written
            index = cursor
        }
        let magnitude: Double
        if let exact = truncated ? nil : exactValue(mantissa, exponent) {
            magnitude = exact
        } else {
            // The grammar is checked, so the standard library sees a plain decimal literal.
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard let parsed = Double(text) else { return nil }
            return (parsed, index)
        }
        return (negative ? -magnitude : magnitude, index)
    }

    /// `mantissa × 10^exponent` when it can be computed exactly and rounded once, else nil.
    ///
    /// With 10^e = 5^e · 2^e and 5^27 < 2^64, exponents in −27...27 need only one 64-bit power of five.
    static func exactValue(_ mantissa: UInt64, _ exponent: Int) -> Double? {
        if mantissa == 0 { return 0 }
        if exponent == 0 { return Double(mantissa) }
        guard exponent >= -27, exponent <= 27 else { return nil }
        if exponent > 0 {
            let (high, low) = mantissa.multipliedFullWidth(by: powersOfFive[exponent])
            if high == 0 { return Double(low) * Double(sign: .plus, exponent: exponent, significand: 1) }
            // Normalise the 128-bit product to its top 64 bits plus a sticky bit.
            let shift = UInt64(high.leadingZeroBitCount)
            let top = shift == 0 ? high : (high << shift) | (low >> (64 - shift))
            let sticky = (low << shift) != 0
            return rounded(top, sticky: sticky, binaryExponent: exponent + 64 - Int(shift))
        }
        return quotient(mantissa, powersOfFive[-exponent], binaryExponent: exponent)
    }

    /// The double nearest to `numerator / divisor × 2^binaryExponent` (ties to even), for
    /// `numerator >= 1`, `divisor >= 1` and a result in the normal range.
    static func quotient(_ numerator: UInt64, _ divisor: UInt64, binaryExponent: Int) -> Double {
        let numeratorBits = UInt64.bitWidth - numerator.leadingZeroBitCount
        let divisorBits = UInt64.bitWidth - divisor.leadingZeroBitCount
        // Scale the numerator by 2^shift so the quotient lies in (2^62, 2^64) and fits one word.
        let shift = 63 - numeratorBits + divisorBits
        let high: UInt64
        let low: UInt64
        if shift >= 64 {
            high = numerator << UInt64(shift - 64)
            low = 0
        } else if shift == 0 {
            high = 0
            low = numerator
        } else {
            high = numerator >> UInt64(64 - shift)
            low = numerator << UInt64(shift)
        }
        let (quotient, remainder) = divisor.dividingFullWidth((high: high, low: low))
        return rounded(quotient, sticky: remainder != 0, binaryExponent: binaryExponent - shift)
    }

    /// The double nearest to `(value + ε) × 2^binaryExponent`, where `value >= 2^54` and ε is in
    /// (0, 1) when `sticky` and 0 otherwise (ties to even).
    static func rounded(_ value: UInt64, sticky: Bool, binaryExponent: Int) -> Double {
        let extraBits = (UInt64.bitWidth - value.leadingZeroBitCount) - 53
        var significand = value >> UInt64(extraBits)
        let rest = value & ((1 << UInt64(extraBits)) - 1)
        let half: UInt64 = 1 << UInt64(extraBits - 1)
        if rest > half || (rest == half && (sticky || significand & 1 == 1)) {
            significand += 1
        }
        return Double(sign: .plus, exponent: binaryExponent + extraBits, significand: Double(significand))
    }
}
