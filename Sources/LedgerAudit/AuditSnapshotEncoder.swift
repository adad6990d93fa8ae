import LedgerCore

/// One row of the contract's query as a backend holds it. Columns are named by their index in
/// ``AuditExtractor/columns``.
///
/// A conforming type reads its backend's own representation and MUST NOT copy more than it must: the encoder calls
/// these once per column per row, on the extraction's hot path.
protocol AuditRowColumns {
    /// Whether `column` is NULL. The encoder asks this first and calls nothing else for a NULL column.
    func isNull(_ column: Int) -> Bool
    /// The integer in `column` (`id` or `bytes`). Called only for a column that is not NULL.
    func integer(_ column: Int) -> Int64
    /// Calls `body` with the bytes of the text in `column`, which need not be valid UTF-8. Called only for a column
    /// that is not NULL.
    func withText<Result>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result
    /// `occurred_at` as milliseconds since 1970-01-01T00:00:00.000Z when the backend holds an instant (any finer
    /// digits truncated toward the past), or nil when it holds text: then the encoder reads it with ``withText(_:_:)``
    /// and checks its form.
    func instant(_ column: Int) -> Int64?
}

/// Writes the canonical raw snapshot, row by row, for every backend: the one place that knows how a row is encoded
/// and which rows break the contract.
///
/// Each row becomes one RFC 8785 object on its own line, its members in key order, written straight into a buffer
/// and taken back out if the row turns out to break the contract. The buffer goes to the sink whenever it reaches
/// ``chunkSize``, so memory does not grow with the window. The same rows in the same order always give the same
/// bytes, whatever the backend.
struct AuditSnapshotEncoder {
    /// The sink receives chunks of at least this many bytes (the last one excepted) and less than this plus one row.
    static let chunkSize = 1 << 20

    let policy: DataQualityPolicy
    private let keys: [[UInt8]]
    private let order: [Int]
    private let required: [Bool]
    private let outcomeBytes: [[UInt8]]
    private let fromText: [UInt8]
    private let toText: [UInt8]
    private let nowText: [UInt8]
    private let from: Int64
    private let to: Int64
    private let now: Int64
    private var buffer: [UInt8] = []
    private(set) var rows = 0
    private(set) var quarantined: [DataQualityIssue: Int] = [:]
    private var refused: [(id: Int64, issue: DataQualityIssue)] = []

    init(from: Timestamp, to: Timestamp, now: Timestamp, policy: DataQualityPolicy) {
        let columns = AuditExtractor.columns
        self.policy = policy
        keys = columns.map { name -> [UInt8] in
            var key: [UInt8] = []
            CanonicalJSON.appendString(name, to: &key)
            return key + [UInt8(ascii: ":")]
        }
        // RFC 8785 orders members by key; this is the column order of the snapshot's objects.
        order = columns.indices.sorted {
            Array(columns[$0].utf16).lexicographicallyPrecedes(Array(columns[$1].utf16))
        }
        required = columns.indices.map { AuditExtractor.required.contains($0) }
        outcomeBytes = AuditExtractor.outcomes.sorted().map { Array($0.utf8) }
        (fromText, toText, nowText) = (Array(from.rfc3339.utf8), Array(to.rfc3339.utf8), Array(now.rfc3339.utf8))
        (self.from, self.to, self.now) = (
            from.millisecondsSinceEpoch, to.millisecondsSinceEpoch, now.millisecondsSinceEpoch
        )
        buffer.reserveCapacity(Self.chunkSize + 4096)
    }

