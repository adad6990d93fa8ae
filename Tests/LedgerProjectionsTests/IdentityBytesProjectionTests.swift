import Foundation
import LedgerCore
import LedgerProjections
import LedgerSQLite
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

/// The folds key their rows by the names' bytes, as the read tables' `TEXT` columns do (Issue 16, case 1): names
/// that differ only in Unicode normalization are two rows in both, and a row rewritten into another normalization
/// is a difference.
@Suite("Projections: identity is bytes")
struct IdentityBytesProjectionTests {
    static let composed = "weekly/caf\u{E9}"
    static let decomposed = "weekly/cafe\u{301}"

    static func runStarted(_ run: String) -> EventDraft {
        EventDraft(
            type: "run.started",
            data: [
                "run": .string(run), "trigger": "manual",
                "window": ["from": "2026-01-05T00:00:00.000Z", "to": "2026-01-12T00:00:00.000Z"],
                "config": ["sha256": .string(Hash256.sha256(Array(run.utf8)).hex)], "code": ["version": "test"],
            ]
        )
    }

    @Test func twoRunsWhoseIDsDifferInNormalizationAreTwoRowsInTheFoldAndTheTables() async throws {
        let scratch = try TemporaryFolder("identity-projections")
        defer { withExtendedLifetime(scratch) {} }
        let log = try SQLiteEventStore(path: scratch.url.appendingPathComponent("ledger.db").path, create: true)
        let tables = try SQLiteProjectionStore(path: scratch.url.appendingPathComponent("projections.db").path)
        let ledger = try await TestLogs.make(store: log, notes: 0)
        let follower = ProjectionFollower(log: log, store: tables)
        await ledger.onAppend { batch in
            try? await follower.apply(batch)
        }
        try await ledger.append([Self.runStarted(Self.composed)], signedBy: TestKeys.pipeline)
        try await ledger.append([Self.runStarted(Self.decomposed)], signedBy: TestKeys.pipeline)
        try await ledger.append(
            [EventDraft(type: "run.completed", data: ["run": .string(Self.decomposed)])],
            signedBy: TestKeys.pipeline
        )

        let folded = try await ProjectionUpdater.fold(log)
        #expect(folded.runs.count == 2)
        #expect(folded.runs[Self.composed]?.status == .running)
        #expect(folded.runs[Self.decomposed]?.status == .completed)
        // The incremental saves wrote both rows, and reading them back gives the fold.
        let saved = try #require(try await tables.load())
        #expect(saved.runs.count == 2)
        #expect(saved.differences(from: folded) == [])
    }

