public import LedgerCore
public import LedgerProjections
import LedgerStore

/// What a governance decision did: the event appended, and the version's status afterwards.
public struct GovernanceOutcome: Sendable {
    /// The appended event.
    public let event: Event
    /// The version the decision is about (for a rollback: the version the target went back to).
    public let version: ModelVersionReference
    /// The version's registry row after the decision, or nil if the read tables could not say.
    public let entry: RegistryEntry?
    /// The policy's number of required approvals.
    public let requiredApprovals: Int
}

/// An approval signed but not appended (`ledger approve --offline`).
public struct SignedApproval: Sendable {
    public let signed: SignedEvent
    public let version: ModelVersionReference
}

/// The governance use cases: approve, reject, deploy, roll back and retire a registered version. Each checks the
/// rules before anything is written (``Ledger/append(_:signedBy:)``) and returns the version's status afterwards,
/// read from the session's own projections rather than a second open of the read tables.
extension WorkspaceSession {
    /// Appends `model.approved` for `version`, signed by `signer` (an approver).
    public func approve(
        _ version: ModelVersionReference,
        reason: String,
        signer: SigningKey
    ) async throws(LedgerError) -> GovernanceOutcome {
        try await decide(version, signer: signer) { (registered) throws(LedgerError) in
            try EventDraft(
                ModelApproved(name: version.name, version: version.version, sha256: registered.artifact, reason: reason)
            )
        }
    }

    /// Signs `model.approved` for `version` without appending it: the envelope carries the log's next seq and the last
    /// entry's hash, so it must be appended before any other event.
    public func signApproval(
        _ version: ModelVersionReference,
        reason: String,
        signer: SigningKey
    ) async throws(LedgerError) -> SignedApproval {
        let registered = try version.registered(in: await ledger.state)
        let draft =
            try EventDraft(
                ModelApproved(name: version.name, version: version.version, sha256: registered.artifact, reason: reason)
            )
        guard let signed = try await ledger.sign([draft], signedBy: signer).first else {
            throw LedgerError(.storage, "signing the approval produced no event")
        }
        return SignedApproval(signed: signed, version: version)
    }

    /// Appends `model.rejected` for `version`: a veto.
    public func reject(
        _ version: ModelVersionReference,
        reason: String,
        signer: SigningKey
    ) async throws(LedgerError) -> GovernanceOutcome {
        try await decide(version, signer: signer) { (registered) throws(LedgerError) in
            try EventDraft(
                ModelRejected(name: version.name, version: version.version, sha256: registered.artifact, reason: reason)
            )
        }
    }

    /// Appends `model.deployed`: `version` serves `target`.
    public func deploy(
        _ version: ModelVersionReference,
        target: String,
        signer: SigningKey
    ) async throws(LedgerError) -> GovernanceOutcome {
        try await decide(version, signer: signer) { (registered) throws(LedgerError) in
            try EventDraft(
                ModelDeployed(name: version.name, version: version.version, sha256: registered.artifact, target: target)
            )
        }
    }

    /// Appends `model.retired`: `version` can never be deployed or rolled back to again.
    public func retire(
        _ version: ModelVersionReference,
        reason: String?,
        signer: SigningKey
    ) async throws(LedgerError) -> GovernanceOutcome {
        try await decide(version, signer: signer) { (registered) throws(LedgerError) in
            try EventDraft(
                ModelRetired(name: version.name, version: version.version, sha256: registered.artifact, reason: reason)
            )
        }
    }

    /// Appends `model.rolledBack`: `target` goes back to version `to` of `model`, or by default to the version that
    /// served it before the current one, skipping any retired or rejected since.
    public func rollback(
        model: String,
        target: String,
        to: Int?,
        reason: String?,
        signer: SigningKey
    ) async throws(LedgerError) -> GovernanceOutcome {
        // The default destination comes from the deployment history, which the projections keep.
        let history = try await projections().deployments[target] ?? []
        var destination: ModelVersionReference?
        return try await append(signer: signer) { (state) throws(LedgerError) in
            guard let current = state.models.targets[target]?.current, current.name.hasSameBytes(as: model),
                let from = state.models.version(model, current.version)
            else { throw LedgerError(.invalidArgument, "no version of \(model) serves \(target)") }
            var number = to ?? 0
            if to == nil { number = try Self.previousVersion(of: model, before: current, on: target, history, state) }
            let reference = ModelVersionReference(name: model, version: number)
            let to = try reference.registered(in: state)
            destination = reference
            let rolledBack = ModelRolledBack(
                name: model,
                target: target,
                from: .init(version: from.version, sha256: from.artifact),
                to: .init(version: to.version, sha256: to.artifact),
                reason: reason
            )
            return (try EventDraft(rolledBack), reference)
        } about: {
            destination
        }
    }

    // MARK: - The shared path

    /// Appends the draft `build` makes for the registered `version` and returns its status afterwards.
    private func decide(
        _ version: ModelVersionReference,
        signer: SigningKey,
        _ build: @escaping (ModelRules.Version) throws(LedgerError) -> EventDraft
    ) async throws(LedgerError) -> GovernanceOutcome {
        try await append(signer: signer) { (state) throws(LedgerError) in
            (try build(try version.registered(in: state)), version)
        } about: {
            version
        }
    }

    private func append(
        signer: SigningKey,
        _ build: (LedgerState) throws(LedgerError) -> (EventDraft, ModelVersionReference),
        about: () -> ModelVersionReference?
    ) async throws(LedgerError) -> GovernanceOutcome {
        let (draft, version) = try build(await ledger.state)
        guard let signed = try await ledger.append([draft], signedBy: signer).first else {
            throw LedgerError(.storage, "the append returned no event")
        }
        let projections = try? await projections()
        return GovernanceOutcome(
            event: signed.event,
            version: about() ?? version,
            entry: projections?.registry[VersionKey(version.name, version.version)],
            requiredApprovals: projections?.requiredApprovals ?? 1
        )
    }

    /// The version that served `target` before `current`, skipping any retired or rejected since.
    private static func previousVersion(
        of model: String,
        before current: ModelRules.Serving,
        on target: String,
        _ history: [DeploymentRecord],
        _ state: LedgerState
    ) throws(LedgerError) -> Int {
        for record in history.reversed() where record.name.hasSameBytes(as: model) && record.version != current.version
        {
            if let version = state.models.version(model, record.version), version.retiredAt == nil,
                version.rejections.isEmpty
            {
                return record.version
            }
        }
        throw LedgerError(
            .invalidArgument,
            "\(model)@\(current.version) is the only deployable version that has served \(target); nothing to roll back to"
        )
    }
}
