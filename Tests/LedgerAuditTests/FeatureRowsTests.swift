import Foundation
import LedgerAudit
import LedgerCore
import LedgerTestSupport
import Testing

/// One valid event as a client sends it; every value is distinctive so that a test can tell if an error echoes it.
enum SampleEvent {
    static let secrets = [
        "424242", "2026-01-05T10:17:00.000Z", "actor-SECRET-1", "role-SECRET", "action-SECRET", "resource-SECRET",
        "198.51.100.23", "country-SECRET", "987654", "session-SECRET",
    ]

    static let object: [String: JSONValue] = [
        "id": 424_242, "occurred_at": "2026-01-05T10:17:00.000Z", "actor_id": "actor-SECRET-1",
        "actor_role": "role-SECRET", "action": "action-SECRET", "resource": "resource-SECRET", "outcome": "success",
        "source_ip": "198.51.100.23", "country": "country-SECRET", "bytes": 987_654, "session_id": "session-SECRET",
    ]

    static func with(_ name: String, _ value: JSONValue?) -> JSONValue {
        var object = object
        object[name] = value
        return .object(object)
    }
}

/// A broken event, sent second in a request whose first event is valid.
struct BrokenEvent: Sendable, CustomTestStringConvertible {
    let testDescription: String
    let json: JSONValue
    /// What the reason must name.
    let member: String

    static let all = [
        BrokenEvent(testDescription: "actor_id missing", json: SampleEvent.with("actor_id", nil), member: "actor_id"),
        BrokenEvent(testDescription: "actor_id null", json: SampleEvent.with("actor_id", .null), member: "actor_id"),
        BrokenEvent(
            testDescription: "outcome unknown",
            json: SampleEvent.with("outcome", "exfiltrated-SECRET"),
            member: "outcome"
        ),
        BrokenEvent(
            testDescription: "occurred_at without milliseconds",
            json: SampleEvent.with("occurred_at", "2026-01-05T10:17:00Z"),
            member: "occurred_at"
        ),
        BrokenEvent(
            testDescription: "occurred_at an impossible date",
            json: SampleEvent.with("occurred_at", "2026-02-30T10:17:00.000Z"),
            member: "occurred_at"
        ),
        BrokenEvent(testDescription: "id not an integer", json: SampleEvent.with("id", 4242.5), member: "id"),
        BrokenEvent(testDescription: "id a string", json: SampleEvent.with("id", "424242"), member: "id"),
        BrokenEvent(testDescription: "bytes a string", json: SampleEvent.with("bytes", "987654"), member: "bytes"),
        BrokenEvent(
            testDescription: "source_ip a number",
            json: SampleEvent.with("source_ip", 198_051),
            member: "source_ip"
        ),
        BrokenEvent(
            testDescription: "an unexpected member",
            json: SampleEvent.with("key-SECRET", "value-SECRET"),
            member: "session_id"
        ),
        BrokenEvent(testDescription: "not an object", json: .array([.string("actor-SECRET-1")]), member: "object"),
    ]
}

@Suite("Feature rows for serving")
struct FeatureRowsTests {
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    /// The reason must be `argument.invalid` and must not hold any of the sample's values.
    func expectSafe(_ error: LedgerError?, extra: [String] = []) {
        #expect(error?.code == .invalidArgument)
        let reason = error?.reason ?? ""
        for secret in SampleEvent.secrets + extra {
            #expect(!reason.contains(secret), "the reason echoes a value: \(reason)")
        }
    }

    func event(
        _ id: Int64,
        at milliseconds: Int64,
        actor: String = "actor-1",
        ip: String? = "10.0.0.1",
        bytes: Int64? = nil
    ) -> AuditEvent {
        AuditEvent(
            id: id,
            occurredAt: Timestamp(millisecondsSinceEpoch: milliseconds),
            actorID: actor,
            actorRole: "analyst",
            action: "record.read",
            resource: "r/1",
            outcome: .success,
            sourceIP: ip,
            country: ip == nil ? nil : "DE",
            bytes: bytes
        )
    }

