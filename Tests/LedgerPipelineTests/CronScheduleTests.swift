import LedgerCore
import LedgerPipeline
import LedgerTestSupport
import LedgerTesting
import Testing

/// `CronSchedule`: parsing, errors, known fire times and a property test against a brute-force scan.
///
/// Expected dates were checked against Python's `datetime` (2026-11-26 is a Thursday, 2026-04-13 a Monday,
/// 2100 is not a leap year).
@Suite("Cron schedule")
struct CronScheduleTests {
    // MARK: - Parsing

    /// Pairs of expressions that MUST parse to the same schedule.
    @Test(
        "Each syntax form parses to the same schedule as its spelled-out equivalent",
        arguments: [
            ("*/15 * * * *", "0,15,30,45 * * * *"),
            ("10-50/20 * * * *", "10,30,50 * * * *"),
            ("0 9-17 * * *", "0 9,10,11,12,13,14,15,16,17 * * *"),
            ("0 0 1-31/10 * *", "0 0 1,11,21,31 * *"),
            ("5 4 * 2-4,11 *", "5 4 * 2,3,4,11 *"),
            ("0 0 * jan-Mar *", "0 0 * 1-3 *"),
            ("0 0 * DEC,jul *", "0 0 * 7,12 *"),
            ("0 0 * * mon,WED,fri", "0 0 * * 1,3,5"),
            ("0 0 * * Mon-Fri/2", "0 0 * * 1,3,5"),
            ("0 0 * * 7", "0 0 * * 0"),
            ("0 0 * * SUN", "0 0 * * 0"),
            ("0 0 * * 5-7", "0 0 * * 0,5,6"),
            ("0 0 * * */2", "0 0 * * 0,2,4,6"),
            ("@hourly", "0 * * * *"),
            ("@daily", "0 0 * * *"),
            ("@weekly", "0 0 * * 0"),
            ("@WEEKLY", "0 0 * * 7"),
            ("@monthly", "0 0 1 * *"),
            ("@yearly", "0 0 1 1 *"),
            ("@annually", "0 0 1 JAN *"),
            ("  0\t3  *  * 1  ", "0 3 * * 1"),
        ]
    )
    func equivalentForms(_ written: String, _ spelledOut: String) throws {
        let schedule = try CronSchedule(written)
        let expected = try CronSchedule(spelledOut)
        #expect(schedule == expected)
        #expect(schedule.hashValue == expected.hashValue)
        // Equal schedules fire at the same times.
        let start = try instant("2026-01-01T00:00:00.000Z")
        let end = try instant("2026-03-01T00:00:00.000Z")
        #expect(schedule.fires(after: start, through: end) == expected.fires(after: start, through: end))
    }

    @Test(
        "Schedules that fire at different times are not equal",
        arguments: [
            ("0 0 13 * 5", "0 0 13 * *"),
            ("0 0 13 * 5", "0 0 * * 5"),
            ("0 0 */2 * 1", "0 0 1-31/2 * 1"),
            ("0 3 * * 1", "0 3 * * 2"),
            ("0 3 * * 1", "1 3 * * 1"),
        ]
    )
    func differentSchedules(_ first: String, _ second: String) throws {
        #expect(try CronSchedule(first) != CronSchedule(second))
    }

    @Test(
        "description is the normalized expression",
        arguments: [
            ("0 3 * * 1", "0 3 * * 1"),
            ("  0\t3  * *   1 ", "0 3 * * 1"),
            ("0 3 * jan-mar mon,Wed", "0 3 * JAN-MAR MON,WED"),
            ("*/5 1-3 1,15 * *", "*/5 1-3 1,15 * *"),
            ("@Weekly", "@weekly"),
        ]
    )
    func description(_ written: String, _ normalized: String) throws {
        let schedule = try CronSchedule(written)
        #expect(schedule.description == normalized)
        #expect(try CronSchedule(normalized) == schedule)
    }

