import Foundation
public import LedgerAudit
import LedgerCore
public import LedgerPipeline
import LedgerStore

extension WorkspaceSession {
    /// Rebuilds `version` from its events and the Audit DB and compares every digest and metric with what the log
    /// recorded (``Reproduction``).
    ///
    /// - Parameter auditSource: the Audit DB to extract from again; nil uses the source each `data.extracted` names
    ///   where it can.
    /// - Throws: `argument.invalid` when `version` is not registered.
    public func reproduce(
        _ version: ModelVersionReference,
        auditSource: AuditSourceLocation?,
        threads: Int
    ) async throws -> Reproduction {
        let state = await ledger.state
        guard let registered = state.models.version(version.name, version.version) else {
            let known = state.models.versions[version.name]?.count ?? 0
            throw LedgerError(
                .invalidArgument,
                known == 0
                    ? "no model named \(version.name) is registered"
                    : "\(version.name) has versions 1 to \(known), not \(version.version)"
            )
        }
        return try await Reproduction.run(
            registered,
            store: store,
            state: state,
            artifacts: try artifacts(),
            workingDirectory: workspace.root.path,
            auditSource: auditSource,
            threads: threads
        )
    }
}
