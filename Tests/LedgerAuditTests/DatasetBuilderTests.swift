import Foundation
import LedgerAudit
import LedgerCore
import LedgerTestSupport
import Testing

/// A hand-made snapshot of 19 days (2026-01-01 ..< 2026-01-20) whose every feature is worked out by hand.
///
/// Rows start at 2026-01-15 (from + 14 days); with the default fraction the holdout starts at
/// 2026-01-15 + 0.8 × 5 days = 2026-01-19T00:00Z.
enum TinySnapshot {
    static let from = Timestamp(millisecondsSinceEpoch: 1_767_225_600_000)  // 2026-01-01T00:00:00.000Z
    static let to = Timestamp(millisecondsSinceEpoch: 1_767_225_600_000 + 19 * 86_400_000)  // 2026-01-20

    struct Row {
        var time: String
        var actor: String
        var role: String
        var action = "record.read"
        var resource = "r/1"
        var outcome = "success"
        var ip: String?
        var country: String?
        var bytes: Int?
        var label: String?
    }

    static var rows: [Row] {
        var rows: [Row] = []
        // alice (analyst): 24 history events, all in the quarter-hour 09:00-09:15, from one address in DE.
        for day in 2...13 {
            for minute in ["05", "10"] {
                let date = "2026-01-\(day < 10 ? "0" : "")\(day)"
                rows.append(
                    Row(
                        time: "\(date)T09:\(minute):00.000Z",
                        actor: "alice",
                        role: "analyst",
                        ip: "10.0.0.1",
                        country: "DE",
                        bytes: 100
                    )
                )
            }
        }
        // alice, window 2026-01-15T09:00: 4 events, 3 actions, 3 resources, one failure, one denial, one admin
        // action by a non-admin, one event in an empty quarter-hour (09:20) from a new address; labelled benign.
        rows += [
            Row(
                time: "2026-01-15T09:01:00.000Z",
                actor: "alice",
                role: "analyst",
                ip: "10.0.0.1",
                country: "DE",
                bytes: 10
            ),
            Row(
                time: "2026-01-15T09:02:00.000Z",
                actor: "alice",
                role: "analyst",
                resource: "r/2",
                outcome: "failure",
                ip: "10.0.0.1",
                country: "DE",
                bytes: 20,
                label: "benign"
            ),
            Row(
                time: "2026-01-15T09:03:00.000Z",
                actor: "alice",
                role: "analyst",
                action: "role.grant",
                resource: "r/2",
                outcome: "denied",
                ip: "10.0.0.1",
                country: "DE",
                bytes: 30
            ),
            Row(
                time: "2026-01-15T09:20:00.000Z",
                actor: "alice",
                role: "analyst",
                action: "record.export",
                resource: "r/3",
                ip: "10.0.0.2",
                country: "DE",
                bytes: 40
            ),
        ]
        // alice, window 2026-01-19T03:00 (holdout): history 18 + 4 = 22 events, none near 03:00; a new country;
        // one anomalous and one benign label make the window anomalous.
        rows += [
            Row(
                time: "2026-01-19T03:30:00.000Z",
                actor: "alice",
                role: "analyst",
                ip: "10.0.0.9",
                country: "FR",
                bytes: 5,
                label: "anomalous"
            ),
            Row(
                time: "2026-01-19T03:40:00.000Z",
                actor: "alice",
                role: "analyst",
                ip: "10.0.0.1",
                country: "DE",
                bytes: 5,
                label: "benign"
            ),
        ]
        // bob (admin): 3 history events (fewer than 20, so no off-hours judgement), then two windows of admin
        // actions, which an admin may do.
        for minute in ["00", "01", "02"] {
            rows.append(
                Row(
                    time: "2026-01-10T02:\(minute):00.000Z",
                    actor: "bob",
                    role: "admin",
                    action: "user.create",
                    resource: "u/0",
                    ip: "10.1.0.1",
                    country: "US",
                    bytes: 1
                )
            )
        }
        rows += [
            Row(
                time: "2026-01-15T02:10:00.000Z",
                actor: "bob",
                role: "admin",
                action: "user.create",
                resource: "u/1",
                ip: "10.1.0.1",
                country: "US",
                bytes: 7
            ),
            Row(
                time: "2026-01-15T02:50:00.000Z",
                actor: "bob",
                role: "admin",
                action: "user.create",
                resource: "u/2",
                ip: "10.1.0.1",
                country: "US",
                bytes: 8
            ),
            Row(
                time: "2026-01-16T10:00:00.000Z",
                actor: "bob",
                role: "admin",
                action: "audit.export",
                resource: "logs",
                ip: "10.1.0.1",
                country: "US",
                bytes: 1000
            ),
        ]
        // Zed (a service, no history): an admin action with a null bytes; "Zed" sorts before "alice" as bytes.
        rows.append(
            Row(
                time: "2026-01-15T09:30:00.000Z",
                actor: "Zed",
                role: "service",
                action: "key.rotate",
                resource: "k/1",
                ip: "10.2.0.1",
                country: "GB",
                bytes: nil
            )
        )
        // carol: only events before the first eligible window, one with escapes in a string (the slow path).
        rows.append(
            Row(
                time: "2026-01-03T12:00:00.000Z",
                actor: "carol",
                role: "analyst",
                resource: "r/\"quoted\"\t",
                ip: "10.3.0.1",
                country: "SE",
                bytes: 3
            )
        )
        return rows
    }