    @Test("mondayAtThree is the default expression")
    func mondayAtThree() throws {
        let parsed = try CronSchedule(CronSchedule.defaultExpression)
        #expect(CronSchedule.defaultExpression == "0 3 * * 1")
        #expect(CronSchedule.mondayAtThree == parsed)
        #expect(CronSchedule.mondayAtThree.description == "0 3 * * 1")
        #expect(Set([CronSchedule.mondayAtThree, parsed]).count == 1)
        let after = try instant("2026-11-26T22:00:00.000Z")
        #expect(CronSchedule.mondayAtThree.nextFire(after: after) == parsed.nextFire(after: after))
    }

    // MARK: - Errors

    @Test(
        "Bad expressions throw argument.invalid",
        arguments: [
            "0 3 * * 1 5",
            "0 3 * *",
            "",
            "   \t ",
            "garbage",
            "a b c d e",
            "60 * * * *",
            "-1 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * 32 * *",
            "* * * 0 *",
            "* * * 13 *",
            "* * * * 8",
            "99999999999999999999999 * * * *",
            "\u{FF11} * * * *",
            "5-1 * * * *",
            "* * * * SAT-SUN",
            "*/0 * * * *",
            "1-10/0 * * * *",
            "*/x * * * *",
            "*/ * * * *",
            "5/10 * * * *",
            "1,,2 * * * *",
            "1, * * * *",
            "1-2-3 * * * *",
            "*/5/2 * * * *",
            "- * * * *",
            "* * * FOO *",
            "* * * JAN-FOO *",
            "* * * * MONDAY",
            "* * MON * *",
            "* * * * JAN",
            "? * * * *",
            "@reboot",
            "@weekly 5",
            "0 0 * * @weekly",
        ]
    )
    func rejects(_ expression: String) {
        let error = #expect(throws: LedgerError.self) { try CronSchedule(expression) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.code.rawValue == "argument.invalid")
        #expect(error?.reason.contains("\"0 3 * * 1\"") == true)
    }

    @Test(
        "An error names the field and the bad value",
        arguments: [
            ("60 * * * *", ["minute", "\"60\"", "0-59"]),
            ("* * * * 8", ["day-of-week", "\"8\"", "0-7"]),
            ("* * 32 * *", ["day-of-month", "\"32\"", "1-31"]),
            ("* * * 13 *", ["month", "\"13\"", "1-12"]),
            ("* 5-1 * * *", ["hour", "\"5-1\"", "backwards"]),
            ("*/0 * * * *", ["minute", "\"*/0\"", "step"]),
            ("* * * * MONDAY", ["day-of-week", "\"MONDAY\""]),
            ("0 3 * * 1 5", ["6 fields", "\"0 3 * * 1 5\""]),
            ("", ["empty"]),
        ]
    )
    func errorText(_ expression: String, _ fragments: [String]) {
        let error = #expect(throws: LedgerError.self) { try CronSchedule(expression) }
        for fragment in fragments {
            #expect(error?.reason.contains(fragment) == true, "\(fragment) in \(error?.reason ?? "nil")")
        }
    }

    @Test("An error quotes at most a short prefix of a long expression")
    func longExpressionIsCut() {
        let expression = String(repeating: "1 ", count: 500)
        let error = #expect(throws: LedgerError.self) { try CronSchedule(expression) }
        #expect(error?.reason.contains("500 fields") == true)
        #expect((error?.reason.count ?? .max) < 300)
    }

    // MARK: - Known fire times

