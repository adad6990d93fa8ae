/// A dense table of finite numbers: `rows` × `columns`, stored row-major.
///
/// Invariants, checked by the initializer and relied on by every algorithm in this module:
/// `values.count == rows * columns`, `featureNames.count == columns`, every value is finite (no NaN,
/// no infinity), `columns >= 1`, and the feature names are unique.
public struct FeatureMatrix: Sendable, Hashable {
    /// The values, row after row: the value of row `r`, column `c` is `values[r * columns + c]`.
    public let values: [Double]
    public let rows: Int
    public let columns: Int
    /// One name per column, in column order.
    public let featureNames: [String]

    /// Checks the invariants above and throws `ml.input` naming the first violation.
    public init(values: [Double], rows: Int, columns: Int, featureNames: [String]) throws(MLError) {
        guard rows >= 0 else { throw .input("rows must not be negative, got \(rows)") }
        guard columns >= 1 else { throw .input("a feature matrix needs at least one column, got \(columns)") }
        let (expected, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow, values.count == expected else {
            throw .input("\(values.count) values do not fill \(rows) rows × \(columns) columns")
        }
        guard featureNames.count == columns else {
            throw .input("\(featureNames.count) feature names for \(columns) columns")
        }
        var seen = Set<String>()
        for name in featureNames where !seen.insert(name).inserted {
            throw .input("feature name \"\(name)\" appears more than once")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw .input("row \(bad / columns + 1), column \"\(featureNames[bad % columns])\" is not finite")
        }
        self.values = values
        self.rows = rows
        self.columns = columns
        self.featureNames = featureNames
    }

    /// A matrix whose invariants the caller has already established (the CSV parser).
    init(trusted values: [Double], rows: Int, columns: Int, featureNames: [String]) {
        self.values = values
        self.rows = rows
        self.columns = columns
        self.featureNames = featureNames
    }

    /// The value at `row`, `column` (both 0-based). Traps when out of range, like an array subscript.
    public subscript(row: Int, column: Int) -> Double {
        precondition(column >= 0 && column < columns, "column out of range")
        return values[row * columns + column]
    }
}