    /// The snapshot as `ledger extract` writes it: canonical JSON lines ordered by (occurred_at, id).
    static func snapshot(_ rows: [Row] = rows) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for (id, row) in rows.sorted(by: { $0.time < $1.time }).enumerated() {
            let object: JSONValue = [
                "id": .number(Double(id + 1)), "occurred_at": .string(row.time), "actor_id": .string(row.actor),
                "actor_role": .string(row.role), "action": .string(row.action), "resource": .string(row.resource),
                "outcome": .string(row.outcome), "source_ip": row.ip.map { .string($0) } ?? .null,
                "country": row.country.map { .string($0) } ?? .null,
                "bytes": row.bytes.map { .number(Double($0)) } ?? .null, "session_id": .null,
                "label": row.label.map { .string($0) } ?? .null,
            ]
            bytes += try CanonicalJSON.encode(object)
            bytes.append(0x0a)
        }
        return bytes
    }
}

/// The holdout AUC-ROC of a per-feature z-score baseline fitted on the train rows.
enum ZScoreBaseline {
    struct Row {
        let holdout: Bool
        let values: [Double]
        let label: Int?
    }

    static func rows(_ csv: [UInt8]) -> [Row] {
        String(decoding: csv, as: UTF8.self).split(separator: "\n").dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            return Row(
                holdout: cells[0] == "1",
                values: cells[1...10].map { Double($0) ?? 0 },
                label: cells[11].isEmpty ? nil : Int(cells[11])
            )
        }
    }

    /// Score = the largest |z| over the features; AUC over the labelled holdout rows with ties at their
    /// average rank (Mann-Whitney U).
    static func auc(_ csv: [UInt8]) -> Double {
        let rows = rows(csv)
        let train = rows.filter { !$0.holdout }
        var means: [Double] = []
        var deviations: [Double] = []
        for feature in 0..<10 {
            let values = train.map { $0.values[feature] }
            let mean = values.reduce(0, +) / Double(values.count)
            means.append(mean)
            deviations.append(
                (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
            )
        }
        func score(_ values: [Double]) -> Double {
            (0..<10).map { deviations[$0] > 0 ? abs(values[$0] - means[$0]) / deviations[$0] : 0 }.max() ?? 0
        }
        let scored = rows.filter { $0.holdout && $0.label != nil }.map { (score($0.values), $0.label == 1) }
            .sorted { $0.0 < $1.0 }
        var rankSum = 0.0
        var index = 0
        while index < scored.count {
            var next = index
            while next < scored.count, scored[next].0 == scored[index].0 { next += 1 }
            let averageRank = Double(index + 1 + next) / 2
            for position in index..<next where scored[position].1 { rankSum += averageRank }
            index = next
        }
        let positives = Double(scored.count(where: { $0.1 }))
        let negatives = Double(scored.count) - positives
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
    }
}

@Suite("Dataset builder")
struct DatasetBuilderTests {
    func buildTiny(holdoutFraction: Double = 0.2) throws -> BuiltDataset {
        try DatasetBuilder.build(
            snapshot: try TinySnapshot.snapshot(),
            from: TinySnapshot.from,
            to: TinySnapshot.to,
            featureSpec: DatasetBuilder.featureSpecV1,
            holdoutFraction: holdoutFraction
        )
    }

    @Test("the embedded spec is audit/features.v1.json byte for byte")
    func embeddedSpec() throws {
        let file = try Data(contentsOf: auditContractFile("features.v1.json"))
        #expect(DatasetBuilder.featureSpecV1 == [UInt8](file))
    }

