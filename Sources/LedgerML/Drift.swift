import Foundation

/// Distribution drift between a reference sample (the deployed model's training data for one
/// feature) and a current sample (the same feature over the current window).
///
/// Every function checks its input and throws `ml.input` when a sample is empty or holds a value
/// that is not finite. Each sample is sorted once; every statistic then costs O(m + n) more (the KS
/// p-value at most O(min(m, n)) more, plus a matrix power of side below 120), so a call is
/// O((m + n) log(m + n)) for samples of m and n values. The exact definitions are in
/// docs/drift.md, and Tests/Peers/scipy_drift_peer.py checks them against SciPy.
public enum DriftStatistics {
    /// The default number of quantile bins for PSI.
    public static let defaultBins = 10
    /// The largest number of PSI bins accepted.
    public static let maximumBins = 1000
    /// The amount added to every bin proportion before PSI takes logarithms, so that an empty bin
    /// contributes a large but finite term.
    public static let psiEpsilon = 1e-4

    /// All the drift statistics of one feature.
    public struct Comparison: Sendable, Hashable {
        /// Population Stability Index, as `psi(reference:current:bins:)` defines it.
        public var psi: Double
        /// The two-sample Kolmogorov–Smirnov statistic D, in [0, 1].
        public var ks: Double
        /// The asymptotic p-value of `ks`, as `ks(reference:current:)` defines it, in [0, 1].
        public var ksPValue: Double
        /// The 1-Wasserstein distance, in the feature's own unit.
        public var wasserstein: Double

        public init(psi: Double, ks: Double, ksPValue: Double, wasserstein: Double) {
            self.psi = psi
            self.ks = ks
            self.ksPValue = ksPValue
            self.wasserstein = wasserstein
        }
    }

    /// PSI, KS (with its p-value) and Wasserstein-1 at once, sorting each sample only once.
    ///
    /// The values are exactly those of the three separate functions. Throws `ml.input` for an empty
    /// sample or a non-finite value, and `ml.parameters` unless `2 <= bins <= maximumBins`.
    public static func compare(
        reference: [Double],
        current: [Double],
        bins: Int = defaultBins
    ) throws(MLError) -> Comparison {
        let sortedReference = try sortedSample(reference, name: "reference")
        let sortedCurrent = try sortedSample(current, name: "current")
        try checkBins(bins)
        let kolmogorovSmirnov = ks(sortedReference, sortedCurrent)
        return Comparison(
            psi: psi(sortedReference, sortedCurrent, bins: bins),
            ks: kolmogorovSmirnov.statistic,
            ksPValue: kolmogorovSmirnov.pValue,
            wasserstein: wasserstein(sortedReference, sortedCurrent)
        )
    }

    /// The Population Stability Index of `current` against `reference` over quantile bins of the
    /// reference.
    ///
    /// - Edges: the reference quantiles at 1/bins, 2/bins, …, (bins − 1)/bins (10 %, …, 90 % by
    ///   default), each interpolated linearly between order statistics exactly as NumPy's default
    ///   `np.quantile` (`method="linear"`): for sorted x₀ ≤ … ≤ xₙ₋₁, position h = q·(n − 1),
    ///   value x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋).
    /// - Ties: equal edges collapse to one, so with k distinct edges there are k + 1 bins (a
    ///   constant reference gives 2 bins; a reference that is 90 % zeros keeps all its zeros in one
    ///   bin).
    /// - Membership: bins are closed on the right. Bin 1 is (−∞, e₁], bin i is (eᵢ₋₁, eᵢ], and the
    ///   last is (eₖ, +∞): a value equal to an edge belongs to the bin on its left.
    /// - Empty bins: with rᵢ and cᵢ the shares of the reference and current samples in bin i,
    ///   ε = `psiEpsilon` = 1e-4 is added to every share, and
    ///   PSI = Σᵢ ((cᵢ + ε) − (rᵢ + ε)) · ln((cᵢ + ε) / (rᵢ + ε)).
    ///   Each term is ≥ 0, so PSI ≥ 0; it is 0 exactly when every bin has equal shares.
    ///
    /// Conventional reading: < 0.1 stable, 0.1–0.25 moderate, > 0.25 significant drift.
    ///
    /// Throws `ml.input` for an empty sample or a non-finite value, and `ml.parameters` unless
    /// `2 <= bins <= maximumBins`.
    public static func psi(
        reference: [Double],
        current: [Double],
        bins: Int = defaultBins
    ) throws(MLError) -> Double {
        let sortedReference = try sortedSample(reference, name: "reference")
        let sortedCurrent = try sortedSample(current, name: "current")
        try checkBins(bins)
        return psi(sortedReference, sortedCurrent, bins: bins)
    }

