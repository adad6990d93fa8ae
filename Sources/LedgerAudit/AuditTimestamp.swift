/// The Audit DB's time text: UTC, millisecond precision, `YYYY-MM-DDTHH:MM:SS.mmmZ` (24 characters).
///
/// Text order of this form is time order for the years 0000 to 9999, which is why the SQLite contract
/// stores it as TEXT and compares it as text.
public enum AuditTimestamp {
    /// Milliseconds in one day.
    public static let millisecondsPerDay: Int64 = 86_400_000

    /// The text for `milliseconds` since 1970-01-01T00:00:00.000Z.
    ///
    /// - Precondition: the instant lies in the years 0000 to 9999.
    public static func format(milliseconds: Int64) -> String {
        let days = floorDivide(milliseconds, millisecondsPerDay)
        let inDay = milliseconds - days * millisecondsPerDay
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        precondition((0...9999).contains(year), "AuditTimestamp supports the years 0000 to 9999")
        let hour = inDay / 3_600_000
        let minute = inDay / 60_000 % 60
        let second = inDay / 1000 % 60
        let millisecond = inDay % 1000
        var text = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int64, at offset: Int, width: Int) {
            var remaining = value
            for position in stride(from: offset + width - 1, through: offset, by: -1) {
                text[position] = UInt8(truncatingIfNeeded: 0x30 + remaining % 10)
                remaining /= 10
            }
        }
        put(year, at: 0, width: 4)
        text[4] = 0x2d  // -
        put(month, at: 5, width: 2)
        text[7] = 0x2d
        put(day, at: 8, width: 2)
        text[10] = 0x54  // T
        put(hour, at: 11, width: 2)
        text[13] = 0x3a  // :
        put(minute, at: 14, width: 2)
        text[16] = 0x3a
        put(second, at: 17, width: 2)
        text[19] = 0x2e  // .
        put(millisecond, at: 20, width: 3)
        text[23] = 0x5a  // Z
        return String(decoding: text, as: UTF8.self)
    }

    /// Milliseconds since the epoch for `text` in the exact form above, or `nil` for anything else
    /// (another length, a missing `Z`, a month 13, a February 30, a leap second).
    public static func milliseconds(parsing text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 24, bytes[4] == 0x2d, bytes[7] == 0x2d, bytes[10] == 0x54, bytes[13] == 0x3a,
            bytes[16] == 0x3a, bytes[19] == 0x2e, bytes[23] == 0x5a
        else { return nil }
        func number(_ offset: Int, _ width: Int) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[offset..<offset + width] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2), let millisecond = number(20, 3),
            (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month), hour < 24,
            minute < 60, second < 60
        else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        return days * millisecondsPerDay + ((hour * 60 + minute) * 60 + second) * 1000 + millisecond
    }

    /// The day of the week of a day counted from 1970-01-01: 0 for Monday through 6 for Sunday.
    public static func weekday(daysSinceEpoch days: Int64) -> Int {
        // 1970-01-01 was a Thursday (3).
        Int(((days + 3) % 7 + 7) % 7)
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Howard Hinnant's `days_from_civil`, proleptic Gregorian.
    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = floorDivide(shiftedYear, 400)
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Howard Hinnant's `civil_from_days`, proleptic Gregorian.
    private static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
