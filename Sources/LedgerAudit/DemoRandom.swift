/// The demo generator's only source of randomness: xoshiro256** seeded through SplitMix64.
///
/// Every draw is integer arithmetic or IEEE 754 addition, multiplication and division, which give the
/// same bits on every platform; no draw uses the standard library's `random(in:)` (whose algorithm may
/// change between Swift releases), the system generator, libm or the clock. Not for cryptography.
struct DemoRandom {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator for `seed`, on the independent stream `stream` (an actor's index, say).
    init(seed: UInt64, stream: UInt64 = 0) {
        var mixer = SplitMix64(state: seed ^ (stream &* 0xD134_2543_DE82_EF95))
        // SplitMix64 never yields four zero words in a row, so the state is never all zero.
        state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// A uniform double in [0, 1), with 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform integer in `0..<count`.
    ///
    /// - Precondition: `count > 0`.
    mutating func below(_ count: Int) -> Int {
        precondition(count > 0, "below(_:) needs a positive count")
        return Int(truncatingIfNeeded: UInt64(count).multipliedFullWidth(by: next()).high)
    }

    /// A uniform integer in `range`.
    mutating func integer(in range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }

    /// A uniform 64-bit integer in `range`.
    mutating func integer(in range: Range<Int64>) -> Int64 {
        range.lowerBound + Int64(truncatingIfNeeded: UInt64(range.count).multipliedFullWidth(by: next()).high)
    }

    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// A uniform double in `range`.
    mutating func real(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + unit() * (range.upperBound - range.lowerBound)
    }

    /// An element of `elements`, uniformly.
    ///
    /// - Precondition: `elements` is not empty.
    mutating func element<Element>(of elements: [Element]) -> Element { elements[below(elements.count)] }

    /// An approximately standard normal deviate: the Irwin-Hall sum of twelve uniforms, less six.
    mutating func normal() -> Double {
        var sum = 0.0
        for _ in 0..<12 { sum += unit() }
        return sum - 6
    }

    /// A Poisson-distributed count with the given mean (Knuth's product of uniforms).
    mutating func poisson(mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean > 60 {
            return max(0, Int((mean + DemoMath.squareRoot(mean) * normal()).rounded()))
        }
        let limit = DemoMath.exp(-mean)
        var count = 0
        var product = unit()
        while product > limit {
            count += 1
            product *= unit()
        }
        return count
    }

    /// A log-normal amount: `median · e^(spread · z)` for a standard normal `z`, rounded, at least 0.
    mutating func logNormal(median: Double, spread: Double) -> Int64 {
        max(0, Int64((median * DemoMath.exp(spread * normal())).rounded()))
    }

    /// A weighted choice: the index `i` with probability `weights[i] / sum(weights)`, from cumulative weights.
    mutating func index(cumulative: [Double]) -> Int {
        guard let total = cumulative.last, total > 0 else { return 0 }
        let target = unit() * total
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] > target { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// 16 lowercase hexadecimal digits.
    mutating func hex16() -> String {
        let value = next()
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8](repeating: 0, count: 16)
        for position in 0..<16 {
            text[position] = digits[Int(truncatingIfNeeded: value >> UInt64(60 - 4 * position)) & 0xf]
        }
        return String(decoding: text, as: UTF8.self)
    }

    private func rotateLeft(_ value: UInt64, _ count: UInt64) -> UInt64 { (value << count) | (value >> (64 - count)) }
}

/// SplitMix64, which seeds ``DemoRandom``.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// Elementary functions from IEEE 754 arithmetic alone, so that their bits do not depend on the platform's libm.
enum DemoMath {
    /// e^x, to about 1e-13 relative error, for |x| <= 700.
    static func exp(_ x: Double) -> Double {
        precondition(abs(x) <= 700, "DemoMath.exp is for |x| <= 700")
        // e^x = (e^(x / 2^k))^(2^k), with the small power by its Taylor series.
        var halvings = 0
        var reduced = x
        while abs(reduced) > 0.125 {
            reduced /= 2
            halvings += 1
        }
        var term = 1.0
        var sum = 1.0
        for order in 1...14 {
            term *= reduced / Double(order)
            sum += term
        }
        for _ in 0..<halvings { sum *= sum }
        return sum
    }

    /// The square root, which IEEE 754 requires to be correctly rounded everywhere.
    static func squareRoot(_ x: Double) -> Double { x.squareRoot() }
}
