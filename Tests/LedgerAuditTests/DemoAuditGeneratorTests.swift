import Foundation
import GRDB
import LedgerAudit
import LedgerCore
import LedgerTestSupport
import Testing

/// A generated demo database and what the generator said about it.
struct GeneratedDemo: Sendable {
    let path: String
    let configuration: DemoAuditConfiguration
    let summary: DemoAuditSummary

    /// A read-only connection.
    func queue() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: path, configuration: configuration)
    }
}

enum DemoFixture {
    /// Three weeks, 60 actors, drift from week 2: generated once and shared by the read-only tests.
    static let medium = Result { () throws(LedgerError) -> GeneratedDemo in
        let configuration = DemoAuditConfiguration(weeks: 3, actors: 60, seed: 11, driftWeek: 2)
        let path = temporaryAuditPath("demo-medium")
        let summary = try DemoAuditGenerator.write(to: path, configuration: configuration)
        return GeneratedDemo(path: path, configuration: configuration, summary: summary)
    }
}

@Suite("Demo Audit DB generator")
struct DemoAuditGeneratorTests {
    static let small = DemoAuditConfiguration(weeks: 2, actors: 40)

    @Test("the same configuration gives the same bytes; another seed gives other bytes")
    func deterministic() throws {
        let folder = try TemporaryFolder("demo")
        let (first, second, reseeded) = (folder.path("a.db"), folder.path("b.db"), folder.path("c.db"))
        let summary = try DemoAuditGenerator.write(to: first, configuration: Self.small)
        let again = try DemoAuditGenerator.write(to: second, configuration: Self.small)
        var other = Self.small
        other.seed = 8
        _ = try DemoAuditGenerator.write(to: reseeded, configuration: other)

        let bytes = try Data(contentsOf: URL(fileURLWithPath: first))
        #expect(bytes.count > 100_000)
        #expect(bytes == (try Data(contentsOf: URL(fileURLWithPath: second))), "byte-identical, so SHA-256-identical")
        #expect(bytes != (try Data(contentsOf: URL(fileURLWithPath: reseeded))))
        #expect(
            summary.events == again.events && summary.anomalies == again.anomalies && summary.labels == again.labels
        )
    }

    @Test("refuses to replace an existing file, and leaves no temporary file behind")
    func refusesToOverwrite() throws {
        let folder = try TemporaryFolder("demo-exists")
        let path = folder.path("audit.db")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try DemoAuditGenerator.write(to: path, configuration: Self.small)
        } throws: { ($0 as? LedgerError)?.code == .auditFileExists }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("keep me".utf8))
        // The folder is the test's own: anything beside the file is left behind by the refused write.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["audit.db"])
    }

    @Test(
        "refuses a configuration outside its ranges",
        arguments: [
            DemoAuditConfiguration(weeks: 0), DemoAuditConfiguration(weeks: 261), DemoAuditConfiguration(actors: 4),
            DemoAuditConfiguration(driftWeek: 0), DemoAuditConfiguration(start: 1_767_571_200_001),
            DemoAuditConfiguration(start: 0),
        ]
    )
    func refusesBadConfiguration(configuration: DemoAuditConfiguration) throws {
        let path = temporaryAuditPath("demo-bad")
        #expect {
            try DemoAuditGenerator.write(to: path, configuration: configuration)
        } throws: { ($0 as? LedgerError)?.code == .auditConfiguration }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("the file holds what the summary says, with ids 1...n in time order")
    func summaryMatchesFile() throws {
        let demo = try DemoFixture.medium.get()
        let (events, labels, anomalousLabels, outOfOrder, idRange) = try demo.queue().read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_events") ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_labels") ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_labels WHERE label = 'anomalous'") ?? -1,
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM audit_events a JOIN audit_events b ON b.id = a.id + 1
                        WHERE b.occurred_at < a.occurred_at
                        """
                ) ?? -1,
                try Row.fetchOne(db, sql: "SELECT min(id) AS low, max(id) AS high FROM audit_events")
            )
        }
        #expect(events == demo.summary.events)
        #expect(labels == demo.summary.labels)
        #expect(anomalousLabels == demo.summary.anomalousLabels)
        #expect(outOfOrder == 0)
        #expect(idRange?["low"] == 1 && idRange?["high"] == events)
        #expect(demo.summary.humans + demo.summary.services == demo.configuration.actors)
        #expect(demo.summary.services >= 1 && demo.summary.humans > demo.summary.services)
    }

    @Test("anomalies make up 0.5% to 1% of events, and every kind is present")
    func anomalyRateAndKinds() throws {
        let demo = try DemoFixture.medium.get()
        let rate = Double(demo.summary.anomalousEvents) / Double(demo.summary.events)
        #expect(rate >= 0.005 && rate <= 0.01, "rate \(rate)")
        for kind in DemoAnomalyKind.allCases {
            #expect((demo.summary.anomalies[kind] ?? 0) > 0, "\(kind)")
            #expect((demo.summary.incidents[kind] ?? 0) > 0, "\(kind)")
        }
    }

    @Test("analysts label both classes, a minority of events, and mostly anomalies as anomalous")
    func labels() throws {
        let demo = try DemoFixture.medium.get()
        let summary = demo.summary
        #expect(summary.anomalousLabels > 0 && summary.labels - summary.anomalousLabels > 0)
        #expect(Double(summary.labels) < 0.05 * Double(summary.events))
        // About 30% of anomalous events are labelled, nearly all of them correctly.
        let expectedAnomalousLabels = 0.3 * Double(summary.anomalousEvents)
        #expect(Double(summary.anomalousLabels) > 0.5 * expectedAnomalousLabels)
        #expect(Double(summary.anomalousLabels) < 2 * expectedAnomalousLabels)
    }

    @Test("outcomes are only success, failure and denied, and all three occur")
    func outcomes() throws {
        let demo = try DemoFixture.medium.get()
        let outcomes = try demo.queue().read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT outcome FROM audit_events ORDER BY outcome")
        }
        #expect(outcomes == ["denied", "failure", "success"])
    }

    @Test("every timestamp is canonical UTC text inside the configured range")
    func timestamps() throws {
        let demo = try DemoFixture.medium.get()
        let range = demo.configuration.start..<demo.configuration.end
        let times = try demo.queue().read { db in
            try String.fetchAll(db, sql: "SELECT occurred_at FROM audit_events")
        }
        var bad = 0
        for time in times {
            guard let instant = AuditTimestamp.milliseconds(parsing: time), range.contains(instant),
                AuditTimestamp.format(milliseconds: instant) == time
            else {
                bad += 1
                continue
            }
        }
        #expect(bad == 0)
        #expect(times.count == demo.summary.events)
    }

    @Test("behaviour drifts at the drift week: a new action mix, more volume, and a country never seen before")
    func drift() throws {
        let demo = try DemoFixture.medium.get()
        let drift = AuditTimestamp.format(milliseconds: try #require(demo.configuration.driftStart))
        let (before, after) = try demo.queue().read { db in
            func mix(_ condition: String) throws -> [String: Int] {
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT action, count(*) AS n FROM audit_events
                        WHERE actor_role <> 'service' AND occurred_at \(condition) ?
                        GROUP BY action
                        """,
                    arguments: [drift]
                )
                return Dictionary(uniqueKeysWithValues: rows.map { ($0["action"] as String, $0["n"] as Int) })
            }
            return (try mix("<"), try mix(">="))
        }
        let totalBefore = Double(before.values.reduce(0, +))
        let totalAfter = Double(after.values.reduce(0, +))
        let actions = Set(before.keys).union(after.keys)
        let variation =
            actions.reduce(0.0) { sum, action in
                sum + abs(Double(before[action] ?? 0) / totalBefore - Double(after[action] ?? 0) / totalAfter)
            } / 2
        #expect(variation > 0.15, "total variation distance \(variation)")
        #expect(before["assistant.query"] == nil && (after["assistant.query"] ?? 0) > 0)
        // One week before the drift, two after: the weekly volume of people rises.
        #expect(totalAfter / 2 > 1.15 * totalBefore, "\(totalBefore) before, \(totalAfter) in two weeks after")

        let newCountry = try demo.queue().read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT min(occurred_at) AS first, count(*) AS n FROM audit_events WHERE country = 'JP'"
            )
        }
        let first: String = try #require(newCountry?["first"])
        #expect(first >= drift)
        #expect((newCountry?["n"] as Int?) ?? 0 > 100)
    }

    @Test("people keep their habits: most of an actor's events come from few addresses and one country")
    func habits() throws {
        let demo = try DemoFixture.medium.get()
        let rows = try demo.queue().read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT actor_id, count(*) AS n, count(DISTINCT source_ip) AS ips, count(DISTINCT country) AS countries
                    FROM audit_events WHERE actor_role <> 'service' GROUP BY actor_id
                    """
            )
        }
        #expect(rows.count == demo.summary.humans)
        let typical = rows.filter { ($0["n"] as Int) >= 100 }
        let settled = typical.filter { ($0["countries"] as Int) <= 3 && ($0["ips"] as Int) <= 12 }
        #expect(Double(settled.count) >= 0.8 * Double(typical.count))
    }

    @Test("services that act hourly or more act in every hour; people mostly in their working hours")
    func rhythms() throws {
        let demo = try DemoFixture.medium.get()
        let hours = try demo.queue().read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT actor_role = 'service' AS service, count(DISTINCT substr(occurred_at, 12, 2)) AS hours,
                        count(*) AS n
                    FROM audit_events GROUP BY actor_id
                    """
            )
        }
        for row in hours where (row["service"] as Bool) && (row["n"] as Int) >= 24 * 21 {
            #expect((row["hours"] as Int) == 24)
        }
        let people = hours.filter { !($0["service"] as Bool) }.map { $0["hours"] as Int }
        #expect(!people.isEmpty)
        #expect(Double(people.reduce(0, +)) / Double(people.count) < 20)
    }
}
