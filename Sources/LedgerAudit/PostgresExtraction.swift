public import LedgerCore
import NIOCore
import PostgresNIO

extension AuditExtractor {
    /// Reads a half-open window `[from, to)` of a PostgreSQL Audit DB through the contract's query and writes the
    /// canonical raw snapshot, exactly as ``extract(sqlitePath:query:from:to:now:policy:sink:)`` does: the same rows
    /// give byte-identical snapshots, the same row counts, the same quarantine decisions and the same query digest
    /// (the SHA-256 of `query` as given).
    ///
    /// `url` is `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&schema=NAME]`; see
    /// ``AuditSourceLocation``. The password may come from `PGPASSWORD` instead. The session is read-only.
    ///
    /// - The query's `:from` and `:to` (outside string literals, quoted names and comments) become `$1` and `$2`,
    ///   bound as `timestamptz`. Each MUST appear at least once.
    /// - Rows stream from the server under backpressure and go to `sink` in chunks of about 1 MiB, so memory does
    ///   not grow with the window. The sink is called on the task that runs this function, one chunk at a time.
    /// - `occurred_at` is read at millisecond precision, finer digits truncated toward the past, as the contract
    ///   says; the window and "in the future" are judged on the truncated instant, which is what a SQLite Audit DB
    ///   holding the same data (its text has milliseconds only) gives. Because the window's ends are whole
    ///   milliseconds, truncation never moves a row across them. A text `occurred_at` (from a custom query) is
    ///   checked as on SQLite.
    /// - `id` and `bytes` must be integers (`smallint`, `integer` or `bigint`), `occurred_at` a `timestamptz` or
    ///   text, and every other column text (`text`, `varchar`, `char` or `name`).
    ///
    /// - Throws: `argument.invalid` for a malformed URL or an empty window; `extract.source` (worth retrying) if
    ///   the server cannot be reached, refuses the login, lacks the database or goes away; `extract.query` for an
    ///   SQL error, a query without `:from` or `:to`, or other columns or column types; `extract.quality` and
    ///   `extract.empty` as on SQLite. No message holds the password or any row value.
    public static func extract(
        postgres url: String,
        query: String = defaultQuery,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        policy: DataQualityPolicy,
        sink: (ArraySlice<UInt8>) throws -> Void
    ) async throws -> AuditExtraction {
        guard from < to else { throw LedgerError(.invalidArgument, "the window is empty: --from must be before --to") }
        let location = try PostgresAuditLocation(url)
        let statement = try PostgresAuditQuery(query)
        let connection = try await location.connect(readOnly: true)
        do {
            var binds = PostgresBindings(capacity: 2)
            binds.append(PostgresInstant(from))
            binds.append(PostgresInstant(to))
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: statement.text, binds: binds),
                logger: PostgresAuditLocation.logger
            )
            var row = try PostgresAuditRow(rows.columns)
            var encoder = AuditSnapshotEncoder(from: from, to: to, now: now, policy: policy)
            for try await result in rows {
                row.load(result)
                try encoder.append(row, sink: sink)
            }
            let extraction = try encoder.finish(query: query, window: (from, to), sink: sink)
            try? await connection.close()
            return extraction
        } catch let error as LedgerError {
            try? await connection.close()
            throw error
        } catch let error as PSQLError {
            try? await connection.close()
            throw location.failure(error)
        } catch {
            try? await connection.close()
            throw LedgerError(
                .extractSource,
                "the extraction from the Audit DB at \(location) failed: \(type(of: error))"
            )
        }
    }
}

/// The contract's query in PostgreSQL's form: `:from` and `:to` rewritten to `$1` and `$2`.
struct PostgresAuditQuery {
    let text: String

    /// Rewrites the named parameters outside string literals (`'…'`), quoted names (`"…"`), and comments (`-- …`
    /// and nested `/* … */`); `::` casts are left alone.
    ///
    /// - Throws: `extract.query` unless both `:from` and `:to` appear.
    init(_ query: String) throws(LedgerError) {
        let bytes = Array(query.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var uses = (from: 0, to: 0)
        var index = 0
        func isNamePart(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "_") || (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte)
                || (0x61...0x7a).contains(byte) || byte >= 0x80
        }
        func matches(_ word: String, at start: Int) -> Bool {
            let word = Array(word.utf8)
            guard start + word.count <= bytes.count, Array(bytes[start..<start + word.count]) == word else {
                return false
            }
            return start + word.count == bytes.count || !isNamePart(bytes[start + word.count])
        }
        /// Copies from `index` through the first `terminator` (or to the end).
        func copyThrough(_ terminator: UInt8) {
            out.append(bytes[index])
            index += 1
            while index < bytes.count {
                out.append(bytes[index])
                index += 1
                if bytes[index - 1] == terminator { return }
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            let next = index + 1 < bytes.count ? bytes[index + 1] : 0
            switch byte {
            case UInt8(ascii: "'"): copyThrough(UInt8(ascii: "'"))
            case UInt8(ascii: "\""): copyThrough(UInt8(ascii: "\""))
            case UInt8(ascii: "-") where next == UInt8(ascii: "-"): copyThrough(UInt8(ascii: "\n"))
            case UInt8(ascii: "/") where next == UInt8(ascii: "*"):
                var depth = 0
                repeat {
                    if bytes[index] == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "*")
                    {
                        depth += 1
                        out += [bytes[index], bytes[index + 1]]
                        index += 2
                    } else if bytes[index] == UInt8(ascii: "*"), index + 1 < bytes.count,
                        bytes[index + 1] == UInt8(ascii: "/")
                    {
                        depth -= 1
                        out += [bytes[index], bytes[index + 1]]
                        index += 2
                    } else {
                        out.append(bytes[index])
                        index += 1
                    }
                } while depth > 0 && index < bytes.count
            case UInt8(ascii: ":") where next == UInt8(ascii: ":"):
                out += [byte, next]
                index += 2
            case UInt8(ascii: ":") where matches("from", at: index + 1):
                out += Array("$1".utf8)
                index += 5
                uses.from += 1
            case UInt8(ascii: ":") where matches("to", at: index + 1):
                out += Array("$2".utf8)
                index += 3
                uses.to += 1
            default:
                out.append(byte)
                index += 1
            }
        }
        guard uses.from > 0, uses.to > 0 else {
            throw LedgerError(.extractQuery, "the query must use both parameters, :from and :to")
        }
        text = String(decoding: out, as: UTF8.self)
    }
}