    @Test("a demo Audit DB: serving computes the dataset's exact rows, in the dataset's order")
    func trainingAndServingAgree() throws {
        let configuration = DemoAuditConfiguration(weeks: 3, actors: 40)
        let folder = try TemporaryFolder("feature-rows")
        let path = folder.path("audit.db")
        _ = try DemoAuditGenerator.write(to: path, configuration: configuration)
        let from = Timestamp(millisecondsSinceEpoch: configuration.start)
        let to = Timestamp(millisecondsSinceEpoch: configuration.start + 21 * Self.day)
        var snapshot: [UInt8] = []
        _ = try AuditExtractor.extract(
            sqlitePath: path,
            from: from,
            to: to,
            now: to,
            policy: .refuse,
            sink: { snapshot += $0 }
        )
        let built = try DatasetBuilder.build(
            snapshot: snapshot,
            from: from,
            to: to,
            featureSpec: DatasetBuilder.featureSpecV1
        )
        // The CSV's feature cells as training reads them: an empty cell is 0.
        let csvRows = try String(decoding: built.csv, as: UTF8.self).split(separator: "\n").dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            try #require(cells.count == DatasetBuilder.columns.count)
            return try cells[1...10].map { cell in cell.isEmpty ? 0 : try #require(Double(cell)) }
        }
        #expect(csvRows.count == built.trainRows + built.holdoutRows)

        // The snapshot's rows as a client would send them: the same members without the label.
        var objects: [JSONValue] = []
        for line in snapshot.split(separator: 0x0a) {
            var object = try #require(try CanonicalJSON.parse(line).objectValue)
            object["label"] = nil
            objects.append(.object(object))
        }
        let events = try AuditEvent.events(from: .array(objects))
        #expect(events.count == objects.count)

        let scoreFrom = Timestamp(millisecondsSinceEpoch: configuration.start + 14 * Self.day)
        let served = try DatasetBuilder.featureRows(
            of: events,
            scoreFrom: scoreFrom,
            featureSpec: DatasetBuilder.featureSpecV1
        )
        #expect(served.featureNames == DatasetBuilder.featureNames)
        #expect(served.rows.count == csvRows.count)
        let mismatch = zip(served.rows, csvRows).enumerated().first { $0.element.0.values != $0.element.1 }
        #expect(
            mismatch == nil,
            "row \(mismatch?.offset ?? -1): served \(mismatch?.element.0.values ?? []), the dataset has \(mismatch?.element.1 ?? [])"
        )
        #expect(
            served.rows.allSatisfy {
                $0.windowStart >= scoreFrom && $0.windowStart.millisecondsSinceEpoch % Self.hour == 0
            }
        )
        #expect(served.rows.allSatisfy { $0.values.count == 10 })
        // Not a trivial agreement: some windows see a new address.
        #expect(served.rows.contains { $0.values[6] == 1 })

        // The request's order does not matter: events are ordered by (occurred_at, id) first.
        let reordered = try DatasetBuilder.featureRows(
            of: events.reversed(),
            scoreFrom: scoreFrom,
            featureSpec: DatasetBuilder.featureSpecV1
        )
        #expect(reordered == served)
    }

    @Test("an event without history scores as new; a repeat within the lookback does not")
    func newWithoutHistory() throws {
        let start: Int64 = 1_767_571_200_000 + 10 * Self.hour  // 2026-01-05T10:00:00.000Z
        let lone = try DatasetBuilder.featureRows(
            of: [event(7, at: start + 60_000, bytes: 5)],
            featureSpec: DatasetBuilder.featureSpecV1
        )
        #expect(lone.rows.count == 1)
        let row = try #require(lone.rows.first)
        #expect(row.actorID == "actor-1")
        #expect(row.windowStart == Timestamp(millisecondsSinceEpoch: start))
        // event_count 1, one action, one resource, no failures or denials, no off-hours judgement (no history),
        // a new address and country, 5 bytes, no admin action.
        #expect(row.values == [1, 1, 1, 0, 0, 0, 1, 1, 5, 0])

        let twoHours = try DatasetBuilder.featureRows(
            of: [
                event(2, at: start + 2 * Self.hour, ip: "10.0.0.1"),
                event(1, at: start, ip: "10.0.0.1"),
                event(3, at: start + 3 * Self.hour, ip: nil),
                event(4, at: start + 3 * Self.hour + 1, actor: "actor-0", ip: "10.0.0.1"),
            ],
            featureSpec: DatasetBuilder.featureSpecV1
        )
        #expect(twoHours.rows.map(\.actorID) == ["actor-1", "actor-1", "actor-0", "actor-1"])
        #expect(twoHours.rows.map(\.values[6]) == [1, 0, 1, 0])  // null source_ip is never new
        #expect(twoHours.rows.map(\.values[8]) == [0, 0, 0, 0])  // null total_bytes reads as 0

        // Only windows at or after scoreFrom are rows; earlier events are still their history.
        let scored = try DatasetBuilder.featureRows(
            of: [event(1, at: start, ip: "10.0.0.1"), event(2, at: start + 2 * Self.hour, ip: "10.0.0.1")],
            scoreFrom: Timestamp(millisecondsSinceEpoch: start + 1),
            featureSpec: DatasetBuilder.featureSpecV1
        )
        #expect(scored.rows.map(\.windowStart) == [Timestamp(millisecondsSinceEpoch: start + 2 * Self.hour)])
        #expect(scored.rows.first?.values[6] == 0)

        // History reaches back 14 days and no further.
        let old = try DatasetBuilder.featureRows(
            of: [event(1, at: start - 15 * Self.day), event(2, at: start)],
            scoreFrom: Timestamp(millisecondsSinceEpoch: start),
            featureSpec: DatasetBuilder.featureSpecV1
        )
        #expect(old.rows.first?.values[6] == 1)
    }

    @Test("a broken event is refused naming its index and member, never its value", arguments: BrokenEvent.all)
    func brokenEvent(_ broken: BrokenEvent) {
        let error = #expect(throws: LedgerError.self) {
            try AuditEvent.events(from: [.object(SampleEvent.object), broken.json])
        }
        expectSafe(error, extra: ["exfiltrated-SECRET", "key-SECRET", "value-SECRET", "198051", "4242.5"])
        #expect(error?.reason.contains("index 1") == true)
        #expect(error?.reason.contains(broken.member) == true)
    }

    @Test("the sample event itself is valid and reads every member")
    func sampleIsValid() throws {
        let event = try AuditEvent(json: .object(SampleEvent.object))
        #expect(event.id == 424_242 && event.actorID == "actor-SECRET-1" && event.outcome == .success)
        #expect(event.occurredAt.rfc3339 == "2026-01-05T10:17:00.000Z")
        #expect(event.sourceIP == "198.51.100.23" && event.country == "country-SECRET" && event.bytes == 987_654)
        #expect(event.sessionID == "session-SECRET" && event.actorRole == "role-SECRET")
        let bare = try AuditEvent(
            json: SampleEvent.with("source_ip", nil).objectValue.map {
                var object = $0
                (object["country"], object["bytes"], object["session_id"]) = (.null, nil, .null)
                return .object(object)
            } ?? .null
        )
        #expect(bare.sourceIP == nil && bare.country == nil && bare.bytes == nil && bare.sessionID == nil)
    }

    @Test("duplicate ids, an empty list and too many events are refused without echoing values")
    func refusedRequests() throws {
        let sample = try AuditEvent(json: .object(SampleEvent.object))
        let twin = try AuditEvent(json: SampleEvent.with("occurred_at", "2026-01-05T11:00:00.000Z"))
        let duplicate = #expect(throws: LedgerError.self) {
            try DatasetBuilder.featureRows(of: [sample, twin], featureSpec: DatasetBuilder.featureSpecV1)
        }
        expectSafe(duplicate)
        #expect(duplicate?.reason.contains("index 0 and 1") == true)

        let empty = #expect(throws: LedgerError.self) {
            try DatasetBuilder.featureRows(of: [], featureSpec: DatasetBuilder.featureSpecV1)
        }
        expectSafe(empty)
        expectSafe(#expect(throws: LedgerError.self) { try AuditEvent.events(from: []) })

        let tooMany = (0...Int64(FeatureRows.maximumEvents)).map {
            event($0, at: 1_767_571_200_000 + $0 * 1000)
        }
        let refused = #expect(throws: LedgerError.self) {
            try DatasetBuilder.featureRows(of: tooMany, featureSpec: DatasetBuilder.featureSpecV1)
        }
        expectSafe(refused)
        #expect(refused?.reason.contains("100000") == true)
        // The array form is refused by its length, before any element is read.
        let nulls = JSONValue.array(Array(repeating: .null, count: FeatureRows.maximumEvents + 1))
        let refusedArray = #expect(throws: LedgerError.self) { try AuditEvent.events(from: nulls) }
        #expect(refusedArray?.reason.contains("100000") == true)
        // Exactly the maximum is accepted.
        let atLimit = try DatasetBuilder.featureRows(
            of: Array(tooMany.dropLast()),
            featureSpec: DatasetBuilder.featureSpecV1
        )
        #expect(atLimit.rows.map(\.values[0]).reduce(0, +) == Double(FeatureRows.maximumEvents))

        let farID = event(1 << 60, at: 1_767_571_200_000)
        expectSafe(
            #expect(throws: LedgerError.self) {
                try DatasetBuilder.featureRows(of: [farID], featureSpec: DatasetBuilder.featureSpecV1)
            },
            extra: [String(Int64(1) << 60)]
        )
    }
}
