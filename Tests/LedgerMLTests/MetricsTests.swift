import LedgerML
import Testing

@Suite("Metrics")
struct MetricsTests {
    @Test(
        "AUC-ROC and average precision on hand-computed cases, ties included",
        arguments: [
            // No ties: 3 of 4 positive–negative pairs ordered right. AP: (1/2)·1 + (1/2)·(2/3).
            ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.75, 5.0 / 6.0),
            // A tie between one positive and two negatives counts one half per pair.
            // AP: threshold 0.9 gives P = 1, R = 1/2; threshold 0.5 gives P = 2/4, R = 1.
            ([0.5, 0.5, 0.5, 0.9], [0, 1, 0, 1], 0.75, 0.75),
            // All scores tied: AUC 1/2, AP = the positive share.
            ([2, 2, 2, 2, 2], [1, 0, 0, 1, 0], 0.5, 0.4),
            // Perfect and reversed rankings.
            ([1, 2, 3, 4], [0, 0, 1, 1], 1.0, 1.0),
            ([4, 3, 2, 1], [0, 0, 1, 1], 0.0, 5.0 / 12.0),
        ] as [([Double], [UInt8], Double, Double)]
    )
    func handComputed(scores: [Double], labels: [UInt8], auc: Double, averagePrecision: Double) throws {
        #expect(abs(try Metrics.aucROC(scores: scores, labels: labels) - auc) < 1e-15)
        #expect(abs(try Metrics.averagePrecision(scores: scores, labels: labels) - averagePrecision) < 1e-15)
    }

    @Test("only positives: AUC is refused and average precision is 1")
    func onlyPositives() throws {
        let error = expectMLError(MLError.inputCode) { _ = try Metrics.aucROC(scores: [1, 2], labels: [1, 1]) }
        #expect(error?.reason == "AUC-ROC needs both classes in the labels")
        #expect(try Metrics.averagePrecision(scores: [1, 2], labels: [1, 1]) == 1)
    }

    @Test("input errors: one class, mismatched lengths, empty, non-finite scores, bad labels")
    func inputErrors() {
        expectMLError(MLError.inputCode) { _ = try Metrics.aucROC(scores: [1, 2], labels: [0, 0]) }
        expectMLError(MLError.inputCode) { _ = try Metrics.averagePrecision(scores: [1, 2], labels: [0, 0]) }
        expectMLError(MLError.inputCode) { _ = try Metrics.aucROC(scores: [1, 2], labels: [0]) }
        expectMLError(MLError.inputCode) { _ = try Metrics.aucROC(scores: [], labels: []) }
        expectMLError(MLError.inputCode) { _ = try Metrics.aucROC(scores: [1, .nan], labels: [0, 1]) }
        expectMLError(MLError.inputCode) { _ = try Metrics.aucROC(scores: [1, .infinity], labels: [0, 1]) }
        let error = expectMLError(MLError.inputCode) { _ = try Metrics.aucROC(scores: [1, 2], labels: [0, 2]) }
        #expect(error?.reason == "the label of row 2 is 2, not 0 or 1")
        expectMLError(MLError.inputCode) {
            _ = try Metrics.recallAtBudget(scores: [1, 2], labels: [0, 0], budget: 0.5)
        }
    }

    @Test("precision at k ranks ties by row index")
    func precisionAtK() throws {
        let scores: [Double] = [0.9, 0.5, 0.5, 0.1]
        let labels: [UInt8] = [1, 0, 1, 0]
        #expect(try Metrics.precisionAtK(scores: scores, labels: labels, k: 1) == 1)
        // Rows 1 and 2 tie; row 1 (a negative) ranks first.
        #expect(try Metrics.precisionAtK(scores: scores, labels: labels, k: 2) == 0.5)
        #expect(try Metrics.precisionAtK(scores: scores, labels: labels, k: 3) == 2.0 / 3.0)
        #expect(try Metrics.precisionAtK(scores: scores, labels: labels, k: 4) == 0.5)
        // The same tie the other way round: row 1 is now the positive.
        #expect(try Metrics.precisionAtK(scores: scores, labels: [1, 1, 0, 0], k: 2) == 1)
        expectMLError(MLError.parametersCode) { _ = try Metrics.precisionAtK(scores: scores, labels: labels, k: 0) }
        expectMLError(MLError.parametersCode) { _ = try Metrics.precisionAtK(scores: scores, labels: labels, k: 5) }
    }

    @Test("recall at a budget alerts on ceil(budget × rows) rows")
    func recallAtBudget() throws {
        let scores: [Double] = [0.9, 0.5, 0.5, 0.1]
        let labels: [UInt8] = [1, 0, 1, 0]
        #expect(try Metrics.recallAtBudget(scores: scores, labels: labels, budget: 0.5) == 0.5)
        #expect(try Metrics.recallAtBudget(scores: scores, labels: labels, budget: 0.51) == 1)
        #expect(try Metrics.recallAtBudget(scores: scores, labels: labels, budget: 0.01) == 0.5)
        #expect(try Metrics.recallAtBudget(scores: scores, labels: labels, budget: 1) == 1)
        expectMLError(MLError.parametersCode) {
            _ = try Metrics.recallAtBudget(scores: scores, labels: labels, budget: 0)
        }
        expectMLError(MLError.parametersCode) {
            _ = try Metrics.recallAtBudget(scores: scores, labels: labels, budget: 1.5)
        }
    }

    @Test(
        "alert counts round up, forgiving decimal representation error",
        arguments: [(100, 0.07, 7), (700, 0.01, 7), (10, 0.01, 1), (3, 0.5, 2), (1000, 0.001, 1), (7, 1.0, 7)]
            as [(Int, Double, Int)]
    )
    func alertCount(rows: Int, budget: Double, expected: Int) throws {
        #expect(try Metrics.alertCount(rows: rows, budget: budget) == expected)
    }
}