    @Test("every feature, the row order, the split and the labels of a hand-made snapshot")
    func handMade() throws {
        let built = try buildTiny()
        let csv = String(decoding: built.csv, as: UTF8.self)
        let expected = [
            "holdout,event_count,distinct_actions,distinct_resources,failure_ratio,denial_ratio,off_hours_share,"
                + "new_ip,new_country,total_bytes,admin_actions_by_non_admin,label",
            "0,2,1,2,0,0,0,0,0,15,0,",  // bob 2026-01-15T02:00
            "0,1,1,1,0,0,0,1,1,,1,",  // Zed 2026-01-15T09:00
            "0,4,3,3,0.25,0.25,0.25,1,0,100,1,0",  // alice 2026-01-15T09:00
            "0,1,1,1,0,0,0,0,0,1000,0,",  // bob 2026-01-16T10:00
            "1,2,1,1,0,0,1,1,1,10,0,1",  // alice 2026-01-19T03:00
        ]
        #expect(csv == expected.joined(separator: "\n") + "\n")
        #expect(built.trainRows == 4)
        #expect(built.holdoutRows == 1)
        #expect(built.split.holdoutFrom.rfc3339 == "2026-01-19T00:00:00.000Z")
        #expect(built.labelled.train == LabelCounts(anomalous: 0, benign: 1))
        #expect(built.labelled.holdout == LabelCounts(anomalous: 1, benign: 0))
        #expect(built.profile.map(\.name) == DatasetBuilder.featureNames)

        // event_count is 2, 1, 4, 1, 2: sorted 1 1 2 2 4; nearest rank ⌈p × 5⌉.
        let events = built.profile[0].profile
        #expect(events.min == 1 && events.max == 4 && events.mean == 2 && events.nulls == 0)
        #expect([events.p05, events.p25, events.p50, events.p75, events.p95] == [1, 1, 2, 2, 4])
        let bytes = built.profile[8].profile
        #expect(bytes.nulls == 1 && bytes.min == 10 && bytes.max == 1000 && bytes.mean == 281.25)

        let manifest = try CanonicalJSON.parse(built.manifest)
        #expect(try CanonicalJSON.encode(manifest) == built.manifest)
        #expect(manifest["dataset"]?["sha256"]?.stringValue == Hash256.sha256(built.csv).hex)
        #expect(manifest["featureSpec"]?["sha256"]?.stringValue == Hash256.sha256(DatasetBuilder.featureSpecV1).hex)
        #expect(manifest["featureSpec"]?["version"]?.integerValue == 1)
        #expect(manifest["rows"] == ["train": 4, "holdout": 1])
        #expect(manifest["split"] == ["holdoutFrom": "2026-01-19T00:00:00.000Z", "holdoutFraction": 0.2])
        #expect(manifest["window"] == ["from": "2026-01-01T00:00:00.000Z", "to": "2026-01-20T00:00:00.000Z"])
        #expect(manifest["columns"]?.arrayValue?.compactMap(\.stringValue) == DatasetBuilder.columns)
        #expect(
            manifest["labelled"] == [
                "train": ["anomalous": 0, "benign": 1], "holdout": ["anomalous": 1, "benign": 0],
            ]
        )
        #expect(
            manifest["profile"]?["event_count"] == [
                "min": 1, "max": 4, "mean": 2, "p05": 1, "p25": 1, "p50": 2, "p75": 2, "p95": 4, "nulls": 0,
            ]
        )
    }

    @Test("the same inputs give byte-identical CSV and manifest")
    func deterministic() throws {
        let first = try buildTiny()
        let second = try buildTiny()
        #expect(first.csv == second.csv)
        #expect(first.manifest == second.manifest)
        #expect(first.datasetDigest == Hash256.sha256(first.csv))
        let other = try buildTiny(holdoutFraction: 0.5)
        #expect(other.manifest != first.manifest)
    }

    @Test("the CSV holds no actor ids, addresses, countries or resources")
    func noPersonalData() throws {
        let data = String(decoding: try buildTiny().csv, as: UTF8.self).split(separator: "\n").dropFirst()
        let csv = data.joined(separator: "\n")
        for row in TinySnapshot.rows {
            for text in [row.actor, row.ip ?? "", row.country ?? "", row.resource, row.role] where !text.isEmpty {
                #expect(!csv.contains(text), "\(text) is in the CSV")
            }
        }
    }

    @Test("a window no longer than the lookback, an empty part, a bad line or another spec is refused")
    func refusals() throws {
        let snapshot = try TinySnapshot.snapshot()
        let (from, spec) = (TinySnapshot.from, DatasetBuilder.featureSpecV1)
        let fourteenDays = Timestamp(millisecondsSinceEpoch: from.millisecondsSinceEpoch + 14 * 86_400_000)
        #expect(throws: LedgerError.self) {
            try DatasetBuilder.build(snapshot: [], from: from, to: fourteenDays, featureSpec: spec)
        }
        // The holdout would start at 2026-01-19T22:00, after the last window.
        let emptyHoldout = #expect(throws: LedgerError.self) { try buildTiny(holdoutFraction: 0.01) }
        #expect(emptyHoldout?.code == .invalidArgument)
        #expect(emptyHoldout?.reason.contains("no holdout rows") == true)
        // Without bob's early window, nothing starts before 2026-01-15T06:00.
        let late = TinySnapshot.rows.filter { !$0.time.hasPrefix("2026-01-15T02") }
        let emptyTrain = #expect(throws: LedgerError.self) {
            try DatasetBuilder.build(
                snapshot: try TinySnapshot.snapshot(late),
                from: from,
                to: TinySnapshot.to,
                featureSpec: spec,
                holdoutFraction: 0.99
            )
        }
        #expect(emptyTrain?.reason.contains("no training rows") == true)
        for fraction in [0.0, 1.0, -0.5, .nan] {
            #expect(throws: LedgerError.self) { try buildTiny(holdoutFraction: fraction) }
        }

        var broken = snapshot
        broken.insert(contentsOf: Array("{\"id\":1}\n".utf8), at: 0)
        let badLine = #expect(throws: LedgerError.self) {
            try DatasetBuilder.build(snapshot: broken, from: from, to: TinySnapshot.to, featureSpec: spec)
        }
        #expect(badLine?.reason.hasPrefix("snapshot line 1:") == true)
        // alice's events of 2026-01-02 and 2026-01-03 lie before this window.
        let fourDays = Timestamp(millisecondsSinceEpoch: from.millisecondsSinceEpoch + 4 * 86_400_000)
        let outside = #expect(throws: LedgerError.self) {
            try DatasetBuilder.build(snapshot: snapshot, from: fourDays, to: TinySnapshot.to, featureSpec: spec)
        }
        #expect(outside?.reason.contains("outside the window") == true)
        let otherSpec = Array(
            String(decoding: spec, as: UTF8.self).replacing("\"version\": 1", with: "\"version\": 2").utf8
        )
        #expect(throws: LedgerError.self) {
            try DatasetBuilder.build(snapshot: snapshot, from: from, to: TinySnapshot.to, featureSpec: otherSpec)
        }
    }

    @Test("a demo Audit DB: the z-score baseline's holdout AUC is informative but clearly below 1")
    func demoBaseline() throws {
        let configuration = DemoAuditConfiguration(weeks: 4, actors: 60)
        let folder = try TemporaryFolder("dataset-demo")
        let path = folder.path("audit.db")
        _ = try DemoAuditGenerator.write(to: path, configuration: configuration)
        let from = Timestamp(millisecondsSinceEpoch: configuration.start)
        let to = Timestamp(millisecondsSinceEpoch: configuration.end)
        var snapshot: [UInt8] = []
        _ = try AuditExtractor.extract(
            sqlitePath: path,
            from: from,
            to: to,
            now: to,
            policy: .refuse,
            sink: { snapshot += $0 }
        )
        // Half of the two eligible weeks, so that the holdout holds enough labelled anomalies to judge.
        let built = try DatasetBuilder.build(
            snapshot: snapshot,
            from: from,
            to: to,
            featureSpec: DatasetBuilder.featureSpecV1,
            holdoutFraction: 0.5
        )
        let again = try DatasetBuilder.build(
            snapshot: snapshot,
            from: from,
            to: to,
            featureSpec: DatasetBuilder.featureSpecV1,
            holdoutFraction: 0.5
        )
        #expect(again.csv == built.csv && again.manifest == built.manifest)
        #expect(built.labelled.holdout.anomalous > 0 && built.labelled.holdout.benign > 0)

        // Nothing but the header and numbers: no ids, addresses or other text from the Audit DB.
        let lines = String(decoding: built.csv, as: UTF8.self).split(separator: "\n")
        #expect(lines.first.map(String.init) == DatasetBuilder.columns.joined(separator: ","))
        #expect(lines.dropFirst().allSatisfy { $0.allSatisfy { "0123456789.,e+-".contains($0) } })

        let auc = ZScoreBaseline.auc(built.csv)
        print(
            "dataset: \(built.trainRows) train and \(built.holdoutRows) holdout rows, labelled \(built.labelled); "
                + "z-score baseline holdout AUC-ROC \(auc)"
        )
        #expect(auc > 0.55 && auc < 0.99)
    }
}
