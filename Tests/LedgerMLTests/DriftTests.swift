import Foundation
import LedgerML
import LedgerTesting
import Testing

@Suite("Drift statistics")
struct DriftTests {
    // MARK: Known answers

    @Test("PSI of identical samples is exactly 0")
    func psiIdentical() throws {
        let sample: [Double] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9]
        #expect(try DriftStatistics.psi(reference: sample, current: sample) == 0)
        #expect(try DriftStatistics.psi(reference: sample, current: sample.reversed(), bins: 4) == 0)
    }

    @Test("PSI over 2 bins, worked by hand")
    func psiTwoBins() throws {
        // Reference median (linear) = 2 + 0.5·(3 − 2) = 2.5: bins (−∞, 2.5] and (2.5, ∞).
        // Reference shares 1/2, 1/2; current shares 3/4, 1/4.
        let epsilon = 1e-4
        let expected =
            (0.75 - 0.5) * log((0.75 + epsilon) / (0.5 + epsilon))
            + (0.25 - 0.5) * log((0.25 + epsilon) / (0.5 + epsilon))
        let psi = try DriftStatistics.psi(reference: [1, 2, 3, 4], current: [1, 1, 1, 4], bins: 2)
        #expect(abs(psi - expected) < 1e-15, "\(psi) vs \(expected)")
        #expect(abs(psi - 0.274586423273) < 1e-12)
    }

    @Test("A value equal to an edge belongs to the bin on its left; an empty bin stays finite")
    func psiEdgeGoesLeft() throws {
        // Reference [1, 2, 3], 2 bins: the edge is the median 2. Shares: reference 2/3, 1/3;
        // current [2, 2] all in (−∞, 2], so 1 and 0.
        let epsilon = 1e-4
        let r1 = 2.0 / 3 + epsilon
        let r2 = 1.0 / 3 + epsilon
        let c1 = 1 + epsilon
        let c2 = epsilon
        let expected = (c1 - r1) * log(c1 / r1) + (c2 - r2) * log(c2 / r2)
        let psi = try DriftStatistics.psi(reference: [1, 2, 3], current: [2, 2], bins: 2)
        #expect(abs(psi - expected) < 1e-14, "\(psi) vs \(expected)")
    }

    @Test("Duplicate edges collapse: a constant reference gives two bins")
    func psiConstantReference() throws {
        // All nine edges are 0, so the bins are (−∞, 0] and (0, ∞).
        let reference = [Double](repeating: 0, count: 100)
        let current: [Double] = [0, 0, 0, 1]
        let epsilon = 1e-4
        let expected =
            (0.75 - 1) * log((0.75 + epsilon) / (1 + epsilon)) + 0.25 * log((0.25 + epsilon) / epsilon)
        let psi = try DriftStatistics.psi(reference: reference, current: current)
        #expect(abs(psi - expected) < 1e-14, "\(psi) vs \(expected)")
    }

    @Test("KS statistic of two small samples, worked by hand")
    func ksSmall() throws {
        // F_ref − F_cur at 1, 2, 3, 4, 5: 1/3, 5/12, 1/2, 1/4, 0.
        let result = try DriftStatistics.ks(reference: [3, 1, 2], current: [2, 3, 4, 5])
        #expect(result.statistic == 0.5)
        // N = round(12/7) = 2: P(D₂ > 1/2) = 2·(1 − 1/2)² = 1/2 (Ruben–Gambino, t = n − 1), as SciPy.
        #expect(abs(result.pValue - 0.5) < 1e-15)
        // Identical samples: D = 0, p = 1. Disjoint samples: D = 1.
        #expect(try DriftStatistics.ks(reference: [1, 2, 2], current: [2, 1, 2]) == (0, 1))
        #expect(try DriftStatistics.ks(reference: [1, 2], current: [3, 4, 5]).statistic == 1)
    }

    @Test(
        "The Kolmogorov survival function matches scipy.special.kolmogorov",
        arguments: [
            (0.0, 1.0), (0.2, 0.999999999999495), (0.5, 0.9639452436648751), (0.9, 0.3927307079406543),
            (1.0, 0.26999967167735456), (1.5, 0.022217962616525127), (3.0, 3.045995948942526e-08),
        ]
    )
    func kolmogorov(x: Double, expected: Double) {
        let q = DriftStatistics.kolmogorovSurvival(x)
        #expect(abs(q - expected) <= 1e-6 * expected, "Q(\(x)) = \(q), scipy \(expected)")
    }

    /// P(Dₙ > x) from scipy.stats.kstwo.sf (SciPy 1.17.1), one or more vectors per branch of
    /// Simard and L'Ecuyer's algorithm: Ruben–Gambino, Durbin matrix, Pomeranz, 2·Smirnov, Pelz–Good.
    @Test(
        "The finite-n Kolmogorov–Smirnov survival matches scipy.stats.kstwo.sf",
        arguments: [
            (5, 0.15, 0.9988), (5, 0.3, 0.664), (10, 0.2, 0.7487190399999999), (100, 0.05, 0.9532159710635725),
            (100, 0.12, 0.10330374901819939), (100, 0.25, 5.408871776434847e-06), (100, 0.6, 5.912822156396238e-35),
            (411, 0.03, 0.8421761649888737), (411, 0.06, 0.0995619196491212), (411, 0.1, 0.0004966589245017029),
            (20000, 0.005, 0.6974088406327613), (20000, 0.012, 0.006251252284121751),
            (150000, 0.002, 0.5852546878861703), (150000, 0.004, 0.01641549696764547),
        ]
    )
    func kolmogorovSmirnov(n: Int, x: Double, expected: Double) {
        let p = DriftStatistics.kolmogorovSmirnovSurvival(x, sampleSize: n)
        #expect(abs(p - expected) <= 1e-9 * expected, "P(D_\(n) > \(x)) = \(p), scipy \(expected)")
    }

    @Test("The two forms of Q agree where they meet at x = 1")
    func kolmogorovContinuity() {
        let below = DriftStatistics.kolmogorovSurvival(1.0.nextDown)
        let above = DriftStatistics.kolmogorovSurvival(1.0)
        #expect(abs(below - above) < 1e-14)
    }

    @Test("Wasserstein between two point masses is their distance")
    func wassersteinPointMasses() throws {
        #expect(try DriftStatistics.wasserstein(reference: [3], current: [7.5]) == 4.5)
        #expect(try DriftStatistics.wasserstein(reference: [2, 2, 2], current: [-1]) == 3)
        // Half the mass moves from 0 to 1: W = 1/2.
        #expect(try DriftStatistics.wasserstein(reference: [0, 0], current: [0, 1]) == 0.5)
    }

    // MARK: Properties

    static let seeds: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8]

    static func samples(seed: UInt64) -> (reference: [Double], current: [Double]) {
        var random = TestRandom(seed: seed)
        let m = 1 + random.int(below: 300)
        let n = 1 + random.int(below: 300)
        let shift = random.unit() * 2 - 1
        let integers = seed.isMultiple(of: 2)
        func draw(_ offset: Double) -> Double {
            let value = random.normal() + offset
            return integers ? max(0, value * 3).rounded(.down) : value
        }
        return ((0..<m).map { _ in draw(0) }, (0..<n).map { _ in draw(shift) })
    }

    @Test("PSI ≥ 0, KS D in [0, 1] with p in [0, 1], Wasserstein ≥ 0 and symmetric", arguments: seeds)
    func properties(seed: UInt64) throws {
        let (reference, current) = Self.samples(seed: seed)
        let comparison = try DriftStatistics.compare(reference: reference, current: current)
        #expect(comparison.psi >= 0 && comparison.psi.isFinite)
        #expect((0...1).contains(comparison.ks))
        #expect((0...1).contains(comparison.ksPValue))
        #expect(comparison.wasserstein >= 0)
        let swapped = try DriftStatistics.wasserstein(reference: current, current: reference)
        #expect(abs(swapped - comparison.wasserstein) <= 1e-12 * max(1, comparison.wasserstein))
        let swappedKS = try DriftStatistics.ks(reference: current, current: reference)
        #expect(swappedKS.statistic == comparison.ks)
        // compare() gives exactly what the separate functions give.
        #expect(try DriftStatistics.psi(reference: reference, current: current) == comparison.psi)
        #expect(try DriftStatistics.ks(reference: reference, current: current).pValue == comparison.ksPValue)
        #expect(try DriftStatistics.wasserstein(reference: reference, current: current) == comparison.wasserstein)
    }

    @Test("Shifting a sample by c moves it exactly |c| in Wasserstein", arguments: [-3.25, -0.5, 0.125, 2, 1000])
    func wassersteinShift(shift: Double) throws {
        var random = TestRandom(seed: 42)
        let sample = (0..<500).map { _ in random.normal() }
        let distance = try DriftStatistics.wasserstein(reference: sample, current: sample.map { $0 + shift })
        #expect(abs(distance - abs(shift)) <= 1e-9 * abs(shift), "\(distance) vs \(abs(shift))")
        #expect(try DriftStatistics.wasserstein(reference: sample, current: sample) == 0)
    }

    @Test("Count data that is 90 % zeros gives a finite PSI")
    func heavilyTied() throws {
        var random = TestRandom(seed: 7)
        let reference = (0..<10_000).map { _ in random.unit() < 0.9 ? 0 : Double(1 + random.int(below: 4)) }
        let current = (0..<3_000).map { _ in random.unit() < 0.8 ? 0 : Double(1 + random.int(below: 6)) }
        let comparison = try DriftStatistics.compare(reference: reference, current: current)
        #expect(comparison.psi.isFinite && comparison.psi > 0)
        #expect(try DriftStatistics.psi(reference: reference, current: reference) == 0)
        let allZero = [Double](repeating: 0, count: 50)
        #expect(try DriftStatistics.psi(reference: allZero, current: allZero) == 0)
        #expect(try DriftStatistics.compare(reference: allZero, current: current).psi.isFinite)
    }

    // MARK: Bad input

    @Test("Empty samples, non-finite values and bad bin counts are refused")
    func badInput() {
        let good: [Double] = [1, 2, 3]
        expectMLError(MLError.inputCode) { _ = try DriftStatistics.psi(reference: [], current: good) }
        expectMLError(MLError.inputCode) { _ = try DriftStatistics.ks(reference: good, current: []) }
        expectMLError(MLError.inputCode) { _ = try DriftStatistics.wasserstein(reference: [], current: []) }
        expectMLError(MLError.inputCode) { _ = try DriftStatistics.compare(reference: good, current: []) }
        let error = expectMLError(MLError.inputCode) {
            _ = try DriftStatistics.compare(reference: [1, .nan], current: good)
        }
        #expect(error?.reason == "value 2 of the reference sample is not finite")
        expectMLError(MLError.inputCode) { _ = try DriftStatistics.ks(reference: good, current: [.infinity]) }
        expectMLError(MLError.inputCode) {
            _ = try DriftStatistics.wasserstein(reference: good, current: [0, -.infinity])
        }
        expectMLError(MLError.parametersCode) { _ = try DriftStatistics.psi(reference: good, current: good, bins: 1) }
        expectMLError(MLError.parametersCode) {
            _ = try DriftStatistics.compare(reference: good, current: good, bins: DriftStatistics.maximumBins + 1)
        }
    }
}