    /// The two-sample Kolmogorov–Smirnov statistic and its asymptotic two-sided p-value.
    ///
    /// D = maxₓ |F_ref(x) − F_cur(x)| over the empirical distribution functions (F(x) = share of the
    /// sample ≤ x); ties are handled exactly, as in `scipy.stats.ks_2samp`.
    ///
    /// The two-sided p-value is exactly what `scipy.stats.ks_2samp(method="asymp")` computes:
    /// P(D_N > D) for the one-sample Kolmogorov–Smirnov distribution of size
    /// N = round(m·n/(m + n)) (`scipy.stats.kstwo.sf(D, N)`; ties round to even, and N is at least 1,
    /// where SciPy gives NaN for two samples of one value each). It is evaluated as SciPy does, by
    /// the algorithm of Simard and L'Ecuyer (2011). As N grows it approaches the Kolmogorov limit
    /// `kolmogorovSurvival(√N · D)`, which is slightly larger (by about 6 % relative at N = 412).
    ///
    /// Throws `ml.input` for an empty sample or a non-finite value.
    public static func ks(
        reference: [Double],
        current: [Double]
    ) throws(MLError) -> (statistic: Double, pValue: Double) {
        ks(try sortedSample(reference, name: "reference"), try sortedSample(current, name: "current"))
    }

    /// The 1-Wasserstein (earth mover's) distance between the two empirical distributions:
    /// ∫ |F_ref(x) − F_cur(x)| dx, as `scipy.stats.wasserstein_distance` with equal weights.
    ///
    /// Symmetric in its arguments, in the unit of the data, and exactly |c| between a sample and the
    /// same sample shifted by c (up to rounding). Throws `ml.input` for an empty sample or a
    /// non-finite value.
    public static func wasserstein(reference: [Double], current: [Double]) throws(MLError) -> Double {
        wasserstein(try sortedSample(reference, name: "reference"), try sortedSample(current, name: "current"))
    }

    /// The Kolmogorov survival function Q(x) = P(K > x) of the limiting distribution of √n·Dₙ, as
    /// `scipy.special.kolmogorov` and `scipy.stats.kstwobign.sf`.
    ///
    /// For x ≥ 1 the alternating series 2 Σₖ≥₁ (−1)ᵏ⁻¹ exp(−2k²x²) converges in a few terms; below
    /// that, Q(x) = 1 − (√(2π)/x) Σₖ≥₁ exp(−(2k − 1)²π²/(8x²)), which has no cancellation. Q is 1
    /// for x ≤ 0 and decreases to 0.
    public static func kolmogorovSurvival(_ x: Double) -> Double {
        guard x > 0 else { return 1 }
        if x < 1 {
            let factor = -Double.pi * Double.pi / (8 * x * x)
            var sum = 0.0
            for k in 1...20 {
                let odd = Double(2 * k - 1)
                let term = exp(factor * odd * odd)
                sum += term
                if term < 1e-17 * sum { break }
            }
            return max(0, min(1, 1 - (2 * Double.pi).squareRoot() / x * sum))
        }
        var sum = 0.0
        var sign = 1.0
        for k in 1...100 {
            let kk = Double(k * k)
            let term = exp(-2 * kk * x * x)
            sum += sign * term
            if term < 1e-17 * abs(sum) || term == 0 { break }
            sign = -sign
        }
        return max(0, min(1, 2 * sum))
    }

