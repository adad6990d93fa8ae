import Foundation
import LedgerCore
import LedgerProjections
import LedgerStore
import LedgerTesting
import Testing

/// The property the read tables rest on: however the log is folded (event by event, batch by batch, saved and
/// loaded in between, or all at once), the result is the same, and a fold of any prefix equals the incremental
/// state at that prefix.
@Suite("Projection folds")
struct ProjectionPropertyTests {
    /// A random valid history of `actions` actions, governance included.
    static func history(seed: UInt64, actions: Int) async throws -> Ledger {
        let ledger = try await GovernanceSimulator.makeLedger()
        var simulator = GovernanceSimulator(seed: seed)
        try await simulator.run(actions, on: ledger)
        return ledger
    }

    @Test(
        "incremental projections equal a rebuild, and every prefix's rebuild equals the state at that prefix",
        arguments: [1, 2, 3, 4, 5, 6] as [UInt64]
    )
    func incrementalEqualsRebuild(seed: UInt64) async throws {
        let ledger = try await GovernanceSimulator.makeLedger()
        var simulator = GovernanceSimulator(seed: seed)
        var incremental = Projections()
        var changes = Projections.Changes()
        var snapshots: [UInt64: Projections] = [:]
        for entry in try await ledger.store.allEntries() {
            try incremental.apply(try SignedEvent(leaf: entry.leaf).event, leafHash: entry.leafHash, changes: &changes)
        }
        snapshots[incremental.nextSeq] = incremental
        for _ in 0..<400 {
            for signed in try await simulator.step(on: ledger) {
                try incremental.apply(signed.event, leafHash: signed.leafHash, changes: &changes)
            }
            snapshots[incremental.nextSeq] = incremental
        }
        let store = ledger.store
        let rebuilt = try await ProjectionUpdater.fold(store)
        // `differences` compares every table row by row (with ==), and names the rows that differ.
        #expect(rebuilt.differences(from: incremental) == [])

        // The history must exercise what the projections are about, or the property says little.
        #expect(incremental.registry.values.contains { !$0.approvals.isEmpty })
        #expect(incremental.deployments.values.contains { $0.contains { $0.kind == .rolledBack } })
        #expect(incremental.registry.values.contains { $0.status == .retired })
        #expect(incremental.runs.values.contains { $0.status == .failed })
        #expect(!incremental.drift.isEmpty)

        for size in snapshots.keys.sorted() where size % 7 == 0 || size == snapshots.keys.max() {
            let prefix = try await ProjectionUpdater.fold(store, upTo: size)
            let snapshot = try #require(snapshots[size])
            #expect(prefix.differences(from: snapshot) == [], "prefix \(size)")
        }
    }

}
