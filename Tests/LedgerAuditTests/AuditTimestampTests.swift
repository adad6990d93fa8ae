import LedgerAudit
import Testing

@Suite("AuditTimestamp")
struct AuditTimestampTests {
    @Test(
        "formats known instants",
        arguments: [
            (0, "1970-01-01T00:00:00.000Z"), (1_767_571_200_000, "2026-01-05T00:00:00.000Z"),
            (951_782_400_123, "2000-02-29T00:00:00.123Z"), (4_102_444_799_999, "2099-12-31T23:59:59.999Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
        ] as [(Int64, String)]
    )
    func formats(milliseconds: Int64, text: String) {
        #expect(AuditTimestamp.format(milliseconds: milliseconds) == text)
        #expect(AuditTimestamp.milliseconds(parsing: text) == milliseconds)
    }

    @Test("round-trips every day from 2000 to 2100 at a few times of day")
    func roundTrips() {
        var day: Int64 = 10_957
        while day < 47_482 {
            for offset: Int64 in [0, 1, 43_200_000 + 777, 86_399_999] {
                let instant = day * AuditTimestamp.millisecondsPerDay + offset
                #expect(AuditTimestamp.milliseconds(parsing: AuditTimestamp.format(milliseconds: instant)) == instant)
            }
            day += 1
        }
    }

    @Test(
        "refuses anything but the exact form",
        arguments: [
            "2026-01-05T00:00:00Z", "2026-01-05T00:00:00.000", "2026-01-05 00:00:00.000Z", "2026-13-05T00:00:00.000Z",
            "2026-02-29T00:00:00.000Z", "2026-01-05T24:00:00.000Z", "2026-01-05T00:60:00.000Z",
            "2026-01-05T00:00:60.000Z", "2026-01-05T00:00:00.000+", "２026-01-05T00:00:00.000Z", "",
        ]
    )
    func refuses(text: String) {
        #expect(AuditTimestamp.milliseconds(parsing: text) == nil)
    }

    @Test("weekdays count from Monday")
    func weekdays() {
        #expect(AuditTimestamp.weekday(daysSinceEpoch: 0) == 3, "1970-01-01 was a Thursday")
        #expect(AuditTimestamp.weekday(daysSinceEpoch: 1_767_571_200_000 / 86_400_000) == 0, "2026-01-05 is a Monday")
        #expect(AuditTimestamp.weekday(daysSinceEpoch: -1) == 2)
    }
}
