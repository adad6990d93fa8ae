import LedgerCore
import LedgerProjections
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

/// "What was in production at T?" for every T of a scripted history with deploys and rollbacks.
@Suite("Point in time")
struct PointInTimeTests {
    typealias Keys = GovernanceSimulator.Keys

    @Test("the version serving a target at T is the one the script last put there at or before T")
    func everyInstant() async throws {
        // One minute between appends, so that every event has its own instant.
        let ledger = try await GovernanceSimulator.makeLedger(clock: SteppingClock(stepMilliseconds: 60_000))
        var simulator = GovernanceSimulator(seed: 42)
        var versions: [ModelRules.Version] = []
        for _ in 0..<4 {
            let version = try await simulator.registerVersion(on: ledger)
            try await ledger.append(
                [Self.draft("model.approved", version, ["reason": "ok"])],
                signedBy: Keys.approvers[0]
            )
            versions.append(version)
        }
        func fields(_ version: ModelRules.Version) -> [String: JSONValue] {
            ["version": .int(version.version), "sha256": .string(version.artifact.hex)]
        }
        // The script: what each step makes serve production, and the event that does it.
        var script: [(seq: UInt64, time: Timestamp, version: Int)] = []
        var current = versions[0]
        func deploy(_ version: ModelRules.Version, target: String = "production") async throws {
            let signed = try await ledger.append(
                [Self.draft("model.deployed", version, ["target": .string(target)])],
                signedBy: Keys.deployer
            )
            if target == "production", let event = signed.first?.event {
                script.append((event.seq, event.time, version.version))
                current = version
            }
        }
        func rollBack(to version: ModelRules.Version) async throws {
            let data: JSONValue = [
                "name": .string(version.name), "target": "production", "from": .object(fields(current)),
                "to": .object(fields(version)),
            ]
            let signed = try await ledger.append(
                [EventDraft(type: "model.rolledBack", data: data)],
                signedBy: Keys.deployer
            )
            if let event = signed.first?.event { script.append((event.seq, event.time, version.version)) }
            current = version
        }
        try await deploy(versions[0])
        try await deploy(versions[1])
        try await deploy(versions[3], target: "staging")
        try await rollBack(to: versions[0])
        try await deploy(versions[2])
        try await rollBack(to: versions[1])
        try await deploy(versions[3])
        try await rollBack(to: versions[2])

        let projections = try await ProjectionUpdater.fold(ledger.store)
        let history = try #require(projections.deployments["production"])
        #expect(history.count == script.count)
        let first = try #require(script.first?.time.millisecondsSinceEpoch)
        let last = try #require(script.last?.time.millisecondsSinceEpoch)
        // Every half minute from well before the first deployment to well after the last.
        for instant in stride(from: first - 120_000, through: last + 120_000, by: 30_000) {
            let time = Timestamp(millisecondsSinceEpoch: instant)
            let expected = script.last { $0.time <= time }
            let answer = history.last { $0.served(at: time) }
            #expect(answer?.version == expected?.version, "at \(time)")
            // The proof: the seq of the event that started it, and of the one that ended it.
            #expect(answer?.from.seq == expected?.seq, "at \(time)")
            if let expected, let next = script.first(where: { $0.seq > expected.seq }) {
                #expect(answer?.until?.seq == next.seq, "at \(time)")
            } else if expected != nil {
                #expect(answer?.until == nil, "at \(time)")
            }
        }
        // Staging has its own history, untouched by production's.
        #expect(projections.deployments["staging"]?.map(\.version) == [versions[3].version])
        #expect(
            projections.registry[VersionKey(GovernanceSimulator.model, versions[2].version)]?.serving == ["production"]
        )
    }

    static func draft(_ type: String, _ version: ModelRules.Version, _ extra: [String: JSONValue]) -> EventDraft {
        let data: [String: JSONValue] = [
            "name": .string(version.name), "version": .int(version.version), "sha256": .string(version.artifact.hex),
        ]
        return EventDraft(type: type, data: .object(data.merging(extra) { $1 }))
    }
}

/// The fold reads what the store holds, which `verify` has not necessarily seen: it must not trap on it.
@Suite("Projection fold robustness")
struct ProjectionRobustnessTests {
    @Test("an event written around the rules, with references missing or negative, folds without trapping")
    func malformedReferences() throws {
        var projections = Projections()
        var changes = Projections.Changes()
        let broken: [(String, JSONValue)] = [
            ("model.registered", ["name": "m", "version": 1, "model": ["seq": -3]]),
            ("model.approved", ["name": "m", "version": 9, "sha256": "zz"]),
            ("model.rolledBack", ["name": "m", "target": "production"]),
            ("run.failed", ["run": "never-started", "step": "train"]),
            ("drift.measured", ["verdict": "stable"]),
        ]
        for (seq, (type, data)) in broken.enumerated() {
            let event = Event(
                log: "test.example/log",
                seq: UInt64(seq),
                prev: .zero,
                time: Timestamp(millisecondsSinceEpoch: Int64(seq)),
                type: type,
                actor: String(repeating: "ab", count: 32),
                data: data
            )
            try projections.apply(event, leafHash: .zero, changes: &changes)
        }
        #expect(projections.nextSeq == UInt64(broken.count))
        // None of these has its kind's shape: each advances the fold and adds no rows.
        #expect(projections.registry[VersionKey("m", 1)] == nil)
        #expect(projections.lineage.isEmpty && projections.drift.isEmpty)
    }
}
