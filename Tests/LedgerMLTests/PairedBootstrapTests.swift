import LedgerML
import LedgerTesting
import Testing

@Suite("PairedBootstrap")
struct PairedBootstrapTests {
    /// Labels with about 10% anomalies, a strong candidate and a weak champion.
    static func data(rows: Int, seed: UInt64) -> (labels: [UInt8], strong: [Double], weak: [Double]) {
        var random = TestRandom(seed: seed)
        var labels: [UInt8] = []
        var strong: [Double] = []
        var weak: [Double] = []
        for _ in 0..<rows {
            let label: UInt8 = random.unit() < 0.1 ? 1 : 0
            labels.append(label)
            strong.append(Double(label) * 2 + random.normal())
            weak.append(Double(label) * 0.3 + random.normal())
        }
        return (labels, strong, weak)
    }

    @Test("identical models differ by exactly 0 with the interval [0, 0]")
    func identical() throws {
        let (labels, strong, _) = Self.data(rows: 500, seed: 1)
        let result = try PairedBootstrap.aucDifference(
            candidate: strong,
            champion: strong,
            labels: labels,
            replicates: 200,
            seed: 3
        )
        #expect(result.difference == 0)
        #expect(result.lower == 0)
        #expect(result.upper == 0)
    }

    @Test("same seed, same interval; another seed, another interval")
    func determinism() throws {
        let (labels, strong, weak) = Self.data(rows: 400, seed: 2)
        let first = try PairedBootstrap.aucDifference(candidate: strong, champion: weak, labels: labels, seed: 7)
        let again = try PairedBootstrap.aucDifference(candidate: strong, champion: weak, labels: labels, seed: 7)
        let other = try PairedBootstrap.aucDifference(candidate: strong, champion: weak, labels: labels, seed: 8)
        #expect(first == again)
        #expect(first.difference == other.difference)
        #expect(first.lower != other.lower || first.upper != other.upper)
    }

    @Test("a clearly better candidate has an interval above 0 that contains the point estimate")
    func better() throws {
        let (labels, strong, weak) = Self.data(rows: 2000, seed: 4)
        let result = try PairedBootstrap.aucDifference(candidate: strong, champion: weak, labels: labels, seed: 1)
        let expected = try Metrics.aucROC(scores: strong, labels: labels) - Metrics.aucROC(scores: weak, labels: labels)
        #expect(result.difference == expected)
        #expect(result.lower > 0)
        #expect(result.lower <= result.difference && result.difference <= result.upper)
        // Swapped roles mirror the interval.
        let swapped = try PairedBootstrap.aucDifference(candidate: weak, champion: strong, labels: labels, seed: 1)
        #expect(swapped.difference == -result.difference)
        #expect(abs(swapped.upper + result.lower) < 1e-12)
    }

    @Test("a tiny holdout still finishes, redrawing single-class resamples")
    func tiny() throws {
        let result = try PairedBootstrap.aucDifference(
            candidate: [0.1, 0.9],
            champion: [0.9, 0.1],
            labels: [0, 1],
            replicates: 50,
            seed: 1
        )
        #expect(result.difference == 1)
        #expect(result.lower == 1 && result.upper == 1)
    }

    @Test("10,000 rows × 1,000 replicates finish within 20 s even in a debug build")
    func speed() throws {
        let (labels, strong, weak) = Self.data(rows: 10_000, seed: 5)
        let elapsed = try ContinuousClock().measure {
            _ = try PairedBootstrap.aucDifference(candidate: strong, champion: weak, labels: labels, seed: 1)
        }
        #expect(elapsed < .seconds(20), "\(elapsed)")
    }

    @Test("bad parameters and inputs are refused")
    func errors() {
        let scores: [Double] = [1, 2, 3]
        let labels: [UInt8] = [0, 1, 0]
        expectMLError(MLError.parametersCode) {
            _ = try PairedBootstrap.aucDifference(
                candidate: scores,
                champion: scores,
                labels: labels,
                replicates: 0,
                seed: 0
            )
        }
        expectMLError(MLError.parametersCode) {
            _ = try PairedBootstrap.aucDifference(
                candidate: scores,
                champion: scores,
                labels: labels,
                confidence: 1,
                seed: 0
            )
        }
        expectMLError(MLError.inputCode) {
            _ = try PairedBootstrap.aucDifference(candidate: scores, champion: [1, 2], labels: labels, seed: 0)
        }
        expectMLError(MLError.inputCode) {
            _ = try PairedBootstrap.aucDifference(candidate: scores, champion: scores, labels: [0, 0, 0], seed: 0)
        }
    }
}
