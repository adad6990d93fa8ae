/// A strict reader for numeric CSV tables such as feature exports.
///
/// The format:
/// - UTF-8 (an optional byte order mark is skipped), fields separated by `,`, lines ended by `\n`
///   or `\r\n`; the last line's terminator is optional, and blank lines are allowed only at the end.
/// - A header row is required. Column names are taken verbatim (no trimming, no quoting) and MUST
///   be non-empty and unique.
/// - Every row has exactly as many fields as the header.
/// - Every column that is neither the label column nor in `ignoring` is a feature, in header order.
///   A feature cell is a decimal number (`[+-]digits[.digits][e[+-]digits]`, see `DecimalParser`),
///   finite after parsing. An empty feature cell is an error ("empty value"): there is no missing
///   value support.
/// - A label cell is exactly `0`, `1`, `false` or `true` (1 = anomaly).
/// - Cells of ignored columns are skipped unread. Ignored names absent from the header are allowed.
///
/// Errors are `ml.input` and name the 1-based line and the column, e.g.
/// `line 17, column "f3": "abc" is not a number`.
public enum NumericCSV {
    private enum Role {
        case feature
        case label
        case ignored
    }

    /// Parses `bytes`. When `labelColumn` is given it MUST be in the header, and `labels` holds one
    /// 0/1 value per row; otherwise `labels` is nil.
    public static func parse(
        _ bytes: [UInt8],
        labelColumn: String?,
        ignoring: Set<String> = []
    ) throws(MLError) -> (matrix: FeatureMatrix, labels: [UInt8]?) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(MLError) in
            try parse(buffer, labelColumn: labelColumn, ignoring: ignoring)
        }
    }

    private static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>,
        labelColumn: String?,
        ignoring: Set<String>
    ) throws(MLError) -> (matrix: FeatureMatrix, labels: [UInt8]?) {
        let count = bytes.count
        var index = 0
        if count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }

        // The header.
        var headerEnd = index
        while headerEnd < count, bytes[headerEnd] != UInt8(ascii: "\n") { headerEnd += 1 }
        var headerContentEnd = headerEnd
        if headerContentEnd > index, bytes[headerContentEnd - 1] == UInt8(ascii: "\r") { headerContentEnd -= 1 }
        guard headerContentEnd > index else { throw .input("line 1: the CSV has no header row") }
        guard
            let header = String(
                validating: UnsafeBufferPointer(rebasing: bytes[index..<headerContentEnd]),
                as: UTF8.self
            )
        else { throw .input("line 1: the header is not valid UTF-8") }
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var seen = Set<String>()
        for (position, name) in names.enumerated() {
            guard !name.isEmpty else { throw .input("line 1: column \(position + 1) has an empty name") }
            guard seen.insert(name).inserted else { throw .input("line 1: column \"\(name)\" appears more than once") }
        }
        if let labelColumn, !seen.contains(labelColumn) {
            throw .input("line 1: the label column \"\(labelColumn)\" is not in the header")
        }
        let roles: [Role] = names.map { name in
            if name == labelColumn { return .label }
            return ignoring.contains(name) ? .ignored : .feature
        }
        let featureNames = zip(names, roles).filter { $0.1 == .feature }.map(\.0)
        guard !featureNames.isEmpty else { throw .input("line 1: the header has no feature columns") }
        index = min(headerEnd + 1, count)

        // The rows.
        var newlines = 0
        for position in index..<count where bytes[position] == UInt8(ascii: "\n") { newlines += 1 }
        var values = [Double]()
        values.reserveCapacity((newlines + 1) * featureNames.count)
        var labels = [UInt8]()
        if labelColumn != nil { labels.reserveCapacity(newlines + 1) }
        var line = 1
        var rows = 0
        let lastColumn = names.count - 1
        rowLoop: while index < count {
            line += 1
            if bytes[index] == UInt8(ascii: "\n") || bytes[index] == UInt8(ascii: "\r") {
                // A blank line: allowed only if nothing but line ends follows.
                for position in index..<count
                where bytes[position] != UInt8(ascii: "\n") && bytes[position] != UInt8(ascii: "\r") {
                    throw .input("line \(line) is empty")
                }
                break rowLoop
            }
            let lineStart = index
            for (column, role) in roles.enumerated() {
                let fieldStart = index
                switch role {
                case .feature:
                    guard let (value, end) = DecimalParser.parse(bytes, from: index), isDelimiter(bytes, end) else {
                        let text = cell(bytes, from: fieldStart)
                        if text.isEmpty { throw .input("line \(line), column \"\(names[column])\": empty value") }
                        throw .input("line \(line), column \"\(names[column])\": \(quoted(text)) is not a number")
                    }
                    guard value.isFinite else {
                        throw .input(
                            "line \(line), column \"\(names[column])\": \(quoted(cell(bytes, from: fieldStart))) "
                                + "is out of range"
                        )
                    }
                    values.append(value)
                    index = end
                case .label:
                    let text = cell(bytes, from: fieldStart)
                    switch text {
                    case "0", "false": labels.append(0)
                    case "1", "true": labels.append(1)
                    default:
                        throw .input(
                            "line \(line), column \"\(names[column])\": \(quoted(text)) is not 0, 1, false or true"
                        )
                    }
                    index = fieldStart + text.utf8.count
                case .ignored:
                    while index < count, bytes[index] != UInt8(ascii: ","), !isLineEnd(bytes, index) { index += 1 }
                }
                // The delimiter after the field.
                if column < lastColumn {
                    guard index < count, bytes[index] == UInt8(ascii: ",") else {
                        throw .input(
                            "line \(line) has \(fieldCount(bytes, from: lineStart)) fields but the header has "
                                + "\(names.count)"
                        )
                    }
                    index += 1
                } else if index < count {
                    if bytes[index] == UInt8(ascii: "\r"), index + 1 < count, bytes[index + 1] == UInt8(ascii: "\n") {
                        index += 2
                    } else if bytes[index] == UInt8(ascii: "\n") {
                        index += 1
                    } else {
                        throw .input(
                            "line \(line) has \(fieldCount(bytes, from: lineStart)) fields but the header has "
                                + "\(names.count)"
                        )
                    }
                }
            }
            rows += 1
        }
        let matrix = FeatureMatrix(trusted: values, rows: rows, columns: featureNames.count, featureNames: featureNames)
        return (matrix, labelColumn == nil ? nil : labels)
    }

    /// Whether the byte at `index` ends a field: end of input, `,`, `\n` or `\r\n`.
    private static func isDelimiter(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> Bool {
        index == bytes.count || bytes[index] == UInt8(ascii: ",") || isLineEnd(bytes, index)
    }

    private static func isLineEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> Bool {
        guard index < bytes.count else { return false }
        if bytes[index] == UInt8(ascii: "\n") { return true }
        return bytes[index] == UInt8(ascii: "\r") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n")
    }

    /// The text of the cell that starts at `start`, up to the next delimiter.
    private static func cell(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> String {
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: ","), !isLineEnd(bytes, end) { end += 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    /// The number of fields on the line that starts at `start`.
    private static func fieldCount(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var fields = 1
        var index = start
        while index < bytes.count, !isLineEnd(bytes, index) {
            if bytes[index] == UInt8(ascii: ",") { fields += 1 }
            index += 1
        }
        return fields
    }

    /// A cell for an error message: quoted, and cut to 40 characters.
    private static func quoted(_ text: String) -> String {
        text.count <= 40 ? "\"\(text)\"" : "\"\(text.prefix(40))…\""
    }
}
