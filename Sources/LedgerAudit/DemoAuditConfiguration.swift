public import LedgerCore

/// What ``DemoAuditGenerator`` writes: how long, how many actors, which seed and when behaviour drifts.
///
/// The same configuration always gives the same file, byte for byte, with the same SQLite library.
public struct DemoAuditConfiguration: Sendable, Hashable {
    /// The number of weeks of activity, counted from ``start``: 1 to 260.
    public var weeks = 12
    /// The number of actors, humans and services together: 5 to 100,000. About one in five is a service.
    public var actors = 300
    /// The seed of every random choice the generator makes.
    public var seed: UInt64 = 7
    /// The week, counted from 1, from whose first day behaviour drifts: a new product feature changes the
    /// action mix and volumes, and a new office adds a country. Drift starts at
    /// `start + (driftWeek - 1) × 7 days`; a drift week after the last week means no drift.
    public var driftWeek = 8
    /// The first instant, in milliseconds since 1970-01-01T00:00:00Z. It MUST be a UTC midnight in the
    /// years 2000 to 2099. The default is Monday 2026-01-05T00:00:00.000Z.
    public var start: Int64 = 1_767_571_200_000

    public init(
        weeks: Int = 12,
        actors: Int = 300,
        seed: UInt64 = 7,
        driftWeek: Int = 8,
        start: Int64 = 1_767_571_200_000
    ) {
        self.weeks = weeks
        self.actors = actors
        self.seed = seed
        self.driftWeek = driftWeek
        self.start = start
    }

    /// The valid range of ``weeks``.
    public static let weekRange = 1...260
    /// The valid range of ``actors``.
    public static let actorRange = 5...100_000

    /// Throws `audit.configuration` naming the first value outside its range.
    public func validate() throws(LedgerError) {
        guard Self.weekRange.contains(weeks) else {
            throw LedgerError(
                .auditConfiguration,
                "weeks must be \(Self.weekRange.lowerBound) to \(Self.weekRange.upperBound)"
            )
        }
        guard Self.actorRange.contains(actors) else {
            throw LedgerError(
                .auditConfiguration,
                "actors must be \(Self.actorRange.lowerBound) to \(Self.actorRange.upperBound)"
            )
        }
        guard driftWeek >= 1 else { throw LedgerError(.auditConfiguration, "the drift week must be 1 or later") }
        let earliest: Int64 = 946_684_800_000  // 2000-01-01
        let latest: Int64 = 4_102_444_800_000  // 2100-01-01
        guard start >= earliest, start < latest, start % AuditTimestamp.millisecondsPerDay == 0 else {
            throw LedgerError(.auditConfiguration, "the start must be a UTC midnight in the years 2000 to 2099")
        }
    }

    /// The end of the generated range (exclusive): `start + weeks × 7 days`.
    public var end: Int64 { start + Int64(weeks) * 7 * AuditTimestamp.millisecondsPerDay }

    /// The instant drift starts, or `nil` when ``driftWeek`` is after the last week.
    public var driftStart: Int64? {
        driftWeek <= weeks ? start + Int64(driftWeek - 1) * 7 * AuditTimestamp.millisecondsPerDay : nil
    }
}

/// The kinds of anomaly the demo generator injects.
public enum DemoAnomalyKind: String, CaseIterable, Sendable, Hashable, Comparable {
    /// A burst of failed logins against one account from unfamiliar addresses, sometimes ending in a success
    /// and a few actions by the attacker.
    case credentialStuffing = "credential_stuffing"
    /// Bulk downloads and exports of many resources, with large `bytes`.
    case exfiltration
    /// A non-admin attempting admin actions; most are denied, some succeed.
    case privilegeMisuse = "privilege_misuse"
    /// A session from a country the actor has never worked from.
    case newCountry = "new_country"
    /// A session in the middle of the actor's local night.
    case offHours = "off_hours"

    public static func < (lhs: DemoAnomalyKind, rhs: DemoAnomalyKind) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What ``DemoAuditGenerator/write(to:configuration:progress:)`` wrote.
///
/// Every field but ``seconds`` depends on the configuration only.
public struct DemoAuditSummary: Sendable, Hashable {
    /// Rows in `audit_events`.
    public let events: Int
    /// Rows in `audit_labels`.
    public let labels: Int
    /// Labels that say `anomalous` (analysts make mistakes: a few of them are on benign events).
    public let anomalousLabels: Int
    /// Injected anomalous events by kind: the ground truth, which the file itself does not hold.
    public let anomalies: [DemoAnomalyKind: Int]
    /// Injected incidents (runs of anomalous events) by kind.
    public let incidents: [DemoAnomalyKind: Int]
    /// Human actors, including those who join with the new office at the drift.
    public let humans: Int
    /// Service actors.
    public let services: Int
    /// Wall-clock seconds spent writing the file.
    public let seconds: Double

    /// All injected anomalous events.
    public var anomalousEvents: Int { anomalies.values.reduce(0, +) }
}
