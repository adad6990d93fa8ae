public import LedgerArtifacts
public import LedgerCore
public import LedgerProjections
public import LedgerStore

/// Opens a workspace's log and read tables: the ones `ledger.json` names, unless a caller supplies its own.
public struct StoreOpener: Sendable {
    public var openStore: @Sendable (Workspace) async throws(LedgerError) -> any EventStore
    public var openProjections: @Sendable (Workspace, any EventStore) async throws(LedgerError) -> any ProjectionStore

    public init(
        openStore: @escaping @Sendable (Workspace) async throws(LedgerError) -> any EventStore,
        openProjections:
            @escaping @Sendable (Workspace, any EventStore) async throws(LedgerError) -> any ProjectionStore
    ) {
        self.openStore = openStore
        self.openProjections = openProjections
    }

    /// The log and read tables that the workspace's `log` URL names.
    public static let configured = StoreOpener(
        openStore: { (workspace) async throws(LedgerError) in try await workspace.openStore() },
        openProjections: { (workspace, store) async throws(LedgerError) in
            try await workspace.openProjections(beside: store)
        }
    )
}

/// A workspace opened for one process: its log, its ledger and its read tables, each opened once, and one
/// ``ProjectionFollower`` that keeps the tables in step with every append made through ``ledger``.
///
/// Every use case (``approve(_:reason:signer:)``, ``deploy(_:target:signer:)``, ``rollback(model:target:to:reason:signer:)``
/// and the others) runs on a session, so that a command opens each store once and reads the result of its own
/// append from memory instead of reloading the tables.
public final class WorkspaceSession: Sendable {
    public let workspace: Workspace
    public let store: any EventStore
    public let tables: any ProjectionStore
    public let ledger: Ledger
    /// Where warnings go (a head record rebuilt from a checkpoint, read tables that failed to update).
    public let warn: @Sendable (String) -> Void
    private let follower: ProjectionFollower

    private init(
        workspace: Workspace,
        store: any EventStore,
        tables: any ProjectionStore,
        ledger: Ledger,
        follower: ProjectionFollower,
        warn: @escaping @Sendable (String) -> Void
    ) {
        self.workspace = workspace
        self.store = store
        self.tables = tables
        self.ledger = ledger
        self.follower = follower
        self.warn = warn
    }

    /// Opens the log, refusing one that is not the log this workspace's config was made for. Every append through
    /// ``ledger`` also updates the read tables; if that fails, the event still stands and the next query catches up.
    ///
    /// - Parameter readingOnly: for commands that never append (`log`, `events`, `export`): the read tables are not
    ///   checked first. Otherwise read tables that applied entries the log no longer holds, the last local evidence
    ///   of a deletion when the head record went with it, refuse the open.
    public static func open(
        _ workspace: Workspace,
        readingOnly: Bool = false,
        opener: StoreOpener = .configured,
        warn: @escaping @Sendable (String) -> Void
    ) async throws(LedgerError) -> WorkspaceSession {
        let store = try await opener.openStore(workspace)
        let ledger = try await Ledger.open(store: store, clock: SystemClock(), headRecord: workspace.headRecord)
        for warning in ledger.openWarnings { warn(warning) }
        let state = await ledger.state
        guard state.logID?.hasSameBytes(as: workspace.logID) == true, state.genesisLeafHash == workspace.genesis else {
            throw LedgerError(
                .trustAnchor,
                "\(Workspace.configName) does not match the log at \(workspace.redactedLogURL): its log id or genesis hash differs"
            )
        }
        let tables = try await opener.openProjections(workspace, store)
        let follower = ProjectionFollower(log: store, store: tables)
        if !readingOnly { try await follower.catchUp() }
        await ledger.onAppend { batch in
            do {
                try await follower.apply(batch)
            } catch {
                warn("the projections did not update (\(error)); the next query catches up")
            }
        }
        return WorkspaceSession(
            workspace: workspace,
            store: store,
            tables: tables,
            ledger: ledger,
            follower: follower,
            warn: warn
        )
    }

    /// The projections at the log's head: the follower's copy, caught up with the log first.
    public func projections() async throws(LedgerError) -> Projections {
        try await follower.current()
    }

    /// The signing key in `path`, or the workspace's own key for `role` when `path` is nil.
    public func signer(_ path: String?, role: Role) throws(LedgerError) -> SigningKey {
        guard let path else { return try KeyFiles.loadPrivateKey(try workspace.keyFile(for: role)) }
        return try KeyFiles.loadPrivateKey(path)
    }

    /// The artifact store that `artifacts` in `ledger.json` names.
    public func artifacts() throws(LedgerError) -> any ArtifactStore { try workspace.openArtifacts() }
}
