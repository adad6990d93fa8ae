/// The rules of the humans' events, enforced when appending and again by the verifier:
/// - `model.approved` and `model.rejected` name a registered version with its artifact digest (so a decision can
///   never be moved to other bytes) that is not retired. That version passed the gate, which registration requires.
///   Each key decides on a version once: it approves or rejects it, never both and never twice.
/// - `model.approved` is not signed by the key that signed the version's `model.trained` (separation of duties),
///   and names a version nobody rejected: a rejection is a veto, after which the version can no longer be approved,
///   deployed or rolled back to.
/// - `model.deployed` names a version that is not retired or rejected, that has the policy's number of distinct
///   approvals at that point in the log, and that does not already serve the target.
/// - `model.rolledBack` moves a target from the version serving it (`from`) to `to`, a version of the same model
///   that served this target before, was approved and deployed then, and is not retired or rejected since.
/// - `model.retired` names a version that is not retired and serves no target.
extension ModelRules {
    func checkGovernance(_ event: Event, policy: Policy) throws(LedgerError) {
        switch event.eventType {
        case .modelApproved:
            let data = try event.decode(ModelApproved.self)
            let version = try governedVersion(data.name, data.version, data.sha256)
            try requireUndecided(version, by: event)
            if let rejection = version.rejections.first {
                throw LedgerError(.policy, "\(label(version)) was rejected at seq \(rejection.seq)")
            }
            if version.trainedBy.hasSameBytes(as: event.actor) {
                throw LedgerError(
                    .policy,
                    "separation of duties: this key trained \(label(version)) (seq \(version.trainedAt)) and may "
                        + "not approve it"
                )
            }
        case .modelRejected:
            let data = try event.decode(ModelRejected.self)
            try requireUndecided(governedVersion(data.name, data.version, data.sha256), by: event)
        case .modelDeployed:
            let data = try event.decode(ModelDeployed.self)
            let version = try governedVersion(data.name, data.version, data.sha256)
            try requireDeployable(version)
            guard version.approvals.count >= policy.requiredApprovals else {
                throw LedgerError(
                    .policy,
                    "\(label(version)) has \(version.approvals.count) of the \(policy.requiredApprovals) distinct "
                        + "approvals the policy requires"
                )
            }
            let target = data.target
            try requireValidTarget(target)
            if let current = targets[target]?.current, current.name.hasSameBytes(as: version.name),
                current.version == version.version
            {
                throw LedgerError(.policy, "\(label(version)) already serves \(target) (seq \(current.seq))")
            }
        case .modelRolledBack:
            let data = try event.decode(ModelRolledBack.self)
            let name = data.name
            let targetName = data.target
            guard let current = targets[targetName]?.current, current.name.hasSameBytes(as: name) else {
                throw LedgerError(
                    .policy,
                    "no version of \(name) serves \(targetName), so there is nothing to roll back"
                )
            }
            let from = data.from.version
            guard from == current.version, version(name, from)?.artifact == data.from.sha256 else {
                throw LedgerError(
                    .policy,
                    "\(name)@\(current.version) serves \(targetName), not \(name)@\(from) with that artifact"
                )
            }
            let to = data.to.version
            guard let version = version(name, to), version.artifact == data.to.sha256
            else { throw LedgerError(.policy, "\(name)@\(to) is not a registered version with that artifact") }
            guard to != from else { throw LedgerError(.policy, "\(label(version)) already serves \(targetName)") }
            guard targets[targetName]?.served.contains(label(version)) == true else {
                throw LedgerError(
                    .policy,
                    "\(label(version)) never served \(targetName); roll back only to a version deployed there before"
                )
            }
            try requireDeployable(version)
        case .modelRetired:
            let data = try event.decode(ModelRetired.self)
            let version = try governedVersion(data.name, data.version, data.sha256)
            if let retiredAt = version.retiredAt {
                throw LedgerError(.policy, "\(label(version)) was already retired at seq \(retiredAt)")
            }
            if let serving = targets.sortedByKey().first(where: {
                $0.value.current?.name.hasSameBytes(as: version.name) == true
                    && $0.value.current?.version == version.version
            }) {
                throw LedgerError(
                    .policy,
                    "\(label(version)) serves \(serving.key); deploy or roll back to another version first"
                )
            }
        default:
            break
        }
    }

