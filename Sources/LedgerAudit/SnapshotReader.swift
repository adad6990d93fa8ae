// Reading an extraction snapshot's JSON Lines into compact columns, a snapshot table.

import LedgerCore

/// The snapshot's rows as compact columns; strings are interned to ids (-1 for null).
struct SnapshotTable {
    static let outcomeMask: UInt8 = 0b11
    static let failure: UInt8 = 1
    static let denied: UInt8 = 2
    /// Bits 2-3: 0 unlabeled, 1 benign, 2 anomalous.
    static let labelMask: UInt8 = 0b1100
    static let adminByNonAdmin: UInt8 = 0b1_0000
    static let bytesNull: UInt8 = 0b10_0000

    var times: [Int64] = []
    var actor: [Int32] = []
    var action: [Int32] = []
    var resource: [Int32] = []
    var ip: [Int32] = []
    var country: [Int32] = []
    var bytes: [Int64] = []
    var flags: [UInt8] = []

    var actors = ByteInterner()
    var actions = ByteInterner()
    var resources = ByteInterner()
    var ips = ByteInterner()
    var countries = ByteInterner()
    var roles = ByteInterner()
    /// Per action id: whether it is one of the spec's admin actions.
    var isAdminAction: [Bool] = []
    /// Per role id: whether it is `admin`.
    var isAdminRole: [Bool] = []
}

/// Reads the snapshot line by line into a ``SnapshotTable``.
///
/// Lines without escapes are read by a hand-written scanner; any other line goes through the
/// canonical JSON parser, which also gives the error for a line that is not JSON.
enum SnapshotReader {
    /// The snapshot's keys in RFC 8785 order, which is the order every line has them in.
    static let keys = [
        "action", "actor_id", "actor_role", "bytes", "country", "id", "label", "occurred_at", "outcome", "resource",
        "session_id", "source_ip",
    ]
    static let keyBytes = keys.map { Array($0.utf8) }
    static let (action, actorID, actorRole, bytes, country, id, label, occurredAt) = (0, 1, 2, 3, 4, 5, 6, 7)
    static let (outcome, resource, sessionID, sourceIP) = (8, 9, 10, 11)
    static let numeric: Set<Int> = [bytes, id]
    static let required: Set<Int> = [action, actorID, actorRole, id, occurredAt, outcome, resource]

    /// One parsed line: for each key, where its string value is (`start` into the buffer), or a kind.
    struct Fields {
        static let missing = 0
        static let string = 1
        static let null = 2
        static let number = 3
        var kind = [Int](repeating: 0, count: 12)
        var start = [Int](repeating: 0, count: 12)
        var count = [Int](repeating: 0, count: 12)
        var number = [Int64](repeating: 0, count: 12)

        mutating func reset() {
            for index in 0..<12 { kind[index] = Self.missing }
        }
    }

    static func read(
        _ snapshot: [UInt8],
        from: Int64,
        to: Int64,
        adminActions: [[UInt8]]
    ) throws(LedgerError) -> SnapshotTable {
        var table = SnapshotTable()
        let estimate = snapshot.count / 280 + 16
        table.times.reserveCapacity(estimate)
        table.actor.reserveCapacity(estimate)
        table.action.reserveCapacity(estimate)
        table.resource.reserveCapacity(estimate)
        table.ip.reserveCapacity(estimate)
        table.country.reserveCapacity(estimate)
        table.bytes.reserveCapacity(estimate)
        table.flags.reserveCapacity(estimate)
        var fields = Fields()
        var scratch: [UInt8] = []
        var previous = Int64.min
        let result: Result<Void, LedgerError> = snapshot.withUnsafeBufferPointer { buffer in
            var lineStart = 0
            var lineNumber = 0
            let end = buffer.count
            while lineStart < end {
                lineNumber += 1
                var lineEnd = lineStart
                while lineEnd < end, buffer[lineEnd] != 0x0a { lineEnd += 1 }
                let line = UnsafeBufferPointer(rebasing: buffer[lineStart..<lineEnd])
                lineStart = lineEnd + 1
                do throws(LedgerError) {
                    fields.reset()
                    if scan(line, into: &fields) {
                        try add(
                            line,
                            fields,
                            into: &table,
                            from: from,
                            to: to,
                            previous: &previous,
                            admin: adminActions
                        )
                    } else {
                        try decode(line, into: &fields, scratch: &scratch)
                        let added: Result<Void, LedgerError> = scratch.withUnsafeBufferPointer { decoded in
                            do throws(LedgerError) {
                                try add(
                                    decoded,
                                    fields,
                                    into: &table,
                                    from: from,
                                    to: to,
                                    previous: &previous,
                                    admin: adminActions
                                )
                                return .success(())
                            } catch {
                                return .failure(error)
                            }
                        }
                        try added.get()
                    }
                } catch {
                    return .failure(LedgerError(.invalidArgument, "snapshot line \(lineNumber): \(error.reason)"))
                }
            }
            return .success(())
        }
        try result.get()
        guard !table.times.isEmpty else { throw LedgerError(.invalidArgument, "the snapshot holds no rows") }
        return table
    }

