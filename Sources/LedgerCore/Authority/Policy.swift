/// The governance policy in force, set at genesis and replaced by `policy.set`.
///
/// Its JSON form is `{"requiredApprovals": n, "gate": {...}}`. Every gate member is optional in an event and
/// takes its default when absent, so a policy written before a member existed keeps its meaning.
public struct Policy: Sendable, Hashable {
    /// Distinct approvals a model version needs before it may be deployed.
    public var requiredApprovals: Int
    /// What a candidate model must reach on the holdout before it is registered.
    public var gate: Gate

    public init(requiredApprovals: Int = 1, gate: Gate = Gate()) {
        self.requiredApprovals = requiredApprovals
        self.gate = gate
    }

    /// The policy an event records; a gate member it leaves out takes ``Gate``'s default.
    public init(_ data: PolicyData) {
        let defaults = Gate()
        let gate = data.gate ?? PolicyData.GateData()
        self.init(
            requiredApprovals: data.requiredApprovals,
            gate: Gate(
                minAucRoc: gate.minAucRoc ?? defaults.minAucRoc,
                minImprovement: gate.minImprovement ?? defaults.minImprovement,
                minLowerBound: gate.minLowerBound ?? defaults.minLowerBound,
                firstModelMinAucRoc: gate.firstModelMinAucRoc ?? defaults.firstModelMinAucRoc
            )
        )
    }

    /// Reads a policy from JSON such as a `policy.json` file, checking it against the event schema.
    public init(json: JSONValue) throws(LedgerError) {
        try EventCatalog.policy.validate(json, at: "policy")
        do {
            self.init(try JSONValueDecoding.decode(PolicyData.self, from: json))
        } catch {
            throw LedgerError(.schema, "policy: \(error)")
        }
    }

    /// The policy with every member spelled out: what `ledger init` writes and what ``digest`` hashes.
    public var jsonValue: JSONValue {
        .object(["requiredApprovals": .number(Double(requiredApprovals)), "gate": gate.jsonValue])
    }

    /// The policy as `ledger.created` and `policy.set` record it, every member spelled out (the same JSON as
    /// ``jsonValue``).
    public var data: PolicyData {
        PolicyData(
            requiredApprovals: requiredApprovals,
            gate: PolicyData.GateData(
                minAucRoc: gate.minAucRoc,
                minImprovement: gate.minImprovement,
                minLowerBound: gate.minLowerBound,
                firstModelMinAucRoc: gate.firstModelMinAucRoc
            )
        )
    }

    /// SHA-256 of the RFC 8785 form of ``jsonValue``. `model.evaluated` records it, so an auditor can tell which
    /// policy a verdict was reached under; defaults and explicit values that are equal give the same digest.
    public var digest: Hash256 {
        // A policy's members are finite numbers, which always encode.
        Hash256.sha256((try? CanonicalJSON.encode(jsonValue)) ?? [])
    }
}

/// The champion/challenger gate: the thresholds a candidate's holdout metrics must meet to be registered.
///
/// AUC-ROC is the metric the gate judges. With a champion (the model deployed to the target), the candidate must
/// beat it by ``minImprovement`` and the lower bound of the paired bootstrap interval of the difference must be at
/// least ``minLowerBound``. Without one, the candidate must reach ``firstModelMinAucRoc``. ``minAucRoc`` applies
/// always. Each comparison is inclusive (`>=`).
public struct Gate: Sendable, Hashable {
    public var minAucRoc: Double
    public var minImprovement: Double
    public var minLowerBound: Double
    public var firstModelMinAucRoc: Double

    /// The defaults `ledger init` installs: a model must be clearly better than chance (0.6), a first model must
    /// reach 0.7, and a challenger must be at least as good as the champion without being plausibly worse by more
    /// than 0.02 AUC-ROC.
    public init(
        minAucRoc: Double = 0.6,
        minImprovement: Double = 0,
        minLowerBound: Double = -0.02,
        firstModelMinAucRoc: Double = 0.7
    ) {
        self.minAucRoc = minAucRoc
        self.minImprovement = minImprovement
        self.minLowerBound = minLowerBound
        self.firstModelMinAucRoc = firstModelMinAucRoc
    }

    public var jsonValue: JSONValue {
        [
            "minAucRoc": .number(minAucRoc), "minImprovement": .number(minImprovement),
            "minLowerBound": .number(minLowerBound), "firstModelMinAucRoc": .number(firstModelMinAucRoc),
        ]
    }

    /// What the gate decided and why, one reason per comparison, failures first.
    public struct Verdict: Sendable, Hashable {
        public let passed: Bool
        public let reasons: [String]
    }

    /// The comparison of a candidate with the champion on the same holdout rows.
    public struct Comparison: Sendable, Hashable {
        public let championAucRoc: Double
        /// The bounds of the bootstrap confidence interval of candidate − champion AUC-ROC.
        public let lower: Double
        public let upper: Double

        public init(championAucRoc: Double, lower: Double, upper: Double) {
            self.championAucRoc = championAucRoc
            self.lower = lower
            self.upper = upper
        }
    }

    /// Judges a candidate. Pure: the verifier calls it again on the metrics an event recorded, so a
    /// `model.evaluated` whose verdict does not follow from its own numbers is refused.
    public func verdict(candidateAucRoc candidate: Double, champion: Comparison?) -> Verdict {
        var failures: [String] = []
        var passes: [String] = []
        func require(_ ok: Bool, _ what: String, _ value: Double, _ bound: Double) {
            let text = "\(what) \(Self.format(value)) \(ok ? ">=" : "<") \(Self.format(bound))"
            if ok { passes.append(text) } else { failures.append(text) }
        }
        require(candidate >= minAucRoc, "AUC-ROC", candidate, minAucRoc)
        if let champion {
            let difference = candidate - champion.championAucRoc
            require(
                difference >= minImprovement,
                "improvement over the champion's AUC-ROC \(Self.format(champion.championAucRoc)):",
                difference,
                minImprovement
            )
            require(champion.lower >= minLowerBound, "lower confidence bound", champion.lower, minLowerBound)
        } else {
            require(
                candidate >= firstModelMinAucRoc,
                "first model (no champion): AUC-ROC",
                candidate,
                firstModelMinAucRoc
            )
        }
        return Verdict(passed: failures.isEmpty, reasons: failures + passes)
    }

    /// Four decimals: enough to read a reason, and never the source of a verdict (that compares the doubles).
    public static func format(_ value: Double) -> String {
        let scaled = (value * 10_000).rounded()
        let sign = scaled < 0 ? "-" : ""
        let magnitude = Int(scaled.magnitude)
        let fraction = String(magnitude % 10_000)
        return "\(sign)\(magnitude / 10_000).\(String(repeating: "0", count: 4 - fraction.count))\(fraction)"
    }
}