    @Test func aRowRewrittenInAnotherNormalizationIsADifference() async throws {
        let ledger = try await TestLogs.make(notes: 0)
        try await ledger.append([Self.runStarted(Self.composed)], signedBy: TestKeys.pipeline)
        let folded = try await ProjectionUpdater.fold(ledger.store)
        let run = try #require(folded.runs[Self.composed])
        var edited = try #require(run.jsonValue.objectValue)
        edited["run"] = .string(Self.decomposed)
        let rows = ProjectionRows(
            head: folded.head,
            context: folded.contextJSON,
            registry: [],
            deployments: [:],
            runs: [.object(edited)],
            lineage: folded.lineage.values.map(\.jsonValue),
            drift: []
        )
        let tampered = try Projections(rows: rows)
        #expect(tampered.runs[Self.composed] == nil)
        #expect(
            tampered.differences(from: folded)
                == ["runs \(Self.composed)", "runs \(Self.decomposed)"].sorted {
                    Identifier($0) < Identifier($1)
                }
        )
    }

    @Test func twoModelsWhoseNamesDifferInNormalizationAreTwoRegistryRows() async throws {
        let ledger = try await GovernanceSimulator.makeLedger()
        var simulator = GovernanceSimulator(seed: 16)
        _ = try await simulator.registerVersion(on: ledger)
        let folded = try await ProjectionUpdater.fold(ledger.store)
        let entry = try #require(folded.registry.values.first)
        func named(_ name: String) throws -> JSONValue {
            var object = try #require(entry.jsonValue.objectValue)
            object["name"] = .string(name)
            return .object(object)
        }
        let rows = ProjectionRows(
            head: folded.head,
            context: folded.contextJSON,
            registry: [try named("caf\u{E9}"), try named("cafe\u{301}")],
            deployments: [:],
            runs: [],
            lineage: [],
            drift: []
        )
        let projections = try Projections(rows: rows)
        #expect(projections.registry.count == 2)
        #expect(projections.registry[VersionKey("caf\u{E9}", entry.version)]?.name == "caf\u{E9}")
        #expect(VersionKey("caf\u{E9}", 1) != VersionKey("cafe\u{301}", 1))
        #expect(VersionKey("cafe\u{301}", 1) < VersionKey("caf\u{E9}", 1))
        #expect(projections.registryJSON(model: "cafe\u{301}").arrayValue?.count == 1)
    }
    /// The log refuses a target name outside ASCII letters, digits, `.`, `_` and `-`, so no valid log holds two
    /// targets that are canonically equivalent; the read tables are still read by bytes, so rows for two such
    /// targets (written by another writer, or by hand) load as two targets, as the fold would keep them, instead of
    /// being merged into one (a `[String: …]` on load did that, and `verify` then reported a false difference).
    @Test func twoTargetsWhoseNamesDifferInNormalizationSurviveTheReadTables() async throws {
        let ledger = try await GovernanceSimulator.makeLedger()
        var simulator = GovernanceSimulator(seed: 16)
        let version = try await simulator.registerVersion(on: ledger)
        let fields: [String: JSONValue] = [
            "name": .string(version.name), "version": .int(version.version), "sha256": .string(version.artifact.hex),
        ]
        let approver = try #require(GovernanceSimulator.Keys.approvers.first { $0.keyID != version.trainedBy })
        try await ledger.append(
            [EventDraft(type: "model.approved", data: .object(fields.merging(["reason": "ok"]) { $1 }))],
            signedBy: approver
        )
        await #expect(throws: LedgerError.self) {
            try await ledger.append(
                [EventDraft(type: "model.deployed", data: .object(fields.merging(["target": "caf\u{E9}"]) { $1 }))],
                signedBy: GovernanceSimulator.Keys.deployer
            )
        }
        try await ledger.append(
            [EventDraft(type: "model.deployed", data: .object(fields.merging(["target": "production"]) { $1 }))],
            signedBy: GovernanceSimulator.Keys.deployer
        )
        let folded = try await ProjectionUpdater.fold(ledger.store)
        let record = try #require(folded.deployments["production"]?.first?.jsonValue.objectValue)
        func at(_ target: String) -> [JSONValue] {
            var object = record
            object["target"] = .string(target)
            return [.object(object)]
        }
        var deployments = IdentifierDictionary<[JSONValue]>()
        deployments[Self.composed] = at(Self.composed)
        deployments[Self.decomposed] = at(Self.decomposed)
        let twins = try Projections(
            rows: ProjectionRows(
                head: folded.head,
                context: folded.contextJSON,
                registry: folded.registry.values.map(\.jsonValue),
                deployments: deployments,
                runs: [],
                lineage: folded.lineage.values.map(\.jsonValue),
                drift: []
            )
        )
        #expect(twins.deployments.count == 2)

        let scratch = try TemporaryFolder("identity-deployments")
        defer { withExtendedLifetime(scratch) {} }
        let tables = try SQLiteProjectionStore(path: scratch.url.appendingPathComponent("projections.db").path)
        try await tables.save(twins, changes: .all, replacing: nil)
        let loaded = try #require(try await tables.load())
        #expect(loaded.deployments.count == 2)
        #expect(loaded.deployments[Self.composed]?.count == 1)
        #expect(loaded.deployments[Self.decomposed]?.count == 1)
        #expect(loaded.differences(from: twins) == [])
        #expect(loaded.deploymentsJSON(target: Self.decomposed).arrayValue?.count == 1)
    }
}
