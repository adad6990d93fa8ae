import LedgerCore

/// The Audit DB's time text: UTC, millisecond precision, `YYYY-MM-DDTHH:MM:SS.mmmZ` (24 characters),
/// the same one spelling as the ledger's ``Timestamp``.
///
/// Text order of this form is time order for the years 0000 to 9999, which is why the SQLite contract
/// stores it as TEXT and compares it as text.
public enum AuditTimestamp {
    /// Milliseconds in one day.
    public static let millisecondsPerDay: Int64 = 86_400_000

    /// The text for `milliseconds` since 1970-01-01T00:00:00.000Z.
    public static func format(milliseconds: Int64) -> String {
        Timestamp(millisecondsSinceEpoch: milliseconds).rfc3339
    }

    /// The instant `text` names, or nil unless it is exactly the 24-character UTC form.
    public static func milliseconds(parsing text: String) -> Int64? {
        Timestamp(rfc3339: text)?.millisecondsSinceEpoch
    }

    /// The weekday of a day counted from 1970-01-01, with Monday as 0 and Sunday as 6.
    public static func weekday(daysSinceEpoch days: Int64) -> Int {
        // 1970-01-01 was a Thursday.
        Int(((days + 3) % 7 + 7) % 7)
    }
}
