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
        switch event.type {
        case "model.approved", "model.rejected":
            let version = try governedVersion(in: event)
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
            if event.type == "model.approved" {
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
            }
        case "model.deployed":
            let version = try governedVersion(in: event)
            try requireDeployable(version)
            guard version.approvals.count >= policy.requiredApprovals else {
                throw LedgerError(
                    .policy,
                    "\(label(version)) has \(version.approvals.count) of the \(policy.requiredApprovals) distinct "
                        + "approvals the policy requires"
                )
            }
            let target = event.data["target"]?.stringValue ?? ""
            try requireValidTarget(target)
            if let current = targets[target]?.current, current.name.hasSameBytes(as: version.name),
                current.version == version.version
            {
                throw LedgerError(.policy, "\(label(version)) already serves \(target) (seq \(current.seq))")
            }
        case "model.rolledBack":
            let name = event.data["name"]?.stringValue ?? ""
            let targetName = event.data["target"]?.stringValue ?? ""
            guard let current = targets[targetName]?.current, current.name.hasSameBytes(as: name) else {
                throw LedgerError(
                    .policy,
                    "no version of \(name) serves \(targetName), so there is nothing to roll back"
                )
            }
            let from = Int(event.data["from"]?["version"]?.integerValue ?? 0)
            guard from == current.version,
                version(name, from)?.artifact.hex == event.data["from"]?["sha256"]?.stringValue
            else {
                throw LedgerError(
                    .policy,
                    "\(name)@\(current.version) serves \(targetName), not \(name)@\(from) with that artifact"
                )
            }
            let to = Int(event.data["to"]?["version"]?.integerValue ?? 0)
            guard let version = version(name, to), version.artifact.hex == event.data["to"]?["sha256"]?.stringValue
            else { throw LedgerError(.policy, "\(name)@\(to) is not a registered version with that artifact") }
            guard to != from else { throw LedgerError(.policy, "\(label(version)) already serves \(targetName)") }
            guard targets[targetName]?.served.contains(label(version)) == true else {
                throw LedgerError(
                    .policy,
                    "\(label(version)) never served \(targetName); roll back only to a version deployed there before"
                )
            }
            try requireDeployable(version)
        case "model.retired":
            let version = try governedVersion(in: event)
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

    mutating func applyGovernance(_ event: Event) {
        let name = event.data["name"]?.stringValue ?? ""
        let number = Int(event.data["version"]?.integerValue ?? 0)
        let decision = Decision(actor: event.actor, seq: event.seq)
        switch event.type {
        case "model.approved":
            update(name, number) { $0.approvals.append(decision) }
        case "model.rejected":
            update(name, number) { $0.rejections.append(decision) }
        case "model.retired":
            update(name, number) { $0.retiredAt = event.seq }
        case "model.deployed", "model.rolledBack":
            let targetName = event.data["target"]?.stringValue ?? ""
            let version =
                event.type == "model.deployed" ? number : Int(event.data["to"]?["version"]?.integerValue ?? 0)
            // In place: the target's history is never copied.
            targets[targetName, default: Target()].current = Serving(name: name, version: version, seq: event.seq)
            targets[targetName, default: Target()].served.insert("\(name)@\(version)")
        default:
            break
        }
    }

    /// The version `{"name","version","sha256"}` in `event` names, which must be registered with that artifact.
    private func governedVersion(in event: Event) throws(LedgerError) -> Version {
        let name = event.data["name"]?.stringValue ?? ""
        let number = Int(event.data["version"]?.integerValue ?? 0)
        guard let version = version(name, number) else {
            throw LedgerError(.policy, "\(name)@\(number) is not a registered version")
        }
        guard version.artifact.hex == event.data["sha256"]?.stringValue else {
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
    func checkDriftVerdict(of event: Event) throws(LedgerError) {
        let moderate = event.data["thresholds"]?["moderate"]?.doubleValue ?? .nan
        let significant = event.data["thresholds"]?["significant"]?.doubleValue ?? .nan
        guard moderate <= significant else {
            throw LedgerError(.schema, "thresholds.moderate is above thresholds.significant")
        }
        var psis = (event.data["features"]?.arrayValue ?? []).map { $0["psi"]?.doubleValue ?? 0 }
        if let scores = event.data["scores"]?["psi"]?.doubleValue { psis.append(scores) }
        let worst = psis.max() ?? 0
        let verdict = worst >= significant ? "significant" : worst >= moderate ? "moderate" : "stable"
        guard event.data["verdict"]?.stringValue == verdict else {
            throw LedgerError(
                .policy,
                "drift.measured's verdict does not follow from its numbers: the largest PSI \(worst) makes it \(verdict)"
            )
        }
    }
}