    /// The fast path: a flat object of strings, nulls and integers without escapes, keys in canonical order.
    /// Returns false for anything else, which then goes to ``decode(_:into:scratch:)``.
    static func scan(_ line: UnsafeBufferPointer<UInt8>, into fields: inout Fields) -> Bool {
        let end = line.count
        var position = 0
        guard end > 2, line[0] == 0x7b else { return false }  // {
        position = 1
        var expected = 0
        while true {
            guard position < end, line[position] == 0x22 else { return false }
            position += 1
            let keyStart = position
            while position < end, line[position] != 0x22 {
                if line[position] == 0x5c { return false }
                position += 1
            }
            guard position < end, expected < keyBytes.count else { return false }
            let key = UnsafeBufferPointer(rebasing: line[keyStart..<position])
            guard key.elementsEqual(keyBytes[expected]) else { return false }
            position += 1
            guard position < end, line[position] == 0x3a else { return false }  // :
            position += 1
            guard position < end else { return false }
            let first = line[position]
            if first == 0x22 {
                position += 1
                let valueStart = position
                while position < end, line[position] != 0x22 {
                    if line[position] == 0x5c || line[position] < 0x20 { return false }
                    position += 1
                }
                guard position < end else { return false }
                fields.kind[expected] = Fields.string
                fields.start[expected] = valueStart
                fields.count[expected] = position - valueStart
                position += 1
            } else if first == 0x6e {  // null
                guard position + 4 <= end, line[position + 1] == 0x75, line[position + 2] == 0x6c,
                    line[position + 3] == 0x6c
                else { return false }
                fields.kind[expected] = Fields.null
                position += 4
            } else if first == 0x2d || (first >= 0x30 && first <= 0x39) {
                let negative = first == 0x2d
                if negative { position += 1 }
                var value: Int64 = 0
                var digits = 0
                while position < end, line[position] >= 0x30, line[position] <= 0x39 {
                    value = value * 10 + Int64(line[position] - 0x30)
                    digits += 1
                    position += 1
                }
                guard digits > 0, digits <= 15 else { return false }
                fields.kind[expected] = Fields.number
                fields.number[expected] = negative ? -value : value
            } else {
                return false
            }
            expected += 1
            guard position < end else { return false }
            if line[position] == 0x2c {  // ,
                position += 1
                continue
            }
            return line[position] == 0x7d && position + 1 == end && expected == keyBytes.count  // }
        }
    }

    /// The slow path: parses the line as JSON and copies its unescaped strings into `scratch`.
    static func decode(
        _ line: UnsafeBufferPointer<UInt8>,
        into fields: inout Fields,
        scratch: inout [UInt8]
    ) throws(LedgerError) {
        let value: JSONValue
        do { value = try CanonicalJSON.parse(line) } catch {
            throw LedgerError(.invalidArgument, "not a JSON object: \(error.reason)")
        }
        guard let object = value.objectValue else { throw LedgerError(.invalidArgument, "not a JSON object") }
        if let unknown = object.keys.filter({ !keys.contains($0) }).sorted().first {
            throw LedgerError(.invalidArgument, "unexpected member \"\(unknown)\"")
        }
        scratch.removeAll(keepingCapacity: true)
        fields.reset()
        for (index, key) in keys.enumerated() {
            switch object[key] {
            case .none: fields.kind[index] = Fields.missing
            case .null?: fields.kind[index] = Fields.null
            case .string(let text)?:
                fields.kind[index] = Fields.string
                fields.start[index] = scratch.count
                scratch.append(contentsOf: text.utf8)
                fields.count[index] = scratch.count - fields.start[index]
            case .some(let other):
                guard let integer = other.integerValue else {
                    throw LedgerError(.invalidArgument, "\(key) must be a string, an integer or null")
                }
                fields.kind[index] = Fields.number
                fields.number[index] = integer
            }
        }
    }

