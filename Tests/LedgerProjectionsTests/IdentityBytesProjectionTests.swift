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
}
