public import LedgerCore

/// A standard five-field cron schedule, always evaluated in UTC.
///
/// The fields are `minute hour day-of-month month day-of-week`, each `*`, a number, a range `a-b`, a step `*/n` or
/// `a-b/n`, or a comma-separated list of those. The month field also takes `JAN`-`DEC` and the day-of-week field
/// `SUN`-`SAT` (in any case); day-of-week runs 0-7, where both 0 and 7 are Sunday. The macros `@hourly`, `@daily`,
/// `@weekly`, `@monthly` and `@yearly` (or `@annually`) stand for `0 * * * *`, `0 0 * * *`, `0 0 * * 0`,
/// `0 0 1 * *` and `0 0 1 1 *`.
///
/// Days follow Vixie cron (and cronie): when both day fields are restricted, a day matches if EITHER field matches,
/// so `0 0 1 * MON` fires on every 1st and on every Monday. A day field counts as unrestricted when its text starts
/// with `*`, as `*` and `*/2` do; then a day must match both fields, and `0 0 */2 * MON` fires only on Mondays that
/// fall on an odd day of the month.
///
/// Fire times are whole UTC minutes. There are no time zones and no daylight-saving rules, so a schedule means the
/// same instants on every machine. The calendar is the proleptic Gregorian one, computed here without Foundation.
///
/// Two schedules are equal when they fire at the same minutes by the same rules, whatever their spelling:
/// `@weekly`, `0 0 * * 0`, `0 0 * * 7` and `0 0 * * sun` are all equal, although their ``description``s differ.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    /// The schedule the pipeline uses when none is given: 03:00 UTC every Monday.
    public static let defaultExpression = "0 3 * * 1"

    /// The most times ``fires(after:through:)`` returns: ten thousand.
    public static let maximumFireCount = 10_000

    /// How two restricted day fields combine.
    private enum DayRule: Sendable, Hashable {
        /// A day must match both day-of-month and day-of-week (at least one of them is unrestricted).
        case both
        /// A day matches if either day-of-month or day-of-week matches (both are restricted).
        case either
    }

    private let minutes: ValueSet
    private let hours: ValueSet
    private let daysOfMonth: ValueSet
    private let months: ValueSet
    /// Sunday is 0; a 7 in the expression is stored as 0.
    private let daysOfWeek: ValueSet
    private let dayRule: DayRule
    private let expression: String

    /// The expression this schedule was parsed from, normalized: fields separated by single spaces, month and
    /// weekday names in upper case, and a macro in lower case (`@weekly`).
    public var description: String { expression }

    /// ``defaultExpression`` as a schedule: `0 3 * * 1`, 03:00 UTC every Monday.
    public static var mondayAtThree: CronSchedule {
        CronSchedule(
            minutes: ValueSet(0),
            hours: ValueSet(3),
            daysOfMonth: ValueSet(1...31),
            months: ValueSet(1...12),
            daysOfWeek: ValueSet(1),
            dayRule: .both,
            expression: defaultExpression
        )
    }

    private init(
        minutes: ValueSet,
        hours: ValueSet,
        daysOfMonth: ValueSet,
        months: ValueSet,
        daysOfWeek: ValueSet,
        dayRule: DayRule,
        expression: String
    ) {
        self.minutes = minutes
        self.hours = hours
        self.daysOfMonth = daysOfMonth
        self.months = months
        self.daysOfWeek = daysOfWeek
        self.dayRule = dayRule
        self.expression = expression
    }

    /// Parses a five-field cron expression or a macro such as `@weekly`.
    ///
    /// Fields are separated by any run of whitespace, and leading and trailing whitespace is ignored.
    ///
    /// - Throws: `LedgerError` with code `.invalidArgument` (`argument.invalid`) when the expression is empty, has
    ///   other than five fields, names an unknown macro, or has a field with a value out of range, an unknown name,
    ///   a backwards range, a step below 1, a step on a single value (`5/10`), an empty list item or any other text.
    ///   The reason names the field and the offending text, and shows a valid example.
    public init(_ expression: String) throws(LedgerError) {
        let fields = expression.split(whereSeparator: \.isWhitespace)
        guard let first = fields.first else {
            throw LedgerError(.invalidArgument, "The cron expression is empty. \(Self.example)")
        }
        if first.hasPrefix("@") {
            let macro = first.lowercased()
            guard fields.count == 1, let fieldsText = Self.macros[macro] else {
                throw LedgerError(
                    .invalidArgument,
                    "Invalid cron expression \(Self.quoted(expression)): a macro stands alone and is one of @hourly, "
                        + "@daily, @weekly, @monthly, @yearly or @annually. \(Self.example)"
                )
            }
            try self.init(fields: fieldsText.split(separator: " "), expression: macro)
            return
        }
        guard fields.count == 5 else {
            throw LedgerError(
                .invalidArgument,
                "Invalid cron expression \(Self.quoted(expression)): it has \(fields.count) "
                    + "\(fields.count == 1 ? "field" : "fields"), but cron needs exactly five. \(Self.example)"
            )
        }
        try self.init(fields: fields, expression: fields.map { $0.uppercased() }.joined(separator: " "))
    }

    private init(fields: [Substring], expression: String) throws(LedgerError) {
        minutes = try Self.minuteField.parse(fields[0])
        hours = try Self.hourField.parse(fields[1])
        daysOfMonth = try Self.dayOfMonthField.parse(fields[2])
        months = try Self.monthField.parse(fields[3])
        daysOfWeek = try Self.dayOfWeekField.parse(fields[4]).foldingSevenIntoZero()
        dayRule = fields[2].hasPrefix("*") || fields[4].hasPrefix("*") ? .both : .either
        self.expression = expression
    }

    public static func == (lhs: CronSchedule, rhs: CronSchedule) -> Bool {
        lhs.minutes == rhs.minutes && lhs.hours == rhs.hours && lhs.daysOfMonth == rhs.daysOfMonth
            && lhs.months == rhs.months && lhs.daysOfWeek == rhs.daysOfWeek && lhs.dayRule == rhs.dayRule
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(minutes)
        hasher.combine(hours)
        hasher.combine(daysOfMonth)
        hasher.combine(months)
        hasher.combine(daysOfWeek)
        hasher.combine(dayRule)
    }

    // MARK: - Fire times

    /// The first fire time strictly after `time`.
    ///
    /// Fire times are whole minutes, so for a `time` inside a minute the minute that contains it is never returned.
    /// The search never steps minute by minute: it passes over a month that cannot match in one step, over a day that
    /// cannot match in one step, and finds the hour and minute within a matching day with bit operations.
    ///
    /// - Returns: nil when the schedule does not fire within 400 years after `time`. The Gregorian calendar, weekdays
    ///   included, repeats every 400 years, so nil means the schedule never fires again (such as `0 0 30 2 *`) or
    ///   that its next fire time lies beyond what a `Timestamp` can hold.
    public func nextFire(after time: Timestamp) -> Timestamp? {
        let (minuteIndex, _) = time.millisecondsSinceEpoch.flooredDivision(by: 60_000)
        var (epochDay, minuteOfDay) = (minuteIndex + 1).flooredDivision(by: 1440)
        var (year, month, dayOfMonth) = CivilCalendar.civil(fromDays: epochDay)
        for _ in 0...Self.searchHorizonInMonths {
            let length = CivilCalendar.daysIn(month: month, year: year)
            if months.contains(month) {
                var weekday = CivilCalendar.weekday(ofDay: epochDay)
                while dayOfMonth <= length {
                    if matches(dayOfMonth: dayOfMonth, weekday: weekday),
                        let fireMinute = firstTime(atOrAfter: Int(minuteOfDay))
                    {
                        return Self.timestamp(day: epochDay, minuteOfDay: Int64(fireMinute))
                    }
                    dayOfMonth += 1
                    epochDay += 1
                    weekday = (weekday + 1) % 7
                    minuteOfDay = 0
                }
            } else {
                epochDay += length - dayOfMonth + 1
            }
            (year, month) = month == 12 ? (year + 1, 1) : (year, month + 1)
            dayOfMonth = 1
            minuteOfDay = 0
        }
        return nil
    }

    /// The last fire time at or before `time`: `time` itself when it is the first instant of a matching minute.
    ///
    /// For a `time` inside a matching minute, that minute's start is returned.
    ///
    /// - Returns: nil when the schedule does not fire within 400 years before `time`, which (as for
    ///   ``nextFire(after:)``) means it never fires, or when that fire time lies before what a `Timestamp` can hold.
    public func previousFire(atOrBefore time: Timestamp) -> Timestamp? {
        let (minuteIndex, _) = time.millisecondsSinceEpoch.flooredDivision(by: 60_000)
        var (epochDay, minuteOfDay) = minuteIndex.flooredDivision(by: 1440)
        var (year, month, dayOfMonth) = CivilCalendar.civil(fromDays: epochDay)
        for _ in 0...Self.searchHorizonInMonths {
            if months.contains(month) {
                var weekday = CivilCalendar.weekday(ofDay: epochDay)
                while dayOfMonth >= 1 {
                    if matches(dayOfMonth: dayOfMonth, weekday: weekday),
                        let fireMinute = lastTime(atOrBefore: Int(minuteOfDay))
                    {
                        return Self.timestamp(day: epochDay, minuteOfDay: Int64(fireMinute))
                    }
                    dayOfMonth -= 1
                    epochDay -= 1
                    weekday = (weekday + 6) % 7
                    minuteOfDay = 1439
                }
            } else {
                epochDay -= dayOfMonth
            }
            (year, month) = month == 1 ? (year - 1, 12) : (year, month - 1)
            dayOfMonth = CivilCalendar.daysIn(month: month, year: year)
            minuteOfDay = 1439
        }
        return nil
    }

    /// Every fire time `t` with `start < t <= end`, in increasing order.
    ///
    /// Returns at most ``maximumFireCount`` (10 000) times: when the range holds more, the result is the first
    /// 10 000 of them, so a caller that gets exactly that many SHOULD treat the list as cut short. Empty when
    /// `end <= start`.
    public func fires(after start: Timestamp, through end: Timestamp) -> [Timestamp] {
        var result: [Timestamp] = []
        var cursor = start
        while result.count < Self.maximumFireCount, let next = nextFire(after: cursor), next <= end {
            result.append(next)
            cursor = next
        }
        return result
    }

    // MARK: - Matching

    /// 400 years of months, plus the month the search starts in.
    private static let searchHorizonInMonths = 400 * 12

    private func matches(dayOfMonth: Int64, weekday: Int64) -> Bool {
        let dayOfMonthMatches = daysOfMonth.contains(dayOfMonth)
        let weekdayMatches = daysOfWeek.contains(weekday)
        return switch dayRule {
        case .both: dayOfMonthMatches && weekdayMatches
        case .either: dayOfMonthMatches || weekdayMatches
        }
    }

    /// The first matching minute of a matching day at or after `minuteOfDay` (0-1439), as a minute of the day.
    private func firstTime(atOrAfter minuteOfDay: Int) -> Int? {
        let hour = minuteOfDay / 60
        if hours.contains(hour), let minute = minutes.first(atOrAfter: minuteOfDay % 60) {
            return hour * 60 + minute
        }
        guard let nextHour = hours.first(atOrAfter: hour + 1), let minute = minutes.first(atOrAfter: 0) else {
            return nil
        }
        return nextHour * 60 + minute
    }

    /// The last matching minute of a matching day at or before `minuteOfDay` (0-1439), as a minute of the day.
    private func lastTime(atOrBefore minuteOfDay: Int) -> Int? {
        let hour = minuteOfDay / 60
        if hours.contains(hour), let minute = minutes.last(atOrBefore: minuteOfDay % 60) {
            return hour * 60 + minute
        }
        guard let previousHour = hours.last(atOrBefore: hour - 1), let minute = minutes.last(atOrBefore: 59) else {
            return nil
        }
        return previousHour * 60 + minute
    }

    /// The timestamp of a minute, or nil when it does not fit in a `Timestamp`.
    private static func timestamp(day: Int64, minuteOfDay: Int64) -> Timestamp? {
        let (milliseconds, overflow) = (day * 1440 + minuteOfDay).multipliedReportingOverflow(by: 60_000)
        return overflow ? nil : Timestamp(millisecondsSinceEpoch: milliseconds)
    }

    // MARK: - Parsing

    private static let example =
        "A valid expression has five fields (minute hour day-of-month month day-of-week), such as \"0 3 * * 1\" "
        + "for 03:00 UTC every Monday."

    private static let macros: [String: String] = [
        "@hourly": "0 * * * *",
        "@daily": "0 0 * * *",
        "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *",
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
    ]

    private static let minuteField = Field(name: "minute", bounds: 0...59)
    private static let hourField = Field(name: "hour", bounds: 0...23)
    private static let dayOfMonthField = Field(name: "day-of-month", bounds: 1...31)
    private static let monthField = Field(
        name: "month",
        bounds: 1...12,
        names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
        firstNamedValue: 1
    )
    private static let dayOfWeekField = Field(
        name: "day-of-week",
        bounds: 0...7,
        names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
        firstNamedValue: 0
    )

    /// User text for an error message, quoted and cut to a readable length.
    private static func quoted(_ text: some StringProtocol) -> String {
        let limit = 40
        return text.count <= limit ? "\"\(text)\"" : "\"\(text.prefix(limit))...\""
    }

    /// One of the five fields: its name for messages, its range and its names.
    private struct Field: Sendable {
        let name: String
        let bounds: ClosedRange<Int>
        var names: [String] = []
        var firstNamedValue = 0

        /// The set of values `text` selects, or an `.invalidArgument` error naming this field.
        func parse(_ text: Substring) throws(LedgerError) -> ValueSet {
            var values = ValueSet()
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard !item.isEmpty else { throw invalid(text, "it has an empty item in its list") }
                let parts = item.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count <= 2 else { throw invalid(text, "\(quoted(item)) has more than one \"/\"") }
                var step = 1
                if parts.count == 2 {
                    guard let parsed = Self.number(parts[1]), parsed >= 1 else {
                        throw invalid(text, "the step in \(quoted(item)) must be a whole number from 1 up")
                    }
                    step = parsed
                }
                let low: Int
                let high: Int
                if parts[0] == "*" {
                    (low, high) = (bounds.lowerBound, bounds.upperBound)
                } else {
                    let ends = parts[0].split(separator: "-", omittingEmptySubsequences: false)
                    guard ends.count <= 2 else {
                        throw invalid(text, "\(quoted(item)) is not a number, a range a-b or a step")
                    }
                    low = try value(ends[0], in: text)
                    if ends.count == 2 {
                        high = try value(ends[1], in: text)
                        guard low <= high else {
                            throw invalid(
                                text,
                                "the range \(quoted(parts[0])) runs backwards; put the smaller end first"
                            )
                        }
                    } else {
                        guard parts.count == 1 else {
                            throw invalid(
                                text,
                                "a step needs a range, as in \"*/\(step)\" or \"\(low)-\(bounds.upperBound)/\(step)\""
                            )
                        }
                        high = low
                    }
                }
                for value in stride(from: low, through: high, by: step) {
                    values.insert(value)
                }
            }
            return values
        }

        /// A number within `bounds` or one of `names`, in any case.
        private func value(_ text: Substring, in field: Substring) throws(LedgerError) -> Int {
            let isDigits = !text.isEmpty && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
            if isDigits {
                guard let number = Self.number(text), bounds.contains(number) else {
                    throw invalid(
                        field,
                        "\(quoted(text)) is outside \(bounds.lowerBound)-\(bounds.upperBound)\(nameHint)"
                    )
                }
                return number
            }
            if let index = names.firstIndex(of: text.uppercased()) {
                return firstNamedValue + index
            }
            let expected = nameRange.map { "a number or a name from \($0.first) to \($0.last)" } ?? "a number"
            throw invalid(field, "\(quoted(text)) is not \(expected)")
        }

        private var nameRange: (first: String, last: String)? {
            guard let first = names.first, let last = names.last else { return nil }
            return (first, last)
        }

        private var nameHint: String {
            guard let nameRange else { return "" }
            let sunday = bounds.upperBound == 7 ? " (0 and 7 are Sunday)" : ""
            return "\(sunday) or \(nameRange.first)-\(nameRange.last)"
        }

        private func invalid(_ field: Substring, _ problem: String) -> LedgerError {
            LedgerError(.invalidArgument, "Invalid cron \(name) field \(quoted(field)): \(problem). \(example)")
        }

        /// A non-negative decimal number of ASCII digits only; nil for anything else or on overflow.
        private static func number(_ text: Substring) -> Int? {
            guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            return Int(text)
        }
    }
}

