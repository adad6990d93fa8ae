import LedgerCore
import LedgerWorkspace

extension Console {
    /// Prints `rows` under `header` as left-aligned columns two spaces apart.
    /// Cells are shown as ``Console/printable(_:keepingLines:)`` makes them: a tab or newline in a name from the
    /// log is escaped rather than breaking the columns.
    func table(_ header: [String], _ rows: [[String]]) {
        let rows = rows.map { $0.map { Console.printable($0) } }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        for row in [header] + rows {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            out(cells.joined(separator: "  "))
        }
    }
}
