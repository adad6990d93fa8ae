import LedgerCore
import LedgerStore
import LedgerTesting
import Testing

/// Appends that overlap on one ledger (an actor is reentrant while the store writes) leave the same state as a
/// fresh fold of the log: no event is folded twice.
@Suite("Concurrent appends")
struct ConcurrentAppendTests {
    @Test("20 approvals appended at once: the in-memory state equals a fresh fold of the log")
    func overlappingAppends() async throws {
        let store = SlowReturningStore()
        let ledger = try await GovernanceSimulator.makeLedger(store: store)
        var simulator = GovernanceSimulator(seed: 9)
        var versions: [ModelRules.Version] = []
        for _ in 0..<20 { versions.append(try await simulator.registerVersion(on: ledger)) }
        let approver = GovernanceSimulator.Keys.approvers[0]
        await store.slowDown()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for version in versions {
                group.addTask {
                    let data: JSONValue = [
                        "name": .string(version.name), "version": .int(version.version),
                        "sha256": .string(version.artifact.hex), "reason": "concurrent",
                    ]
                    try await ledger.append([EventDraft(type: "model.approved", data: data)], signedBy: approver)
                }
            }
            try await group.waitForAll()
        }
        await store.slowDown()
        let fresh = try await Ledger.open(store: store, clock: SteppingClock()).state
        let state = await ledger.state
        #expect(state.size == fresh.size)
        for version in versions {
            let approvals = state.models.version(version.name, version.version)?.approvals.count
            #expect(approvals == 1, "\(version.name)@\(version.version) has \(approvals ?? 0) approvals in memory")
        }
        #expect(state == fresh, "the in-memory state equals a fold of the stored log")
    }
}

/// A store whose successful appends return late once ``slowDown()`` was called: an append's caller is suspended
/// after the write is durable, which is when another append on the same ledger can run, conflict and catch up.
actor SlowReturningStore: EventStore {
    private let inner = InMemoryEventStore()
    private var slow = false

    /// Makes later appends sleep after they succeed (the ledger's genesis and setup run at full speed).
    func slowDown() { slow.toggle() }

    func size() async throws(LedgerError) -> UInt64 { await inner.size() }

    func append(_ entries: [LogEntry], expecting expectedSize: UInt64) async throws(LedgerError) {
        try await inner.append(entries, expecting: expectedSize)
        if slow { try? await Task.sleep(for: .milliseconds(5)) }
    }

    func entries(in range: Range<UInt64>) async throws(LedgerError) -> [LogEntry] {
        await inner.entries(in: range)
    }

    func leaves(upTo size: UInt64) async throws(LedgerError) -> [[UInt8]] { await inner.leaves(upTo: size) }

    func leafHashes(upTo size: UInt64) async throws(LedgerError) -> [Hash256] { await inner.leafHashes(upTo: size) }

    func keepCheckpoint(_ note: String, size: UInt64) async throws(LedgerError) {
        await inner.keepCheckpoint(note, size: size)
    }

    func checkpoints() async throws(LedgerError) -> [(size: UInt64, note: String)] { await inner.checkpoints() }
}
