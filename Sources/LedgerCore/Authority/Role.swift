/// What a key may sign (DESIGN.md, "Trust and authority").
public enum Role: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Keys and policy.
    case admin
    /// Checkpoints.
    case log
    /// Runs, data, drift, training, evaluation and registration.
    case pipeline
    /// Approving or rejecting model versions.
    case approver
    /// Deploying, rolling back and retiring model versions.
    case deployer

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}