    /// P(Dₙ > x) for the two-sided one-sample Kolmogorov–Smirnov statistic of a sample of size
    /// `sampleSize`, as `scipy.stats.kstwo.sf(x, sampleSize)`; the KS p-value evaluates it at
    /// N = round(m·n/(m + n)). Precondition: `sampleSize >= 1`.
    public static func kolmogorovSmirnovSurvival(_ x: Double, sampleSize: Int) -> Double {
        precondition(sampleSize >= 1, "the sample size must be at least 1")
        return KolmogorovDistribution.survival(n: sampleSize, x: x)
    }

    // MARK: - On sorted samples

    static func psi(_ reference: [Double], _ current: [Double], bins: Int) -> Double {
        var edges: [Double] = []
        edges.reserveCapacity(bins - 1)
        for index in 1..<bins {
            let edge = numpyLinearQuantile(reference, Double(index) / Double(bins))
            if edges.last != edge { edges.append(edge) }
        }
        let referenceShares = shares(reference, edges: edges)
        let currentShares = shares(current, edges: edges)
        var sum = 0.0
        for bin in referenceShares.indices {
            let r = referenceShares[bin] + psiEpsilon
            let c = currentShares[bin] + psiEpsilon
            sum += (c - r) * log(c / r)
        }
        return sum
    }

    static func ks(_ reference: [Double], _ current: [Double]) -> (statistic: Double, pValue: Double) {
        var statistic = 0.0
        forEachStep(reference, current) { _, referenceCDF, currentCDF, _ in
            statistic = max(statistic, abs(referenceCDF - currentCDF))
        }
        return (statistic, ksPValue(statistic, referenceCount: reference.count, currentCount: current.count))
    }

    static func wasserstein(_ reference: [Double], _ current: [Double]) -> Double {
        var sum = 0.0
        // Between each distinct value and the next both CDFs are constant.
        forEachStep(reference, current) { value, referenceCDF, currentCDF, next in
            if let next { sum += abs(referenceCDF - currentCDF) * (next - value) }
        }
        return sum
    }

    /// Walks the distinct values of two sorted samples in order, with both empirical CDFs at each value (ties
    /// taken together) and the next distinct value (nil after the last).
    private static func forEachStep(
        _ reference: [Double],
        _ current: [Double],
        _ body: (_ value: Double, _ referenceCDF: Double, _ currentCDF: Double, _ next: Double?) -> Void
    ) {
        let m = Double(reference.count)
        let n = Double(current.count)
        var i = 0
        var j = 0
        while i < reference.count || j < current.count {
            let value =
                j == current.count || (i < reference.count && reference[i] <= current[j]) ? reference[i] : current[j]
            while i < reference.count && reference[i] <= value { i += 1 }
            while j < current.count && current[j] <= value { j += 1 }
            let next: Double? =
                i < reference.count && (j == current.count || reference[i] <= current[j])
                ? reference[i] : (j < current.count ? current[j] : nil)
            body(value, Double(i) / m, Double(j) / n, next)
        }
    }

    /// SciPy's `ks_2samp(method="asymp")` two-sided p-value: P(D_N > statistic) for the one-sample
    /// Kolmogorov–Smirnov distribution with N = round(m·n/(m + n)) (ties to even), at least 1.
    static func ksPValue(_ statistic: Double, referenceCount: Int, currentCount: Int) -> Double {
        let m = Double(max(referenceCount, currentCount))
        let n = Double(min(referenceCount, currentCount))
        let effective = (m * n / (m + n)).rounded(.toNearestOrEven)
        return KolmogorovDistribution.survival(n: max(1, Int(effective)), x: statistic)
    }

