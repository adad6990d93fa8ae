/// SplitMix64 (Steele, Lea and Flood 2014): used only to expand a 64-bit seed into generator state.
///
/// `next()` adds 0x9E3779B97F4A7C15 to the state and returns `mix(state)`.
struct SplitMix64 {
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// The SplitMix64 output function (a bijection on `UInt64`).
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman and Vigna 2018), the generator behind every random draw in LedgerML.
///
/// The whole stream is a pure function of the seed: the four state words are the first four
/// outputs of `SplitMix64(seed:)`. Documented in docs/model-format.md, because trained models
/// depend on it bit for bit.
struct Xoshiro256StarStar {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    init(seed: UInt64) {
        var expander = SplitMix64(seed: seed)
        s0 = expander.next()
        s1 = expander.next()
        s2 = expander.next()
        s3 = expander.next()
    }

    /// The seed of stream `index` derived from a base seed: `mix(seed ^ mix(index &+ 0x9E3779B97F4A7C15))`.
    ///
    /// Each tree of a forest (and nothing else) draws from the stream of its own index, so the
    /// model does not depend on how trees are scheduled on threads.
    static func streamSeed(_ seed: UInt64, index: UInt64) -> UInt64 {
        SplitMix64.mix(seed ^ SplitMix64.mix(index &+ 0x9E37_79B9_7F4A_7C15))
    }

    mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// A uniform integer in `0..<bound` (Lemire's multiply-and-reject method, unbiased).
    mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }

    /// A uniform double in `[0, 1)`: the top 53 bits of `next()` times 2⁻⁵³.
    mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    private func rotateLeft(_ value: UInt64, _ amount: UInt64) -> UInt64 {
        (value << amount) | (value >> (64 - amount))
    }
}