    /// Records what a checked governance event says. Its data matched the catalog's shape, so a decoding failure
    /// (which would be a bug) records nothing.
    mutating func applyGovernance(_ event: Event) {
        let decision = Decision(actor: event.actor, seq: event.seq)
        switch event.eventType {
        case .modelApproved:
            guard let data = try? event.decode(ModelApproved.self) else { return }
            update(data.name, data.version) { $0.approvals.append(decision) }
        case .modelRejected:
            guard let data = try? event.decode(ModelRejected.self) else { return }
            update(data.name, data.version) { $0.rejections.append(decision) }
        case .modelRetired:
            guard let data = try? event.decode(ModelRetired.self) else { return }
            update(data.name, data.version) { $0.retiredAt = event.seq }
        case .modelDeployed:
            guard let data = try? event.decode(ModelDeployed.self) else { return }
            serve(data.target, data.name, data.version, seq: event.seq)
        case .modelRolledBack:
            guard let data = try? event.decode(ModelRolledBack.self) else { return }
            serve(data.target, data.name, data.to.version, seq: event.seq)
        default:
            break
        }
    }

    private mutating func serve(_ targetName: String, _ name: String, _ version: Int, seq: UInt64) {
        // In place: the target's history is never copied.
        targets[targetName, default: Target()].current = Serving(name: name, version: version, seq: seq)
        targets[targetName, default: Target()].served.insert("\(name)@\(version)")
    }

    /// Each key decides on a version once, and never on a retired one.
    private func requireUndecided(_ version: Version, by event: Event) throws(LedgerError) {
        if let retiredAt = version.retiredAt {
            throw LedgerError(.policy, "\(label(version)) was retired at seq \(retiredAt)")
        }
        let decisions = version.approvals + version.rejections
        if let decision = decisions.first(where: { $0.actor.hasSameBytes(as: event.actor) }) {
            throw LedgerError(
                .policy,
                "this key already decided on \(label(version)) at seq \(decision.seq); each approver counts once"
            )
        }
    }

    /// The version `{"name","version","sha256"}` an event names, which must be registered with that artifact.
    private func governedVersion(_ name: String, _ number: Int, _ sha256: Hash256) throws(LedgerError) -> Version {
        guard let version = version(name, number) else {
            throw LedgerError(.policy, "\(name)@\(number) is not a registered version")
        }
        guard version.artifact == sha256 else {
            throw LedgerError(
                .policy,
                "\(name)@\(number) is registered with artifact sha256:\(version.artifact.hex.prefix(12))…, not the one "
                    + "this event names"
            )
        }
        return version
    }

    private func requireDeployable(_ version: Version) throws(LedgerError) {
        if let retiredAt = version.retiredAt {
            throw LedgerError(.policy, "\(label(version)) was retired at seq \(retiredAt) and cannot serve again")
        }
        if let rejection = version.rejections.first {
            throw LedgerError(.policy, "\(label(version)) was rejected at seq \(rejection.seq) and cannot serve")
        }
    }

    private func requireValidTarget(_ target: String) throws(LedgerError) {
        guard Self.isValidName(target) else {
            throw LedgerError(
                .schema,
                "data.target: a target name is letters, digits, '.', '_' and '-', starting with a letter or digit"
            )
        }
    }

    private func label(_ version: Version) -> String { "\(version.name)@\(version.version)" }

    private mutating func update(_ name: String, _ number: Int, _ change: (inout Version) -> Void) {
        guard let count = versions[name]?.count, number >= 1, number <= count else { return }
        change(&versions[name, default: []][number - 1])
    }

    /// A `drift.measured` verdict must follow from its own numbers: `significant` when any PSI (of a feature or of
    /// the scores) reaches the significant threshold, `moderate` when any reaches the moderate one, else `stable`.
    func checkDriftVerdict(of data: DriftMeasured) throws(LedgerError) {
        let moderate = data.thresholds.moderate
        let significant = data.thresholds.significant
        guard moderate <= significant else {
            throw LedgerError(.schema, "thresholds.moderate is above thresholds.significant")
        }
        var psis = data.features.map(\.psi)
        if let scores = data.scores?.psi { psis.append(scores) }
        let worst = psis.max() ?? 0
        let verdict: DriftMeasured.Verdict =
            worst >= significant ? .significant : worst >= moderate ? .moderate : .stable
        guard data.verdict == verdict else {
            throw LedgerError(
                .policy,
                "drift.measured's verdict does not follow from its numbers: the largest PSI \(worst) makes it \(verdict.rawValue)"
            )
        }
    }
}
