/// The governance policy in force, set at genesis and replaced by `policy.set`.
public struct Policy: Sendable, Hashable {
    /// Distinct approvals a model version needs before it may be deployed.
    public var requiredApprovals: Int
    /// The evaluation gate; its members are defined by the train/evaluate issue.
    public var gate: JSONValue

    public init(requiredApprovals: Int = 1, gate: JSONValue = .object([:])) {
        self.requiredApprovals = requiredApprovals
        self.gate = gate
    }

    /// Reads a policy that already matched ``EventCatalog``'s shape.
    init(validated json: JSONValue) {
        self.init(
            requiredApprovals: Int(json["requiredApprovals"]?.integerValue ?? 1),
            gate: json["gate"] ?? .object([:])
        )
    }

    public var jsonValue: JSONValue {
        .object(["requiredApprovals": .number(Double(requiredApprovals)), "gate": gate])
    }
}