    @Test(
        "nextFire and previousFire give the known answers",
        arguments: [
            // The default: the Monday after a Thursday evening, and strictly after a fire time.
            ("0 3 * * 1", "2026-11-26T22:00:00.000Z", "2026-11-30T03:00:00.000Z", "2026-11-23T03:00:00.000Z"),
            ("0 3 * * 1", "2026-11-30T03:00:00.000Z", "2026-12-07T03:00:00.000Z", "2026-11-30T03:00:00.000Z"),
            ("0 3 * * 1", "2026-11-30T03:00:30.500Z", "2026-12-07T03:00:00.000Z", "2026-11-30T03:00:00.000Z"),
            ("0 3 * * 1", "2026-11-30T02:59:59.999Z", "2026-11-30T03:00:00.000Z", "2026-11-23T03:00:00.000Z"),
            // Leap days: 2028 is a leap year, 2100 is not, 2000 is.
            ("0 0 29 2 *", "2026-03-01T00:00:00.000Z", "2028-02-29T00:00:00.000Z", "2024-02-29T00:00:00.000Z"),
            ("0 0 29 2 *", "2096-03-01T00:00:00.000Z", "2104-02-29T00:00:00.000Z", "2096-02-29T00:00:00.000Z"),
            ("0 0 29 2 *", "2104-02-28T23:59:59.999Z", "2104-02-29T00:00:00.000Z", "2096-02-29T00:00:00.000Z"),
            ("0 0 29 2 *", "1999-01-01T00:00:00.000Z", "2000-02-29T00:00:00.000Z", "1996-02-29T00:00:00.000Z"),
            // Both day fields restricted: the 13th OR a Friday (2026-04-13 is a Monday).
            ("0 12 13 * FRI", "2026-04-10T12:00:00.000Z", "2026-04-13T12:00:00.000Z", "2026-04-10T12:00:00.000Z"),
            ("0 12 13 * FRI", "2026-04-13T12:00:00.000Z", "2026-04-17T12:00:00.000Z", "2026-04-13T12:00:00.000Z"),
            ("0 12 13 * *", "2026-04-13T12:00:00.000Z", "2026-05-13T12:00:00.000Z", "2026-04-13T12:00:00.000Z"),
            ("0 12 * * FRI", "2026-04-10T12:00:00.000Z", "2026-04-17T12:00:00.000Z", "2026-04-10T12:00:00.000Z"),
            // A day field starting with `*` is unrestricted: odd days that are Mondays (13th, 27th April 2026).
            ("0 0 */2 * MON", "2026-04-01T00:00:00.000Z", "2026-04-13T00:00:00.000Z", "2026-03-23T00:00:00.000Z"),
            ("0 0 */2 * MON", "2026-04-13T00:00:00.000Z", "2026-04-27T00:00:00.000Z", "2026-04-13T00:00:00.000Z"),
            // Month boundaries: April has no 31st.
            ("0 0 31 * *", "2026-04-01T00:00:00.000Z", "2026-05-31T00:00:00.000Z", "2026-03-31T00:00:00.000Z"),
            ("30 23 30 * *", "2026-01-31T00:00:00.000Z", "2026-03-30T23:30:00.000Z", "2026-01-30T23:30:00.000Z"),
            // Year boundaries.
            ("0 0 1 * *", "2026-12-31T23:59:00.000Z", "2027-01-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z"),
            ("59 23 31 12 *", "2027-06-01T00:00:00.000Z", "2027-12-31T23:59:00.000Z", "2026-12-31T23:59:00.000Z"),
            ("* * * * *", "2026-12-31T23:59:00.000Z", "2027-01-01T00:00:00.000Z", "2026-12-31T23:59:00.000Z"),
            // Before 1970.
            ("0 0 1 1 *", "1969-12-31T12:00:00.000Z", "1970-01-01T00:00:00.000Z", "1969-01-01T00:00:00.000Z"),
            ("0 0 1 * *", "1969-06-15T10:00:00.000Z", "1969-07-01T00:00:00.000Z", "1969-06-01T00:00:00.000Z"),
            // Hours and minutes within a day.
            ("15,45 9-10 * * *", "2026-06-01T09:15:00.000Z", "2026-06-01T09:45:00.000Z", "2026-06-01T09:15:00.000Z"),
            ("15,45 9-10 * * *", "2026-06-01T10:46:00.000Z", "2026-06-02T09:15:00.000Z", "2026-06-01T10:45:00.000Z"),
            ("15,45 9-10 * * *", "2026-06-01T09:14:59.999Z", "2026-06-01T09:15:00.000Z", "2026-05-31T10:45:00.000Z"),
        ]
    )
    func knownAnswers(_ expression: String, _ time: String, _ next: String, _ previous: String) throws {
        let schedule = try CronSchedule(expression)
        let at = try instant(time)
        let expectedNext = try instant(next)
        let expectedPrevious = try instant(previous)
        #expect(schedule.nextFire(after: at) == expectedNext)
        #expect(schedule.previousFire(atOrBefore: at) == expectedPrevious)
    }

