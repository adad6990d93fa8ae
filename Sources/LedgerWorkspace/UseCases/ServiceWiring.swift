public import LedgerArtifacts
public import LedgerCore
public import LedgerStore

/// What `ledger serve` needs from a workspace: the log, the artifact store, the trust anchor, the head record, the
/// log key (for `/v1/checkpoint`, when its file exists) and the default target.
public struct ServiceInputs: Sendable {
    public let store: any EventStore
    public let artifacts: any ArtifactStore
    public let trustedGenesis: Hash256
    public let headRecord: HeadRecordFile
    /// The log key, or nil when its file is absent: `/v1/checkpoint` then answers 503.
    public let logKey: SigningKey?
    /// The workspace's model target, served unless `--target` names another.
    public let defaultTarget: String
}

extension Workspace {
    /// Opens what the service runs on. The service opens its own `Ledger` over `store` and keeps its projections in
    /// memory, so no read tables are opened here.
    ///
    /// - Throws: a log or artifact store that cannot be opened, or a log key file that exists but cannot be read.
    public func serviceInputs() async throws(LedgerError) -> ServiceInputs {
        let logKeyPath = try keyFile(for: .log)
        return ServiceInputs(
            store: try await openStore(),
            artifacts: try openArtifacts(),
            trustedGenesis: genesis,
            headRecord: headRecord,
            logKey: Files.exists(logKeyPath) ? try KeyFiles.loadPrivateKey(logKeyPath) : nil,
            defaultTarget: model.target
        )
    }
}
