import Foundation
import GRDB
public import LedgerCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a realistic, deterministic demo Audit DB (SQLite, contract version 1).
///
/// **Actors.** About four in five actors are people: each has an office, a fixed UTC offset (no daylight saving),
/// working hours, a rate, habitual actions and resources, an office and a home address, and now and then a trip,
/// a late evening, a weekend hour, a mobile address or (engineers and admins) a night on call. The rest are
/// services that act around the clock on a fixed period from a data-center address.
///
/// **Anomalies.** Incidents of five kinds (``DemoAnomalyKind``), each a run of events by one account, are added
/// day by day so that anomalous events make up ``anomalyRate`` of all events: at each day's end the running share
/// is off by less than one incident.
/// The kinds take turns in a shuffled order, so every kind appears once five incidents have.
///
/// **Labels.** Analysts label about ``anomalyLabelRate`` of anomalous events and ``benignLabelRate`` of the others,
/// and get some wrong: ``missedLabelRate`` of anomalies' labels and ``falseAlarmLabelRate`` of the others'.
///
/// **Drift.** From the configuration's drift week on, a new product feature (assistant and workflow actions)
/// takes a share of every role's actions and raises people's volumes by 30%, some services carry its calls,
/// and a new office opens in a country (JP) that appears nowhere before: about one person in ten joins there.
///
/// **Determinism.** Every choice comes from ``DemoRandom`` seeded by the configuration; nothing reads the clock
/// except to report ``DemoAuditSummary/seconds``. One connection writes everything in one transaction, in time
/// order, with ids from 1, so the same configuration and the same SQLite library give the same bytes.
public enum DemoAuditGenerator {
    /// The share of all events that belong to injected incidents.
    public static let anomalyRate = 0.0075
    /// The share of anomalous events an analyst labels.
    public static let anomalyLabelRate = 0.30
    /// The share of benign events an analyst labels.
    public static let benignLabelRate = 0.02
    /// The share of anomalous events' labels that wrongly say `benign` (the analyst missed it).
    public static let missedLabelRate = 0.05
    /// The share of benign events' labels that wrongly say `anomalous` (a false alarm confirmed).
    public static let falseAlarmLabelRate = 0.005

