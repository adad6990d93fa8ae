import LedgerCore
import LedgerPipeline
import LedgerStore
import LedgerTesting
import Testing

/// Run ids are told apart by their bytes (Issue 16 review): a run's history never takes in the events of another run
/// whose id differs only in Unicode normalization.
@Suite("RunHistory: run ids are bytes")
struct RunIdentityTests {
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

    @Test func theHistoryOfOneRunIgnoresTheEndOfItsNormalizationTwin() async throws {
        let ledger = try await TestLogs.make(notes: 0)
        try await ledger.append([Self.runStarted(Self.composed)], signedBy: TestKeys.pipeline)
        try await ledger.append([Self.runStarted(Self.decomposed)], signedBy: TestKeys.pipeline)
        try await ledger.append(
            [EventDraft(type: "run.completed", data: ["run": .string(Self.decomposed)])],
            signedBy: TestKeys.pipeline
        )
        let composed = try await RunHistory(run: Self.composed, ledger: ledger)
        #expect(composed.ended == nil)
        let decomposed = try await RunHistory(run: Self.decomposed, ledger: ledger)
        #expect(decomposed.ended?.type == "run.completed")
    }
}
