import Foundation
import LedgerCore
import LedgerProjections
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import LedgerWorkspace
import Testing

/// Counts the opens a session makes through its ``StoreOpener``.
private final class OpenCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var stores = 0
    private var tables = 0

    var counts: (stores: Int, tables: Int) { lock.withLock { (stores, tables) } }

    var opener: StoreOpener {
        StoreOpener(
            openStore: { (workspace) async throws(LedgerError) in
                self.lock.withLock { self.stores += 1 }
                return try await StoreOpener.configured.openStore(workspace)
            },
            openProjections: { (workspace, store) async throws(LedgerError) in
                self.lock.withLock { self.tables += 1 }
                return try await StoreOpener.configured.openProjections(workspace, store)
            }
        )
    }
}

@Suite("One open per process")
struct OneOpenPerProcessTests {
    @Test("approve, deploy and rollback open the log and the read tables once each, and report the new status")
    func onceEach() async throws {
        let folder = try TemporaryFolder()
        let workspace = try await Workspace.create(
            at: URL(fileURLWithPath: folder.path("ws")),
            logID: nil,
            log: "sqlite:ledger.db",
            artifacts: "file:artifacts",
            source: nil
        ).workspace
        // Two registered versions, trained by the simulator's pipeline key.
        let setup = try await WorkspaceSession.open(workspace) { _ in }
        let pipeline = GovernanceSimulator.Keys.pipeline
        _ = try await setup.addKey(
            pipeline.publicKey,
            name: "sim-pipeline",
            roles: [.pipeline],
            signer: try setup.signer(nil, role: .admin)
        )
        var simulator = GovernanceSimulator(seed: 7)
        let first = try await simulator.registerVersion(on: setup.ledger)
        let second = try await simulator.registerVersion(on: setup.ledger)
        let versions = [first, second].map { ModelVersionReference(name: $0.name, version: $0.version) }

        /// Runs `body` on a session of its own, as one command in one process would, and returns its outcome and
        /// the opens it made.
        func command(
            _ body: (WorkspaceSession) async throws -> GovernanceOutcome
        ) async throws -> (GovernanceOutcome, (stores: Int, tables: Int)) {
            let counter = OpenCounter()
            let session = try await WorkspaceSession.open(workspace, opener: counter.opener) { _ in }
            let outcome = try await body(session)
            return (outcome, counter.counts)
        }

        for version in versions {
            let (approved, approveOpens) = try await command { session in
                try await session.approve(version, reason: "checked", signer: try session.signer(nil, role: .approver))
            }
            #expect(approveOpens == (1, 1), "approve opened \(approveOpens)")
            #expect(approved.entry?.status == .approved, "the status after the approval, read from memory")
            let (deployed, deployOpens) = try await command { session in
                try await session.deploy(
                    version,
                    target: "production",
                    signer: try session.signer(nil, role: .deployer)
                )
            }
            #expect(deployOpens == (1, 1), "deploy opened \(deployOpens)")
            #expect(deployed.entry?.status == .deployed)
            #expect(deployed.entry?.serving == ["production"])
        }
        let (rolledBack, rollbackOpens) = try await command { session in
            try await session.rollback(
                model: first.name,
                target: "production",
                to: nil,
                reason: "alerts doubled",
                signer: try session.signer(nil, role: .deployer)
            )
        }
        #expect(rollbackOpens == (1, 1), "rollback opened \(rollbackOpens)")
        #expect(rolledBack.version == versions[0], "the default destination is the version that served before")
        #expect(rolledBack.entry?.serving == ["production"])

        // The read tables the sessions left agree with a rebuild from the log.
        let store = try await workspace.openStore()
        let rebuilt = try await ProjectionUpdater.rebuild(log: store, into: InMemoryProjectionStore())
        let saved = try await workspace.openProjections(beside: store).load()
        #expect(saved?.registry == rebuilt.registry)
        #expect(saved?.deployments == rebuilt.deployments)
    }
}