    @Test(
        "A schedule that can never fire gives nil, quickly",
        arguments: ["0 0 30 2 *", "0 0 31 2 *", "0 0 31 4,6,9,11 *", "* * 30,31 FEB *"]
    )
    func neverFires(_ expression: String) throws {
        let schedule = try CronSchedule(expression)
        let at = try instant("2026-11-26T22:00:00.000Z")
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(schedule.nextFire(after: at) == nil)
            #expect(schedule.previousFire(atOrBefore: at) == nil)
            #expect(schedule.fires(after: at, through: Timestamp(millisecondsSinceEpoch: .max)).isEmpty)
        }
        #expect(elapsed < .seconds(1))
    }

    @Test("A next fire beyond the largest Timestamp is nil")
    func beyondTheRange() throws {
        let schedule = try CronSchedule("* * * * *")
        #expect(schedule.nextFire(after: Timestamp(millisecondsSinceEpoch: .max)) == nil)
        #expect(schedule.previousFire(atOrBefore: Timestamp(millisecondsSinceEpoch: .min)) == nil)
        let last = try #require(schedule.previousFire(atOrBefore: Timestamp(millisecondsSinceEpoch: .max)))
        #expect(last.millisecondsSinceEpoch % 60_000 == 0)
        #expect(Int64.max - last.millisecondsSinceEpoch < 60_000)
    }

    // MARK: - Ranges of fire times

    @Test("Five weeks of the default schedule are five Mondays at 03:00")
    func fiveMondays() throws {
        let fires = CronSchedule.mondayAtThree.fires(
            after: try instant("2026-11-01T00:00:00.000Z"),
            through: try instant("2026-12-06T00:00:00.000Z")
        )
        let mondays = try ["02", "09", "16", "23", "30"].map { try instant("2026-11-\($0)T03:00:00.000Z") }
        #expect(fires == mondays)
    }

    @Test("fires(after:through:) excludes the start and includes the end")
    func firesBounds() throws {
        let schedule = CronSchedule.mondayAtThree
        let start = try instant("2026-11-02T03:00:00.000Z")
        let end = try instant("2026-11-30T03:00:00.000Z")
        let fires = schedule.fires(after: start, through: end)
        let firstFire = try instant("2026-11-09T03:00:00.000Z")
        #expect(fires.first == firstFire)
        #expect(fires.last == end)
        #expect(fires.count == 4)
        #expect(schedule.fires(after: end, through: start).isEmpty)
        #expect(schedule.fires(after: end, through: end).isEmpty)
    }

    @Test("fires(after:through:) stops at maximumFireCount")
    func firesCap() throws {
        let schedule = try CronSchedule("* * * * *")
        let start = try instant("2026-01-01T00:00:00.000Z")
        let fires = schedule.fires(after: start, through: try instant("2026-02-01T00:00:00.000Z"))
        #expect(CronSchedule.maximumFireCount == 10_000)
        #expect(fires.count == CronSchedule.maximumFireCount)
        #expect(fires.first?.millisecondsSinceEpoch == start.millisecondsSinceEpoch + 60_000)
        #expect(fires.last?.millisecondsSinceEpoch == start.millisecondsSinceEpoch + 10_000 * 60_000)
    }

    // MARK: - Property test

    /// Random expressions and instants from a seeded generator: `nextFire` MUST equal a brute-force scan, and
    /// `previousFire` MUST be a matching minute at or before the instant with no matching minute between them.
    @Test("nextFire and previousFire agree with a brute-force scan")
    func agreesWithBruteForce() throws {
        var random = SeededRandom(seed: 0x00C0_FFEE_2026)
        let earliest = try instant("1999-01-01T00:00:00.000Z").millisecondsSinceEpoch
        let latest = try instant("2101-01-01T00:00:00.000Z").millisecondsSinceEpoch
        for _ in 0..<300 {
            let reference = ReferenceSchedule.random(using: &random)
            let schedule = try CronSchedule(reference.expression)
            #expect(try CronSchedule(schedule.description) == schedule, "\(reference.expression)")
            var milliseconds = Int64.random(in: earliest..<latest, using: &random)
            if Bool.random(using: &random) { milliseconds -= milliseconds.flooredModulo(60_000) }
            let time = Timestamp(millisecondsSinceEpoch: milliseconds)

            let expected = reference.bruteForceNext(after: time)
            let next = schedule.nextFire(after: time)
            if let expected {
                #expect(next == expected, "\(reference.expression) after \(time)")
            } else if let next {
                // Nothing within the scan's horizon: the schedule's answer, if any, lies beyond it.
                #expect(next > reference.horizon(after: time), "\(reference.expression) after \(time)")
            }
            if let next {
                #expect(reference.matches(next), "\(reference.expression) fires at \(next)")
                #expect(schedule.previousFire(atOrBefore: next) == next)
                let justBefore = Timestamp(millisecondsSinceEpoch: next.millisecondsSinceEpoch - 1)
                #expect(schedule.nextFire(after: justBefore) == next)
            }

            if let previous = schedule.previousFire(atOrBefore: time) {
                #expect(previous <= time, "\(reference.expression) at or before \(time)")
                #expect(reference.matches(previous), "\(reference.expression) fires at \(previous)")
                let following = reference.bruteForceNext(after: previous)
                #expect(following.map { $0 > time } ?? true, "\(reference.expression) at or before \(time)")
            }
        }
    }
}