    /// Validates one parsed row and appends it to the table.
    static func add(
        _ buffer: UnsafeBufferPointer<UInt8>,
        _ fields: Fields,
        into table: inout SnapshotTable,
        from: Int64,
        to: Int64,
        previous: inout Int64,
        admin adminActions: [[UInt8]]
    ) throws(LedgerError) {
        for index in 0..<keys.count {
            let kind = fields.kind[index]
            if kind == Fields.missing { throw LedgerError(.invalidArgument, "missing member \"\(keys[index])\"") }
            if kind == Fields.null, required.contains(index) {
                throw LedgerError(.invalidArgument, "\(keys[index]) is null")
            }
            if kind == Fields.number, !numeric.contains(index) {
                throw LedgerError(.invalidArgument, "\(keys[index]) must be a string")
            }
            if kind == Fields.string, numeric.contains(index) {
                throw LedgerError(.invalidArgument, "\(keys[index]) must be an integer")
            }
        }
        func text(_ index: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: buffer[fields.start[index]..<fields.start[index] + fields.count[index]])
        }
        guard let time = parseTime(text(occurredAt)) else {
            throw LedgerError(.invalidArgument, "occurred_at is not YYYY-MM-DDTHH:MM:SS.mmmZ")
        }
        guard time >= from, time < to else { throw LedgerError(.invalidArgument, "occurred_at is outside the window") }
        guard time >= previous else { throw LedgerError(.invalidArgument, "the rows are not in occurred_at order") }
        previous = time

        var flags: UInt8
        let outcomeText = text(outcome)
        if outcomeText.elementsEqual("success".utf8) {
            flags = 0
        } else if outcomeText.elementsEqual("failure".utf8) {
            flags = SnapshotTable.failure
        } else if outcomeText.elementsEqual("denied".utf8) {
            flags = SnapshotTable.denied
        } else {
            throw LedgerError(.invalidArgument, "outcome is not success, failure or denied")
        }
        if fields.kind[label] == Fields.string {
            let labelText = text(label)
            if labelText.elementsEqual("anomalous".utf8) {
                flags |= 2 << 2
            } else if labelText.elementsEqual("benign".utf8) {
                flags |= 1 << 2
            } else {
                throw LedgerError(.invalidArgument, "label is not anomalous, benign or null")
            }
        }
        let actionID = table.actions.intern(text(action))
        if actionID.isNew { table.isAdminAction.append(adminActions.contains { $0.elementsEqual(text(action)) }) }
        let roleID = table.roles.intern(text(actorRole))
        if roleID.isNew { table.isAdminRole.append(text(actorRole).elementsEqual("admin".utf8)) }
        if table.isAdminAction[Int(actionID.id)], !table.isAdminRole[Int(roleID.id)] {
            flags |= SnapshotTable.adminByNonAdmin
        }
        if fields.kind[bytes] == Fields.number {
            table.bytes.append(fields.number[bytes])
        } else {
            table.bytes.append(0)
            flags |= SnapshotTable.bytesNull
        }
        table.times.append(time)
        table.actor.append(table.actors.intern(text(actorID)).id)
        table.action.append(actionID.id)
        table.resource.append(table.resources.intern(text(resource)).id)
        table.ip.append(fields.kind[sourceIP] == Fields.string ? table.ips.intern(text(sourceIP)).id : -1)
        table.country.append(fields.kind[country] == Fields.string ? table.countries.intern(text(country)).id : -1)
        table.flags.append(flags)
    }

    /// Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS.mmmZ`, or nil for any other text or an impossible date.
    static func parseTime(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard text.count == 24, text[4] == 0x2d, text[7] == 0x2d, text[10] == 0x54, text[13] == 0x3a,
            text[16] == 0x3a, text[19] == 0x2e, text[23] == 0x5a
        else { return nil }
        var valid = true
        func number(_ offset: Int, _ width: Int) -> Int64 {
            var value: Int64 = 0
            for position in offset..<offset + width {
                let digit = text[position] &- 0x30
                if digit > 9 { valid = false }
                value = value * 10 + Int64(digit)
            }
            return value
        }
        let (year, month, day) = (number(0, 4), number(5, 2), number(8, 2))
        let (hour, minute, second, millisecond) = (number(11, 2), number(14, 2), number(17, 2), number(20, 3))
        guard valid, (1...12).contains(month), day >= 1, hour < 24, minute < 60, second < 60 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays: Int64 =
            switch month {
            case 2: leap ? 29 : 28
            case 4, 6, 9, 11: 30
            default: 31
            }
        guard day <= monthDays else { return nil }
        // Howard Hinnant's days_from_civil (years 0000 to 9999, so no negative eras).
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = shiftedYear >= 0 ? shiftedYear / 400 : (shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + millisecond
    }
}