    /// The `probability` quantile of sorted `values` by NumPy's default (`linear`) method,
    /// including its rounding: for a fraction ≥ 0.5 it interpolates down from the upper value.
    static func numpyLinearQuantile(_ values: [Double], _ probability: Double) -> Double {
        let position = Double(values.count - 1) * probability
        let lower = min(Int(position.rounded(.down)), values.count - 1)
        let upper = min(lower + 1, values.count - 1)
        let fraction = position - Double(lower)
        let low = values[lower]
        let high = values[upper]
        let difference = high - low
        return fraction >= 0.5 ? high - difference * (1 - fraction) : low + difference * fraction
    }

    /// The share of sorted `values` in each bin (−∞, e₁], (e₁, e₂], …, (eₖ, +∞).
    private static func shares(_ values: [Double], edges: [Double]) -> [Double] {
        var counts = [Int](repeating: 0, count: edges.count + 1)
        var bin = 0
        for value in values {
            while bin < edges.count && value > edges[bin] { bin += 1 }
            counts[bin] += 1
        }
        let total = Double(values.count)
        return counts.map { Double($0) / total }
    }

    private static func sortedSample(_ values: [Double], name: String) throws(MLError) -> [Double] {
        guard !values.isEmpty else { throw .input("the \(name) sample is empty") }
        if let row = values.firstIndex(where: { !$0.isFinite }) {
            throw .input("value \(row + 1) of the \(name) sample is not finite")
        }
        return values.sorted()
    }

    private static func checkBins(_ bins: Int) throws(MLError) {
        guard (2...maximumBins).contains(bins) else {
            throw .parameters("bins must be in 2...\(maximumBins), got \(bins)")
        }
    }
}

/// The finite-n distribution of the two-sided one-sample Kolmogorov–Smirnov statistic Dₙ, which
/// SciPy's `ks_2samp(method="asymp")` evaluates at n = round(m·n/(m + n)) for two samples.
///
/// A port of SciPy 1.17's `scipy.stats._ksstats._kolmogn` (Simard & L'Ecuyer 2011): Ruben–Gambino
/// near the ends, 2·Smirnov for large x, the Durbin matrix (Marsaglia–Tsang–Wang) and Pomeranz
/// recursions for small n, and Pelz–Good for large n.
enum KolmogorovDistribution {
    private static let scaleExponent = 128
    private static let scaleUp = 0x1p128
    private static let scaleDown = 0x1p-128

    /// P(Dₙ > x), as `scipy.stats.kstwo.sf(x, n)`. Precondition: n ≥ 1.
    static func survival(n: Int, x: Double) -> Double {
        let size = Double(n)
        if x >= 1 { return 0 }
        if x <= 0 { return 1 }
        let t = size * x
        if t <= 1 {
            if t <= 0.5 { return 1 }
            var probability = 1.0
            if n <= 140 {
                for i in 1...n { probability *= Double(i) * (1 / size) * (2 * t - 1) }
            } else {
                probability = exp(logFactorialOverPower(n) + size * log(2 * t - 1))
            }
            return clip(1 - probability)
        }
        if t >= size - 1 { return clip(2 * pow(1 - x, size)) }
        if x >= 0.5 { return clip(2 * smirnov(n: n, x: x)) }
        let nxSquared = t * x
        if n <= 140 {
            if nxSquared <= 0.754693 { return clip(1 - durbinMatrix(n: n, d: x)) }
            if nxSquared <= 4 { return clip(1 - pomeranz(n: n, x: x)) }
            return clip(2 * smirnov(n: n, x: x))
        }
        if nxSquared >= 370 { return 0 }
        if nxSquared >= 2.2 { return clip(2 * smirnov(n: n, x: x)) }
        let cdf: Double
        if n <= 100_000 && size * pow(x, 1.5) <= 1.4 {
            cdf = durbinMatrix(n: n, d: x)
        } else {
            cdf = pelzGood(n: n, x: x)
        }
        return clip(1 - cdf)
    }

    private static func clip(_ probability: Double) -> Double { min(1, max(0, probability)) }