    /// Writes the demo Audit DB for `configuration` to a new file at `path`.
    ///
    /// The file is written under a temporary name in the same folder, synced, and linked into place only when
    /// complete, so `path` never holds a partial database; a failure leaves nothing behind.
    ///
    /// - Parameter progress: called on the calling thread with the fraction done, from 0 to 1.
    /// - Throws: `audit.configuration` for a configuration outside its ranges, `audit.fileExists` if `path`
    ///   exists (it is never replaced), `audit.file` or `audit.database` if writing fails.
    public static func write(
        to path: String,
        configuration: DemoAuditConfiguration,
        progress: ((Double) -> Void)? = nil
    ) throws(LedgerError) -> DemoAuditSummary {
        try configuration.validate()
        let clock = ContinuousClock()
        let began = clock.now
        if FileManager.default.fileExists(atPath: path) {
            throw LedgerError(.auditFileExists, "\(path) already exists; refusing to overwrite it")
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        unlink(temporary)
        var counts: DemoCounts
        do {
            counts = try writeDatabase(at: temporary, configuration: configuration, progress: progress)
            try DemoFiles.sync(temporary)
            try DemoFiles.linkNew(temporary, to: path)
            unlink(temporary)
            try DemoFiles.syncFolder(containing: path)
        } catch {
            unlink(temporary)
            for suffix in ["-journal", "-wal", "-shm"] { unlink(temporary + suffix) }
            throw error
        }
        progress?(1)
        let elapsed = clock.now - began
        counts.seconds = elapsed.inSeconds
        return counts.summary
    }

    /// Writes the demo Audit DB for `configuration` into the PostgreSQL database at `url` (in its `schema`, by
    /// default the server's first on `search_path`): generated into a temporary SQLite file exactly as
    /// ``write(to:configuration:progress:)`` writes it, then copied by ``AuditDatabaseCopier``. So the same
    /// configuration gives the same rows in either database, and every window extracts to the same snapshot.
    ///
    /// - Parameter progress: called with the fraction done, from 0 to 1 (the copy is the last fifth).
    /// - Throws: as ``write(to:configuration:progress:)`` and ``AuditDatabaseCopier/copy(sqlitePath:toPostgres:)``:
    ///   `audit.fileExists` if the schema already holds the tables.
    public static func write(
        toPostgres url: String,
        configuration: DemoAuditConfiguration,
        progress: ((Double) -> Void)? = nil
    ) async throws(LedgerError) -> DemoAuditSummary {
        let clock = ContinuousClock()
        let began = clock.now
        let temporary = FileManager.default.temporaryDirectory
            .appendingPathComponent("ledger-demo-audit-\(UUID().uuidString).db").path
        defer { unlink(temporary) }
        let written = try write(to: temporary, configuration: configuration) { progress?($0 * 0.8) }
        _ = try await AuditDatabaseCopier.copy(sqlitePath: temporary, toPostgres: url)
        progress?(1)
        return DemoAuditSummary(
            events: written.events,
            labels: written.labels,
            anomalousLabels: written.anomalousLabels,
            anomalies: written.anomalies,
            incidents: written.incidents,
            humans: written.humans,
            services: written.services,
            seconds: (clock.now - began).inSeconds
        )
    }

    private static func writeDatabase(
        at path: String,
        configuration: DemoAuditConfiguration,
        progress: ((Double) -> Void)?
    ) throws(LedgerError) -> DemoCounts {
        do {
            let queue = try DatabaseQueue(path: path)
            let counts = try queue.writeWithoutTransaction { db in
                // The page size is fixed rather than left to the library's build. No file journal:
                // the file is temporary until it is complete.
                try db.execute(sql: "PRAGMA page_size = 4096")
                try db.execute(sql: "PRAGMA journal_mode = MEMORY")
                try db.execute(sql: "PRAGMA synchronous = OFF")
                try db.execute(sql: "PRAGMA cache_size = -65536")
                var counts = DemoCounts()
                try db.inTransaction(.exclusive) {
                    try db.execute(sql: AuditSchema.sqlite)
                    var writer = try DemoWriter(db, seed: configuration.seed)
                    try generate(configuration, writer: &writer, progress: progress)
                    counts = writer.counts
                    return .commit
                }
                return counts
            }
            try queue.close()
            return counts
        } catch let error as LedgerError {
            throw error
        } catch let error as DatabaseError {
            // The SQLite message names a constraint or a column, never a value.
            throw LedgerError(
                .auditDatabase,
                "SQLite error \(error.resultCode.rawValue): \(error.message ?? "unknown")"
            )
        } catch {
            throw LedgerError(.auditDatabase, "cannot write the demo Audit DB at \(path)")
        }
    }

    private static func generate(
        _ configuration: DemoAuditConfiguration,
        writer: inout DemoWriter,
        progress: ((Double) -> Void)?
    ) throws {
        let population = DemoPopulation(configuration: configuration)
        let behaviour = DemoBehaviour(configuration: configuration, population: population)
        let seed = configuration.seed
        let humanCount = population.humans.count
        var humanRandom = (0..<humanCount).map {
            DemoRandom(seed: seed, stream: DemoPopulation.dayStream + UInt64($0))
        }
        var serviceRandom = population.services.indices.map {
            DemoRandom(seed: seed, stream: DemoPopulation.dayStream + UInt64(humanCount + $0))
        }
        var incidentRandom = DemoRandom(seed: seed, stream: 3 << 32)
        var buffer = DemoEventBuffer(range: configuration.start..<configuration.end)
        var budget = 0.0
        var turns: [DemoAnomalyKind] = []
        writer.counts.humans = humanCount
        writer.counts.services = population.services.count

        let days = behaviour.days
        // Local day -1 reaches into the first UTC day east of UTC, and local day `days` into the last one
        // west of it; events outside the range are dropped.
        for day in -1...days {
            for index in population.humans.indices {
                behaviour.humanDay(population.humans[index], day: day, random: &humanRandom[index], into: &buffer)
            }
            if day >= 0, day < days {
                for index in population.services.indices {
                    behaviour.serviceDay(
                        population.services[index],
                        day: day,
                        random: &serviceRandom[index],
                        into: &buffer
                    )
                }
                budget += Double(buffer.takeBenignCount()) * anomalyRate / (1 - anomalyRate)
                while budget > 0 {
                    if turns.isEmpty { turns = shuffled(DemoAnomalyKind.allCases, &incidentRandom) }
                    let kind = turns.removeLast()
                    let added = behaviour.incident(
                        kind,
                        day: day,
                        humans: population.humans,
                        random: &incidentRandom,
                        into: &buffer
                    )
                    guard added > 0 else { break }
                    writer.counts.incidents[kind, default: 0] += 1
                    budget -= Double(added)
                }
            }
            // No later local day reaches back more than 14 hours (the largest UTC offset) before its UTC day.
            let boundary =
                day == days
                ? Int64.max : configuration.start + Int64(day + 1) * DemoBehaviour.day - 14 * DemoBehaviour.hour
            try writer.insert(buffer.take(before: boundary))
            progress?(Double(day + 2) / Double(days + 2) * 0.99)
        }
    }

    private static func shuffled<Element>(_ elements: [Element], _ random: inout DemoRandom) -> [Element] {
        var result = elements
        for index in stride(from: result.count - 1, to: 0, by: -1) {
            result.swapAt(index, random.below(index + 1))
        }
        return result
    }
}

/// The running totals that become a ``DemoAuditSummary``.
struct DemoCounts {
    var events = 0
    var labels = 0
    var anomalousLabels = 0
    var anomalies: [DemoAnomalyKind: Int] = [:]
    var incidents: [DemoAnomalyKind: Int] = [:]
    var humans = 0
    var services = 0
    var seconds = 0.0