/// A `Timestamp` from RFC 3339 text, or a test failure.
private func instant(_ text: String) throws -> Timestamp {
    try #require(Timestamp(rfc3339: text))
}

extension Int64 {
    fileprivate func flooredModulo(_ divisor: Int64) -> Int64 {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}

/// A cron field as the test generated it: its text and the values it selects, worked out independently of the
/// parser.
private struct ReferenceField {
    var text: String
    var values: Set<Int>

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let weekdayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// A random field over `bounds`: `*`, a value, a range, a step or a list. `names[i]` names `firstNamed + i`.
    static func random(
        bounds: ClosedRange<Int>,
        names: [String] = [],
        firstNamed: Int = 0,
        starChance: Double,
        using random: inout SeededRandom
    ) -> ReferenceField {
        func spell(_ value: Int) -> String {
            let index = value - firstNamed
            guard names.indices.contains(index), random.unit() < 0.5 else { return String(value) }
            // Names are case-insensitive: mix the case.
            return String(
                names[index].map { random.unit() < 0.5 ? Character($0.lowercased()) : $0 }
            )
        }
        func atom() -> ReferenceField {
            let low = Int.random(in: bounds, using: &random)
            let high = Int.random(in: low...bounds.upperBound, using: &random)
            let step = Int.random(in: 1...max(1, bounds.count / 2), using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                return ReferenceField(text: spell(low), values: [low])
            case 1:
                return ReferenceField(text: "\(spell(low))-\(spell(high))", values: Set(low...high))
            case 2:
                return ReferenceField(
                    text: "*/\(step)",
                    values: Set(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
                )
            default:
                return ReferenceField(
                    text: "\(spell(low))-\(spell(high))/\(step)",
                    values: Set(stride(from: low, through: high, by: step))
                )
            }
        }
        if random.unit() < starChance {
            return ReferenceField(text: "*", values: Set(bounds))
        }
        var field = atom()
        if random.unit() < 0.3 {
            for _ in 0..<Int.random(in: 1...2, using: &random) {
                let more = atom()
                field = ReferenceField(text: field.text + "," + more.text, values: field.values.union(more.values))
            }
        }
        return field
    }
}

/// A random cron expression with the sets it selects, and a brute-force matcher over them.
private struct ReferenceSchedule {
    var minute: ReferenceField
    var hour: ReferenceField
    var dayOfMonth: ReferenceField
    var month: ReferenceField
    var dayOfWeek: ReferenceField

