public import LedgerCore

/// Verification ran and the log failed it: the CLI exits with status 3.
public struct VerificationFailed: Error, CustomStringConvertible {
    public let failure: VerificationFailure

    public init(failure: VerificationFailure) { self.failure = failure }

    public var description: String {
        failure.seq.map { "verification failed at seq \($0): \(failure.reason)" }
            ?? "verification failed: \(failure.reason)"
    }

    /// The JSON that `--json` prints for a failure, as `ledger verify --json` does.
    public var jsonValue: JSONValue {
        [
            "ok": false, "code": .string(failure.code.rawValue), "reason": .string(failure.reason),
            "seq": failure.seq.map { .number(Double($0)) } ?? .null,
        ]
    }
}