    /// log(n! / nⁿ) by Stirling's series.
    private static func logFactorialOverPower(_ n: Int) -> Double {
        let coefficients = [
            -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3,
            8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
            -2.7777777777777777778e-3, 8.3333333333333333333e-2,
        ]
        let size = Double(n)
        let reciprocal = 1 / size
        let argument = reciprocal / size
        var polynomial = 0.0
        for coefficient in coefficients { polynomial = polynomial * argument + coefficient }
        return log(size) / 2 - size + log(2 * Double.pi) / 2 + reciprocal * polynomial
    }

    /// The one-sided Smirnov survival P(Dₙ⁺ ≥ x), by the Birnbaum–Tingey sum
    /// x · Σ_{v=0}^{⌊n(1−x)⌋} C(n, v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v), each term in logarithms.
    static func smirnov(n: Int, x: Double) -> Double {
        guard x > 0 else { return 1 }
        guard x < 1 else { return 0 }
        let size = Double(n)
        let last = Int((size * (1 - x)).rounded(.down))
        let logFactorialN = logGamma(size + 1)
        var sum = 0.0
        for v in 0...max(0, last) {
            let point = x + Double(v) / size
            let complement = 1 - point
            guard complement > 0 else { continue }
            let logTerm =
                logFactorialN - logGamma(Double(v) + 1) - logGamma(size - Double(v) + 1)
                + Double(v - 1) * log(point) + (size - Double(v)) * log(complement)
            if logTerm > -708 { sum += exp(logTerm) }
        }
        return min(1, sum * x)
    }

    private static func logGamma(_ x: Double) -> Double {
        let value: Double = lgamma(x)
        return value
    }

    /// P(Dₙ ≤ d) by the Durbin matrix as Marsaglia, Tsang and Wang compute it.
    private static func durbinMatrix(n: Int, d: Double) -> Double {
        if d >= 1 { return 1 }
        let nd = Double(n) * d
        if nd <= 0.5 { return 0 }
        let k = Int(nd.rounded(.up))
        let h = Double(k) - nd
        let m = 2 * k - 1
        var v = [Double](repeating: 0, count: m)
        var w = [Double](repeating: 0, count: m)
        var factorial = 1.0
        for j in 1...m {
            w[j - 1] = factorial
            factorial /= Double(j)
            v[j - 1] = (1 - pow(h, Double(j))) * factorial
        }
        let correction = pow(max(2 * h - 1, 0), Double(m)) - 2 * pow(h, Double(m))
        v[m - 1] = (1 + correction) * factorial
        var matrix = SquareMatrix(size: m)
        for i in 1..<max(m, 1) {
            for row in (i - 1)..<m { matrix[row, i] = w[row - i + 1] }
        }
        for row in 0..<m { matrix[row, 0] = v[row] }
        for column in 0..<m { matrix[m - 1, column] = v[m - 1 - column] }

        var power = SquareMatrix.identity(size: m)
        var remaining = n
        var exponent = 0
        var matrixExponent = 0
        while remaining > 0 {
            if remaining % 2 == 1 {
                power = power * matrix
                exponent += matrixExponent
            }
            matrix = matrix * matrix
            matrixExponent *= 2
            if abs(matrix[k - 1, k - 1]) > scaleUp {
                matrix.scale(by: scaleDown)
                matrixExponent += scaleExponent
            }
            remaining /= 2
        }
        var p = power[k - 1, k - 1]
        for i in 1...n {
            p = Double(i) * p / Double(n)
            if abs(p) < scaleDown {
                p *= scaleUp
                exponent -= scaleExponent
            }
        }
        if exponent != 0 { p = scalbn(p, exponent) }
        return clip(p)
    }