/// A window's end bound as `timestamptz`: microseconds since 2000-01-01T00:00:00Z, exact (PostgresNIO's `Date`
/// goes through a `Double` and may be a microsecond off).
struct PostgresInstant: PostgresNonThrowingEncodable {
    /// Milliseconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
    static let epochOffset: Int64 = 946_684_800_000

    let microseconds: Int64

    init(_ time: Timestamp) {
        microseconds = (time.millisecondsSinceEpoch - Self.epochOffset) * 1000
    }

    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into byteBuffer: inout ByteBuffer,
        context: PostgresEncodingContext<JSONEncoder>
    ) {
        byteBuffer.writeInteger(microseconds)
    }
}

/// A row of the query's result as PostgreSQL sent it (binary format), read in place.
struct PostgresAuditRow: AuditRowColumns {
    enum Decoding {
        case int16
        case int32
        case int64
        /// `timestamptz`: microseconds since 2000-01-01.
        case instant
        case text
    }

    let decodings: [Decoding]
    private var cells: [ByteBuffer?] = []

    /// Checks the result's columns: the contract's names in its order, integers for `id` and `bytes`, a
    /// `timestamptz` or text for `occurred_at`, text for the rest.
    ///
    /// - Throws: `extract.query` naming the first column that differs.
    init(_ columns: PostgresColumns) throws(LedgerError) {
        let names = columns.map(\.name)
        guard names == AuditExtractor.columns else {
            throw LedgerError(
                .extractQuery,
                "the query must return the columns \(AuditExtractor.columns.joined(separator: ", ")); it returns \(names.joined(separator: ", "))"
            )
        }
        let texts: Set<PostgresDataType> = [.text, .varchar, .bpchar, .name]
        decodings = try columns.enumerated().map { (index, column) throws(LedgerError) -> Decoding in
            let type = column.dataType
            let typeName = type.knownSQLName?.lowercased() ?? "type \(type.rawValue)"
            switch index {
            case 0, 9:
                switch type {
                case .int2: return .int16
                case .int4: return .int32
                case .int8: return .int64
                default:
                    throw LedgerError(
                        .extractQuery,
                        "the query's column \(column.name) is \(typeName); the contract wants bigint"
                    )
                }
            case 1:
                if type == .timestamptz { return .instant }
                if texts.contains(type) { return .text }
                throw LedgerError(
                    .extractQuery,
                    "the query's column occurred_at is \(typeName); the contract wants timestamptz, a UTC instant"
                )
            default:
                guard texts.contains(type) else {
                    throw LedgerError(
                        .extractQuery,
                        "the query's column \(column.name) is \(typeName); the contract wants text (cast it: \(column.name)::text)"
                    )
                }
                return .text
            }
        }
        cells.reserveCapacity(decodings.count)
    }

    /// Makes this the next row.
    mutating func load(_ row: PostgresRow) {
        cells.removeAll(keepingCapacity: true)
        for cell in row { cells.append(cell.bytes) }
    }

    func isNull(_ column: Int) -> Bool { cells[column] == nil }

    func integer(_ column: Int) -> Int64 {
        guard let cell = cells[column] else { return 0 }
        switch decodings[column] {
        case .int16: return Int64(cell.getInteger(at: cell.readerIndex, as: Int16.self) ?? 0)
        case .int32: return Int64(cell.getInteger(at: cell.readerIndex, as: Int32.self) ?? 0)
        default: return cell.getInteger(at: cell.readerIndex, as: Int64.self) ?? 0
        }
    }

    func withText<Result>(_ column: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        guard let cell = cells[column] else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        return cell.withUnsafeReadableBytes { body($0.assumingMemoryBound(to: UInt8.self)) }
    }

    /// Milliseconds since 1970, truncated toward the past; a malformed value or ±infinity falls outside any window.
    func instant(_ column: Int) -> Int64? {
        guard decodings[column] == .instant else { return nil }
        guard let cell = cells[column], cell.readableBytes == 8,
            let microseconds = cell.getInteger(at: cell.readerIndex, as: Int64.self),
            microseconds != .max, microseconds != .min
        else { return .min }
        let (quotient, remainder) = microseconds.quotientAndRemainder(dividingBy: 1000)
        return (remainder < 0 ? quotient - 1 : quotient) + PostgresInstant.epochOffset
    }
}
