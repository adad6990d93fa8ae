import Foundation

extension IsolationForest {
    /// The Euler–Mascheroni constant as scikit-learn uses it (`np.euler_gamma`).
    static let eulerGamma = 0.577_215_664_901_532_9

    /// c(n), the average path length of an unsuccessful search in a binary search tree of `n` keys:
    /// `2·H(n−1) − 2(n−1)/n` with `H(i) = ln(i) + γ`, and `c(n) = 0` for `n <= 1`, `c(2) = 1`.
    ///
    /// This is scikit-learn's `_average_path_length`, used both for the normalising constant c(ψ)
    /// and for the part of a path below a leaf that still holds `n` training samples.
    public static func averagePathLength(_ count: Int) -> Double {
        if count <= 1 { return 0 }
        if count == 2 { return 1 }
        let n = Double(count)
        return 2.0 * (log(n - 1.0) + eulerGamma) - 2.0 * (n - 1.0) / n
    }

    /// The height limit of a tree grown on ψ samples: `ceil(log2(max(ψ, 2)))`, computed exactly.
    static func heightLimit(sampleSize: Int) -> Int {
        let size = max(sampleSize, 2)
        // ceil(log2(size)) is the bit width of size - 1.
        return Int.bitWidth - (size - 1).leadingZeroBitCount
    }
}