    private static func pomeranzBounds(
        _ i: Int,
        n: Int,
        whole: Int,
        ceilingOfFraction: Int,
        roundedFraction: Int
    ) -> (Int, Int) {
        var j1: Int
        var j2: Int
        if i == 0 {
            j1 = -whole - ceilingOfFraction - 1
            j2 = whole + ceilingOfFraction - 1
        } else {
            let half = (i + 1) / 2
            if (i + 1) % 2 == 0 {
                if half == n + 1 {
                    j1 = n - whole - ceilingOfFraction - 1
                    j2 = n + whole + ceilingOfFraction - 1
                } else {
                    j1 = half - 1 - whole - roundedFraction - 1
                    j2 = half + whole - 1 + ceilingOfFraction - 1
                }
            } else {
                j1 = half - 1 - whole - 1
                j2 = half + whole + roundedFraction - 1
            }
        }
        return (max(j1 + 2, 0), min(j2, n))
    }

    /// P(Dₙ ≤ x) by the Pomeranz recursion.
    private static func pomeranz(n: Int, x: Double) -> Double {
        let size = Double(n)
        let t = size * x
        let whole = Int(t.rounded(.down))
        let fraction = t - Double(whole)
        let g = min(fraction, 1 - fraction)
        let ceilingOfFraction = fraction > 0 ? 1 : 0
        let roundedFraction = fraction > 0.5 ? 1 : 0
        let powerCount = 2 * (whole + 1)
        var gPower = [Double](repeating: 1, count: powerCount)
        var twoGPower = [Double](repeating: 1, count: powerCount)
        var oneMinusTwoGPower = [Double](repeating: 1, count: powerCount)
        for m in 1..<powerCount {
            gPower[m] = gPower[m - 1] * (g / size) / Double(m)
            twoGPower[m] = twoGPower[m - 1] * (2 * g / size) / Double(m)
            oneMinusTwoGPower[m] = oneMinusTwoGPower[m - 1] * ((1 - 2 * g) / size) / Double(m)
        }
        var exponent = 0
        var v0 = [Double](repeating: 0, count: powerCount)
        var v1 = [Double](repeating: 0, count: powerCount)
        v1[0] = 1
        var v0Start = 0
        var v1Start = 0
        var (j1, j2) = pomeranzBounds(
            0,
            n: n,
            whole: whole,
            ceilingOfFraction: ceilingOfFraction,
            roundedFraction: roundedFraction
        )
        for i in 1..<(2 * n + 2) {
            let k1 = j1
            swap(&v0, &v1)
            swap(&v0Start, &v1Start)
            for index in v1.indices { v1[index] = 0 }
            (j1, j2) = pomeranzBounds(
                i,
                n: n,
                whole: whole,
                ceilingOfFraction: ceilingOfFraction,
                roundedFraction: roundedFraction
            )
            let powers = (i == 1 || i == 2 * n + 1) ? gPower : (i % 2 == 1 ? twoGPower : oneMinusTwoGPower)
            let length = j2 - k1 + 1
            guard length > 0 else { continue }
            // The full convolution of v0[k1 − v0Start ..< + length] with powers[..< length], of
            // which entries j1 − k1 ... j2 − k1 are kept.
            let sourceStart = k1 - v0Start
            let sourceCount = max(0, min(length, powerCount - sourceStart))
            let powerLength = min(length, powerCount)
            let keepStart = j1 - k1
            let keepCount = j2 - j1 + 1
            for output in 0..<max(0, keepCount) {
                let position = keepStart + output
                var total = 0.0
                let lower = max(0, position - (powerLength - 1))
                let upper = min(sourceCount - 1, position)
                if lower <= upper {
                    for a in lower...upper { total += v0[sourceStart + a] * powers[position - a] }
                }
                v1[output] = total
            }
            let largest = v1.max() ?? 0
            if largest > 0 && largest < scaleDown {
                for index in v1.indices { v1[index] *= scaleUp }
                exponent -= scaleExponent
            }
            v1Start = v0Start + j1 - k1
        }
        var answer = v1[n - v1Start]
        for m in 1...n {
            if abs(answer) > scaleUp {
                answer *= scaleDown
                exponent += scaleExponent
            }
            answer *= Double(m)
        }
        if exponent != 0 { answer = scalbn(answer, exponent) }
        return answer
    }

