import LedgerCore
public import LedgerProjections
public import LedgerStore

/// The behaviour every ``ProjectionStore`` must show, as one suite that each backend's tests run against a fresh,
/// empty store and the log it keeps the read tables of.
///
/// Each check throws ``ConformanceFailure`` naming what broke. Checks are independent: each gets its own backend.
/// The histories come from ``GovernanceSimulator``, so they hold approvals, rollbacks, retirements, failed runs and
/// drift: every table has rows.
public enum ProjectionStoreConformance {
    /// A fresh backend: an empty log, and an empty projection store for its read tables.
    public typealias Backend = (log: any EventStore, tables: any ProjectionStore)
    public typealias Check = (name: String, body: @Sendable (Backend) async throws -> Void)

    /// All checks, by name, so a test can run each as its own case.
    public static let checks: [Check] = [
        ("a store with nothing saved loads nil", emptyStore),
        ("a save loads back row for row, its head included", saveAndLoad),
        (
            "saved after every append and loaded back, the tables equal a rebuild (seed 11)",
            { try await followed($0, 11) }
        ),
        (
            "saved after every append and loaded back, the tables equal a rebuild (seed 12)",
            { try await followed($0, 12) }
        ),
        ("a save from a stale head is a conflict and changes nothing", staleSave),
        ("a save that replaces nothing (a rebuild) replaces every row", rebuildReplaces),
        ("catching up from a saved prefix equals a fold of the whole log", catchUpFromPrefix),
    ]

    static func expect(_ condition: Bool, _ check: String, _ detail: @autoclosure () -> String) throws {
        try Conformance.expect(condition, check, detail())
    }

    /// Runs `actions` simulated actions of seed `seed` on a ledger over `log`.
    static func simulate(on log: any EventStore, seed: UInt64, actions: Int) async throws -> Ledger {
        let ledger = try await GovernanceSimulator.makeLedger(store: log)
        var simulator = GovernanceSimulator(seed: seed)
        try await simulator.run(actions, on: ledger)
        return ledger
    }

    /// Loads the saved projections, failing `check` when nothing was saved.
    static func loaded(_ tables: any ProjectionStore, _ check: String) async throws -> Projections {
        guard let saved = try await tables.load() else {
            throw ConformanceFailure(check: check, detail: "nothing loads after a save")
        }
        return saved
    }

    static func same(_ saved: Projections, _ expected: Projections, _ check: String, _ when: String) throws {
        try expect(saved.head == expected.head, check, "\(when): the head differs")
        let differences = saved.differences(from: expected)
        try expect(differences.isEmpty, check, "\(when): rows differ: \(differences.prefix(5))")
    }

    static func emptyStore(_ backend: Backend) async throws {
        try expect(try await backend.tables.load() == nil, "emptyStore", "an empty store loads projections")
    }

    static func saveAndLoad(_ backend: Backend) async throws {
        _ = try await simulate(on: backend.log, seed: 5, actions: 60)
        let folded = try await ProjectionUpdater.fold(backend.log)
        try expect(folded.head != nil, "saveAndLoad", "the fold has no head")
        try await backend.tables.save(folded, changes: .all, replacing: .none)
        try same(try await loaded(backend.tables, "saveAndLoad"), folded, "saveAndLoad", "after a save")
        // A second load reads the same rows: loading changes nothing.
        try same(try await loaded(backend.tables, "saveAndLoad"), folded, "saveAndLoad", "after a second load")
    }

    /// As the CLI does: a follower keeps the projections in memory between appends and saves each batch's rows.
    static func followed(_ backend: Backend, _ seed: UInt64) async throws {
        let check = "followed(seed \(seed))"
        let (log, tables) = backend
        let ledger = try await GovernanceSimulator.makeLedger(store: log)
        let follower = ProjectionFollower(log: log, store: tables)
        await ledger.onAppend { batch in
            try? await follower.apply(batch)
        }
        var simulator = GovernanceSimulator(seed: seed)
        try await simulator.run(250, on: ledger)

        let rebuilt = try await ProjectionUpdater.fold(log)
        try same(try await loaded(tables, check), rebuilt, check, "after the follower's saves")

        // A rebuild writes the same rows the incremental saves did.
        try await ProjectionUpdater.rebuild(log: log, into: tables)
        try same(try await loaded(tables, check), rebuilt, check, "after a rebuild")

        // A save from a stale head is refused and changes nothing.
        try await Conformance.expectError(.conflict, check) {
            try await tables.save(Projections(), changes: .all, replacing: .some(nil))
        }
        try same(try await loaded(tables, check), rebuilt, check, "after a refused save")
    }

    static func staleSave(_ backend: Backend) async throws {
        let (log, tables) = backend
        _ = try await simulate(on: log, seed: 7, actions: 80)
        let size = try await log.size()
        let prefix = try await ProjectionUpdater.fold(log, upTo: size / 2)
        let whole = try await ProjectionUpdater.fold(log)
        try await tables.save(prefix, changes: .all, replacing: .none)
        // The saved head moves from the prefix's to the whole log's.
        try await tables.save(whole, changes: .all, replacing: .some(prefix.head))
        try same(try await loaded(tables, "staleSave"), whole, "staleSave", "after a save from the current head")

        // Nothing saved, and the prefix's head, are both stale now.
        try await Conformance.expectError(.conflict, "staleSave (nothing saved)") {
            try await tables.save(Projections(), changes: .all, replacing: .some(nil))
        }
        try await Conformance.expectError(.conflict, "staleSave (an older head)") {
            try await tables.save(prefix, changes: .all, replacing: .some(prefix.head))
        }
        try same(try await loaded(tables, "staleSave"), whole, "staleSave", "after the refused saves")
    }

    static func rebuildReplaces(_ backend: Backend) async throws {
        let (log, tables) = backend
        // Rows of another history, saved first: a rebuild must leave none of them.
        let other = try await simulate(on: InMemoryEventStore(), seed: 3, actions: 120)
        try await tables.save(try await ProjectionUpdater.fold(other.store), changes: .all, replacing: .none)
        _ = try await simulate(on: log, seed: 4, actions: 40)
        let rebuilt = try await ProjectionUpdater.rebuild(log: log, into: tables)
        try same(rebuilt, try await ProjectionUpdater.fold(log), "rebuildReplaces", "the rebuild's result")
        try same(try await loaded(tables, "rebuildReplaces"), rebuilt, "rebuildReplaces", "after the rebuild")
    }

    static func catchUpFromPrefix(_ backend: Backend) async throws {
        let (log, tables) = backend
        _ = try await simulate(on: log, seed: 9, actions: 150)
        let size = try await log.size()
        try await tables.save(try await ProjectionUpdater.fold(log, upTo: size / 3), changes: .all, replacing: .none)
        // Only the rows the rest of the log changes are saved now.
        let caughtUp = try await ProjectionUpdater.catchUp(log: log, into: tables)
        let whole = try await ProjectionUpdater.fold(log)
        try same(caughtUp, whole, "catchUpFromPrefix", "the catch-up's result")
        try same(try await loaded(tables, "catchUpFromPrefix"), whole, "catchUpFromPrefix", "after the catch-up")
    }
}