    /// How far `bruteForceNext` scans: nine years, enough to reach the next 29 February across 2100.
    static let horizonInMinutes: Int64 = 9 * 366 * 1440

    var expression: String {
        [minute, hour, dayOfMonth, month, dayOfWeek].map(\.text).joined(separator: " ")
    }

    static func random(using random: inout SeededRandom) -> ReferenceSchedule {
        ReferenceSchedule(
            minute: .random(bounds: 0...59, starChance: 0.2, using: &random),
            hour: .random(bounds: 0...23, starChance: 0.3, using: &random),
            dayOfMonth: .random(bounds: 1...31, starChance: 0.5, using: &random),
            month: .random(
                bounds: 1...12,
                names: ReferenceField.monthNames,
                firstNamed: 1,
                starChance: 0.6,
                using: &random
            ),
            dayOfWeek: .random(
                bounds: 0...7,
                names: ReferenceField.weekdayNames,
                starChance: 0.5,
                using: &random
            )
        )
    }

    func horizon(after time: Timestamp) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: time.millisecondsSinceEpoch + Self.horizonInMinutes * 60_000)
    }

    /// The UTC fields of an instant, read from its RFC 3339 text rather than computed like the code under test.
    private static func fields(
        of time: Timestamp
    ) -> (month: Int, day: Int, hour: Int, minute: Int, weekday: Int) {
        let text = Array(time.rfc3339)
        func number(_ range: Range<Int>) -> Int { Int(String(text[range])) ?? -1 }
        let days = (time.millisecondsSinceEpoch - time.millisecondsSinceEpoch.flooredModulo(86_400_000)) / 86_400_000
        // 1970-01-01 was a Thursday; Sunday is 0.
        let weekday = Int((days + 4).flooredModulo(7))
        return (number(5..<7), number(8..<10), number(11..<13), number(14..<16), weekday)
    }

    private func dayMatches(month: Int, day: Int, weekday: Int) -> Bool {
        guard self.month.values.contains(month) else { return false }
        let dayOfMonthMatches = dayOfMonth.values.contains(day)
        let weekdayMatches = dayOfWeek.values.contains(weekday) || (weekday == 0 && dayOfWeek.values.contains(7))
        // Vixie cron: a field starting with `*` is unrestricted, and then both must match.
        if dayOfMonth.text.hasPrefix("*") || dayOfWeek.text.hasPrefix("*") {
            return dayOfMonthMatches && weekdayMatches
        }
        return dayOfMonthMatches || weekdayMatches
    }

    /// Whether `time` is the start of a matching minute.
    func matches(_ time: Timestamp) -> Bool {
        let field = Self.fields(of: time)
        return time.millisecondsSinceEpoch.flooredModulo(60_000) == 0
            && dayMatches(month: field.month, day: field.day, weekday: field.weekday)
            && hour.values.contains(field.hour) && minute.values.contains(field.minute)
    }

    /// The first matching minute after `time`, found by testing minute after minute; a day or hour that does not
    /// match is passed over whole. Nil when none lies within `horizonInMinutes`.
    func bruteForceNext(after time: Timestamp) -> Timestamp? {
        var candidate = time.millisecondsSinceEpoch - time.millisecondsSinceEpoch.flooredModulo(60_000) + 60_000
        let end = horizon(after: time).millisecondsSinceEpoch
        while candidate <= end {
            let field = Self.fields(of: Timestamp(millisecondsSinceEpoch: candidate))
            if !dayMatches(month: field.month, day: field.day, weekday: field.weekday) {
                candidate += 86_400_000 - candidate.flooredModulo(86_400_000)
            } else if !hour.values.contains(field.hour) {
                candidate += 3_600_000 - candidate.flooredModulo(3_600_000)
            } else if !minute.values.contains(field.minute) {
                candidate += 60_000
            } else {
                return Timestamp(millisecondsSinceEpoch: candidate)
            }
        }
        return nil
    }
}