    /// P(Dₙ ≤ x) by the Pelz–Good asymptotic expansion.
    private static func pelzGood(n: Int, x: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let piSquared = Double.pi * Double.pi
        let z = Double(n).squareRoot() * x
        let z2 = z * z
        let z3 = z2 * z
        let z4 = z2 * z2
        let z6 = z4 * z2
        let qLog = -piSquared / 8 / z2
        if qLog < -708 { return 0 }
        let q = exp(qLog)
        let k1a = -z2
        let k1b = piSquared / 4
        let k2a = 6 * z6 + 2 * z4
        let k2b = (2 * z4 - 5 * z2) * piSquared / 4
        let k2c = piSquared * piSquared * (1 - 2 * z2) / 16
        let k3d = piSquared * piSquared * piSquared * (5 - 30 * z2) / 64
        let k3c = piSquared * piSquared * (-60 * z2 + 212 * z4) / 16
        let k3b = piSquared * (135 * z4 - 96 * z6) / 4
        let k3a = -30 * z6 - 90 * pow(z, 8)
        var terms = [0.0, 0.0, 0.0, 0.0]
        let maxK = Int((16 * z / Double.pi).rounded(.up))
        if maxK >= 1 {
            for k in stride(from: maxK, through: 1, by: -1) {
                let m = Double(2 * k - 1)
                let m2 = m * m
                let m4 = m2 * m2
                let m6 = m4 * m2
                let qPower = pow(q, Double(8 * k))
                let coefficients = [
                    1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6,
                ]
                for index in 0..<4 { terms[index] = terms[index] * qPower + coefficients[index] }
            }
        }
        let divisors = [z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10)]
        for index in 0..<4 { terms[index] = terms[index] * q * (2 * Double.pi).squareRoot() / divisors[index] }
        let qOther = exp(-piSquared / 2 / z2)
        var k2Extra = 0.0
        var k3Extra = 0.0
        let sqrt3z = 3.0.squareRoot() * z
        if maxK >= 1 {
            for k in stride(from: maxK, through: 1, by: -1) {
                let kk = Double(k * k)
                let qPower = pow(qOther, kk)
                let kPi = Double.pi * Double(k)
                k2Extra += kk * qPower
                k3Extra += (sqrt3z + kPi) * (sqrt3z - kPi) * kk * qPower
            }
        }
        terms[2] += k2Extra * piSquared * (2 * Double.pi).squareRoot() / (-36 * z3)
        terms[3] += k3Extra * piSquared * (2 * Double.pi).squareRoot() / (216 * z6)
        var sum = 0.0
        for index in 0..<4 { sum += terms[index] / pow(Double(n), Double(index) / 2) }
        return sum
    }
}

/// A small dense row-major matrix for the Durbin recursion.
private struct SquareMatrix {
    let size: Int
    private var elements: [Double]

    init(size: Int) {
        self.size = size
        elements = [Double](repeating: 0, count: size * size)
    }

    static func identity(size: Int) -> SquareMatrix {
        var matrix = SquareMatrix(size: size)
        for index in 0..<size { matrix[index, index] = 1 }
        return matrix
    }

    subscript(row: Int, column: Int) -> Double {
        get { elements[row * size + column] }
        set { elements[row * size + column] = newValue }
    }

    mutating func scale(by factor: Double) {
        for index in elements.indices { elements[index] *= factor }
    }

    static func * (lhs: SquareMatrix, rhs: SquareMatrix) -> SquareMatrix {
        let size = lhs.size
        var product = SquareMatrix(size: size)
        lhs.elements.withUnsafeBufferPointer { a in
            rhs.elements.withUnsafeBufferPointer { b in
                product.elements.withUnsafeMutableBufferPointer { c in
                    for i in 0..<size {
                        for k in 0..<size {
                            let factor = a[i * size + k]
                            if factor == 0 { continue }
                            for j in 0..<size { c[i * size + j] += factor * b[k * size + j] }
                        }
                    }
                }
            }
        }
        return product
    }
}