/// The Python peer (Tests/Peers/scipy_drift_peer.py) and how to reach it.
enum ScipyDriftPeer {
    /// The Python with SciPy: $LEDGER_PYTHON, else /usr/bin/python3; nil when that is missing or
    /// cannot import scipy.
    static let python: String? = {
        let candidate = ProcessInfo.processInfo.environment["LEDGER_PYTHON"] ?? "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: candidate),
            let check = try? SklearnPeer.run(candidate, ["-c", "import scipy"], input: Data()),
            check.status == 0
        else { return nil }
        return candidate
    }()

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Peers/scipy_drift_peer.py").path
    }
}

/// Our drift statistics agree with SciPy's, which we did not write.
@Suite("SciPy drift peer")
struct ScipyDriftPeerTests {
    enum Shape: Sendable { case normal, counts, uniform }

    /// Seeded cases: shifted normals, tied count data (mostly zeros) and unequal sizes.
    static let cases: [(shape: Shape, m: Int, n: Int, shift: Double, seed: UInt64)] = [
        (.normal, 1000, 700, 0.1, 1), (.normal, 1000, 700, 0.5, 2), (.normal, 5000, 5000, 0, 3),
        (.counts, 2000, 1500, 0.3, 4), (.counts, 1000, 700, 0, 5), (.uniform, 40, 25, 0.2, 6),
        (.normal, 150_000, 20_000, 0.02, 7), (.counts, 3, 2, 1, 8),
    ]