    /// Encodes `row`, or counts it as refused or quarantined if it breaks the contract; hands `sink` a full chunk.
    ///
    /// - Throws: only what `sink` throws.
    @inline(__always)
    mutating func append<Row: AuditRowColumns>(_ row: Row, sink: (ArraySlice<UInt8>) throws -> Void) rethrows {
        let rowStart = buffer.count
        var issue: DataQualityIssue?
        buffer.append(UInt8(ascii: "{"))
        for (position, column) in order.enumerated() {
            if position > 0 { buffer.append(UInt8(ascii: ",")) }
            buffer.append(contentsOf: keys[column])
            if row.isNull(column) {
                buffer.append(contentsOf: "null".utf8)
                if required[column] { issue = issue ?? .nullRequired }
                continue
            }
            if column == 0 || column == 9 {
                AuditExtractor.appendDecimal(row.integer(column), to: &buffer)
                continue
            }
            if column == 1, let milliseconds = row.instant(column) {
                if let problem = timeIssue(milliseconds: milliseconds) {
                    issue = issue ?? problem
                } else {
                    Self.appendTime(milliseconds, to: &buffer)
                }
                continue
            }
            issue = row.withText(column) { bytes in
                guard AuditExtractor.isValidUTF8(bytes) else { return issue ?? .invalidUTF8 }
                var found = issue
                if column == 6, !outcomeBytes.contains(where: { $0.elementsEqual(bytes) }) {
                    found = found ?? .unknownOutcome
                }
                if column == 1 { found = found ?? timeIssue(text: bytes) }
                AuditExtractor.appendJSONString(bytes, to: &buffer)
                return found
            }
        }
        if let issue {
            buffer.removeSubrange(rowStart...)
            switch policy {
            case .refuse: refused.append((row.isNull(0) ? 0 : row.integer(0), issue))
            case .quarantine: quarantined[issue, default: 0] += 1
            }
            return
        }
        buffer.append(contentsOf: "}\n".utf8)
        rows += 1
        if !refused.isEmpty {
            // The extraction fails anyway: keep counting, stop keeping rows.
            buffer.removeAll(keepingCapacity: true)
        } else if buffer.count >= Self.chunkSize {
            try sink(buffer[...])
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Ends the snapshot: hands `sink` the last chunk and says what was extracted.
    ///
    /// - Throws: `extract.quality` naming up to 10 refused row ids; `extract.empty` if no row was usable; or what
    ///   `sink` throws.
    mutating func finish(
        query: String,
        window: (from: Timestamp, to: Timestamp),
        sink: (ArraySlice<UInt8>) throws -> Void
    ) throws -> AuditExtraction {
        if !refused.isEmpty {
            let shown = refused.prefix(10).map { "\($0.id) (\($0.issue.rawValue))" }.joined(separator: ", ")
            let more = refused.count > 10 ? " and \(refused.count - 10) more" : ""
            throw LedgerError(.extractQuality, "\(refused.count) rows break the Audit DB contract: ids \(shown)\(more)")
        }
        guard rows > 0 else {
            throw LedgerError(
                .extractEmpty,
                "the window \(window.from) ..< \(window.to) holds no usable rows; nothing was extracted"
            )
        }
        if !buffer.isEmpty { try sink(buffer[...]) }
        buffer.removeAll()
        return AuditExtraction(rows: rows, quarantined: quarantined, queryDigest: Hash256.sha256(Array(query.utf8)))
    }

    /// Why a text `occurred_at` is unusable, or nil: it must be the 24-character UTC form, inside `[from, to)` and
    /// not after `now` (text order is time order in this form).
    private func timeIssue(text time: UnsafeBufferPointer<UInt8>) -> DataQualityIssue? {
        guard time.count == 24, Timestamp(rfc3339: String(decoding: time, as: UTF8.self)) != nil,
            !time.lexicographicallyPrecedes(fromText), time.lexicographicallyPrecedes(toText)
        else { return .timeOutsideWindow }
        return nowText.lexicographicallyPrecedes(time) ? .timeInFuture : nil
    }

    /// The same rule for an instant: inside `[from, to)` and not after `now`.
    private func timeIssue(milliseconds time: Int64) -> DataQualityIssue? {
        guard from <= time, time < to else { return .timeOutsideWindow }
        return time > now ? .timeInFuture : nil
    }

    /// The instant as a JSON string in the contract's text form, `"YYYY-MM-DDTHH:MM:SS.mmmZ"`.
    static func appendTime(_ milliseconds: Int64, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\""))
        buffer.append(contentsOf: Timestamp(millisecondsSinceEpoch: milliseconds).rfc3339.utf8)
        buffer.append(UInt8(ascii: "\""))
    }
}
