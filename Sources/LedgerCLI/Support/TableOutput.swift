import LedgerCore

extension Timestamp {
    /// A time as a user types it: `YYYY-MM-DDTHH:MM:SS.mmmZ`, `YYYY-MM-DDTHH:MM:SSZ`, or `YYYY-MM-DD` (midnight
    /// UTC). Always UTC.
    init?(userInput text: String) {
        let expanded =
            switch text.count {
            case 10: text + "T00:00:00.000Z"
            case 20 where text.hasSuffix("Z"): String(text.dropLast()) + ".000Z"
            default: text
            }
        guard let time = Timestamp(rfc3339: expanded) else { return nil }
        self = time
    }
}

extension Console {
    /// Prints `rows` under `header` as left-aligned columns two spaces apart.
    func table(_ header: [String], _ rows: [[String]]) {
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