    static func sample(_ shape: Shape, count: Int, shift: Double, random: inout TestRandom) -> [Double] {
        (0..<count).map { _ in
            switch shape {
            case .normal: random.normal() + shift
            case .uniform: random.unit() + shift
            case .counts:
                // About 90 % zeros, then small counts: failed_logins_1h.
                random.unit() < 0.9 - 0.1 * shift ? 0 : Double(1 + random.int(below: 5 + Int(10 * shift)))
            }
        }
    }

    @Test(
        "KS, its p-value, Wasserstein and PSI equal SciPy's on seeded data",
        .enabled(
            if: ScipyDriftPeer.python != nil || SklearnPeer.required,
            "set LEDGER_PYTHON to a Python with SciPy to run Tests/Peers/scipy_drift_peer.py"
        ),
        arguments: cases.indices
    )
    func agree(index: Int) throws {
        let testCase = Self.cases[index]
        var random = TestRandom(seed: testCase.seed)
        let reference = Self.sample(testCase.shape, count: testCase.m, shift: 0, random: &random)
        let current = Self.sample(testCase.shape, count: testCase.n, shift: testCase.shift, random: &random)
        try Self.compareWithPeer(reference: reference, current: current)
    }

    /// Real data: columns of ADBench datasets (Benchmarks/datasets/adbench, real measurements), the benign rows
    /// as the reference and the anomalous rows as the current sample, and the first half of the rows against the
    /// second half.
    @Test(
        "KS, its p-value, Wasserstein and PSI equal SciPy's on real data",
        .enabled(
            if: ScipyDriftPeer.python != nil || SklearnPeer.required,
            "set LEDGER_PYTHON to a Python with SciPy to run Tests/Peers/scipy_drift_peer.py"
        ),
        arguments: ["cardio", "annthyroid", "Wilt", "Ionosphere"]
    )
    func agreeOnRealData(dataset: String) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Benchmarks/datasets/adbench/\(dataset).csv").path
        let rows = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst().map {
            $0.split(separator: ",").compactMap { Double($0) }
        }
        let columns = try #require(rows.first?.count) - 1
        for column in [0, columns / 2, columns - 1] {
            let benign = rows.filter { $0.last == 0 }.map { $0[column] }
            let anomalous = rows.filter { $0.last == 1 }.map { $0[column] }
            try Self.compareWithPeer(reference: benign, current: anomalous)
            let values = rows.map { $0[column] }
            try Self.compareWithPeer(
                reference: Array(values.prefix(values.count / 2)),
                current: Array(values.suffix(values.count / 2))
            )
        }
    }

    /// Asks the peer for the four statistics of the two samples and requires ours to agree: KS, its p-value and
    /// Wasserstein to 1e-9 (and the p-value also to 1e-6 relative, for tiny ones), PSI to 1e-9.
    static func compareWithPeer(reference: [Double], current: [Double]) throws {
        let python = try #require(ScipyDriftPeer.python, "a Python with SciPy (set LEDGER_PYTHON)")
        let request = try JSONSerialization.data(withJSONObject: ["reference": reference, "current": current])
        let result = try SklearnPeer.run(python, [ScipyDriftPeer.script], input: request)
        try #require(result.status == 0, "peer failed: \(result.err)")
        let reply = try #require(try JSONSerialization.jsonObject(with: result.out) as? [String: Any])
        let peerKS = try #require(reply["ks"] as? Double)
        let peerP = try #require(reply["ksPValue"] as? Double)
        let peerWasserstein = try #require(reply["wasserstein"] as? Double)
        let peerPSI = try #require(reply["psi"] as? Double)

        let ours = try DriftStatistics.compare(reference: reference, current: current)
        #expect(abs(ours.ks - peerKS) <= 1e-12, "KS ours \(ours.ks), scipy \(peerKS)")
        #expect(abs(ours.ksPValue - peerP) <= 1e-9, "p ours \(ours.ksPValue), scipy \(peerP)")
        #expect(
            abs(ours.ksPValue - peerP) <= 1e-6 * peerP || abs(ours.ksPValue - peerP) < 1e-300,
            "p ours \(ours.ksPValue), scipy \(peerP)"
        )
        #expect(
            abs(ours.wasserstein - peerWasserstein) <= 1e-9 * max(peerWasserstein, 1e-300),
            "W ours \(ours.wasserstein), scipy \(peerWasserstein)"
        )
        #expect(abs(ours.psi - peerPSI) <= 1e-9, "PSI ours \(ours.psi), numpy \(peerPSI)")
    }
}