    var summary: DemoAuditSummary {
        DemoAuditSummary(
            events: events,
            labels: labels,
            anomalousLabels: anomalousLabels,
            anomalies: anomalies,
            incidents: incidents,
            humans: humans,
            services: services,
            seconds: seconds
        )
    }
}

/// Inserts events in the order given, with ids from 1, and the labels analysts give some of them.
struct DemoWriter {
    private let insertEvent: Statement
    private let insertLabel: Statement
    private var labelRandom: DemoRandom
    private var nextID: Int64 = 1
    var counts = DemoCounts()

    init(_ db: Database, seed: UInt64) throws {
        insertEvent = try db.makeStatement(
            sql: """
                INSERT INTO audit_events
                    (id, occurred_at, actor_id, actor_role, action, resource, outcome, source_ip, country, bytes, session_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        insertLabel = try db.makeStatement(
            sql: "INSERT INTO audit_labels (event_id, label, labeled_by, labeled_at) VALUES (?, ?, ?, ?)"
        )
        labelRandom = DemoRandom(seed: seed, stream: 4 << 32)
    }

    mutating func insert(_ events: [DemoEvent]) throws {
        for event in events {
            let id = nextID
            nextID += 1
            try insertEvent.execute(arguments: [
                id, AuditTimestamp.format(milliseconds: event.time), event.actorID, event.role, event.action.rawValue,
                event.resource, event.outcome.rawValue, event.address, event.country, event.bytes, event.session,
            ])
            counts.events += 1
            if let kind = event.anomaly { counts.anomalies[kind, default: 0] += 1 }
            let labelRate =
                event.anomaly == nil ? DemoAuditGenerator.benignLabelRate : DemoAuditGenerator.anomalyLabelRate
            guard labelRandom.chance(labelRate) else { continue }
            let mistaken = labelRandom.chance(
                event.anomaly == nil ? DemoAuditGenerator.falseAlarmLabelRate : DemoAuditGenerator.missedLabelRate
            )
            let anomalous = (event.anomaly != nil) != mistaken
            // Analysts label from a couple of hours to five days later.
            let labeledAt = event.time + labelRandom.integer(in: 2 * DemoBehaviour.hour..<5 * DemoBehaviour.day)
            try insertLabel.execute(arguments: [
                id, anomalous ? "anomalous" : "benign", labelRandom.element(of: DemoWorld.analysts),
                AuditTimestamp.format(milliseconds: labeledAt),
            ])
            counts.labels += 1
            if anomalous { counts.anomalousLabels += 1 }
        }
    }
}

/// The few file operations the generator needs beyond SQLite.
enum DemoFiles {
    static func sync(_ path: String) throws(LedgerError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw LedgerError(.auditFile, "cannot open \(path) to sync it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw LedgerError(.auditFile, "cannot sync \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func syncFolder(containing path: String) throws(LedgerError) {
        try sync(URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    /// Gives `source` the name `destination`, failing if `destination` exists (a hard link, never a replace).
    static func linkNew(_ source: String, to destination: String) throws(LedgerError) {
        guard link(source, destination) == 0 else {
            if errno == EEXIST {
                throw LedgerError(.auditFileExists, "\(destination) already exists; refusing to overwrite it")
            }
            throw LedgerError(.auditFile, "cannot create \(destination): \(String(cString: strerror(errno)))")
        }
    }
}
