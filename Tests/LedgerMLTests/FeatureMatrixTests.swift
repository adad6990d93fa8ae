import LedgerML
import Testing

@Suite("FeatureMatrix")
struct FeatureMatrixTests {
    @Test("a valid matrix keeps its values row-major")
    func valid() throws {
        let matrix = try FeatureMatrix(values: [1, 2, 3, 4, 5, 6], rows: 2, columns: 3, featureNames: ["a", "b", "c"])
        #expect(matrix[1, 0] == 4)
        #expect(matrix[0, 2] == 3)
    }

    @Test("an empty matrix with columns is allowed")
    func empty() throws {
        let matrix = try FeatureMatrix(values: [], rows: 0, columns: 2, featureNames: ["a", "b"])
        #expect(matrix.rows == 0)
    }

    @Test(
        "invalid shapes, names and values are refused",
        arguments: [
            ([1, 2, 3], 2, 2, ["a", "b"], "3 values do not fill 2 rows × 2 columns"),
            ([1, 2], 1, 2, ["a"], "1 feature names for 2 columns"),
            ([1, 2], 1, 2, ["a", "a"], "feature name \"a\" appears more than once"),
            ([], 0, 0, [], "a feature matrix needs at least one column, got 0"),
            ([1, .nan], 1, 2, ["a", "b"], "row 1, column \"b\" is not finite"),
            ([1, 2, .infinity, 4], 2, 2, ["a", "b"], "row 2, column \"a\" is not finite"),
        ] as [([Double], Int, Int, [String], String)]
    )
    func invalid(values: [Double], rows: Int, columns: Int, names: [String], reason: String) {
        let error = expectMLError(MLError.inputCode) {
            _ = try FeatureMatrix(values: values, rows: rows, columns: columns, featureNames: names)
        }
        #expect(error?.reason == reason)
    }
}