/// A set of small non-negative integers (0-63) as a bit mask.
private struct ValueSet: Sendable, Hashable {
    private var bits: UInt64 = 0

    init() {}

    init(_ value: Int) { insert(value) }

    init(_ values: ClosedRange<Int>) {
        for value in values { insert(value) }
    }

    mutating func insert(_ value: Int) { bits |= 1 << UInt64(value) }

    func contains(_ value: Int) -> Bool { (0..<64).contains(value) && bits & (1 << UInt64(value)) != 0 }

    func contains(_ value: Int64) -> Bool { contains(Int(value)) }

    /// The smallest member at or after `position`.
    func first(atOrAfter position: Int) -> Int? {
        guard position < 64 else { return nil }
        let masked = bits & (UInt64.max << UInt64(max(position, 0)))
        return masked == 0 ? nil : masked.trailingZeroBitCount
    }

    /// The largest member at or before `position`.
    func last(atOrBefore position: Int) -> Int? {
        guard position >= 0 else { return nil }
        let masked = position >= 63 ? bits : bits & ((1 << UInt64(position + 1)) - 1)
        return masked == 0 ? nil : 63 - masked.leadingZeroBitCount
    }

    /// Day-of-week: 7 is another name for Sunday, 0.
    func foldingSevenIntoZero() -> ValueSet {
        var folded = self
        if contains(7) {
            folded.bits &= ~(1 << 7)
            folded.insert(0)
        }
        return folded
    }
}

/// Proleptic Gregorian calendar arithmetic in UTC, on days since 1970-01-01.
private enum CivilCalendar {
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        Timestamp.civil(fromDays: days)
    }

    /// The day of the week of a day since 1970-01-01, with Sunday 0; 1970-01-01 was a Thursday (4).
    static func weekday(ofDay days: Int64) -> Int64 {
        (days % 7 + 11) % 7
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func isLeap(_ year: Int64) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }
}

extension Int64 {
    /// Division rounding toward negative infinity, with a remainder in `0..<divisor`; `divisor` MUST be positive.
    fileprivate func flooredDivision(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
