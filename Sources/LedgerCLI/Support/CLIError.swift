import LedgerCore

/// Verification ran and the log failed it: the CLI exits with status 3.
struct VerificationFailed: Error, CustomStringConvertible {
    let failure: VerificationFailure
    var description: String {
        failure.seq.map { "verification failed at seq \($0): \(failure.reason)" }
            ?? "verification failed: \(failure.reason)"
    }

    /// The JSON that `--json` prints for a failure, as `ledger verify --json` does.
    var jsonValue: JSONValue {
        [
            "ok": false, "code": .string(failure.code.rawValue), "reason": .string(failure.reason),
            "seq": failure.seq.map { .number(Double($0)) } ?? .null,
        ]
    }
}

extension LedgerError.Code {
    /// The current folder and its parents hold no workspace.
    static let noWorkspace = Self(rawValue: "workspace.missing")
    /// A file could not be read or written.
    static let file = Self(rawValue: "file.io")
}

/// Ends a command whose verification failed: with `json`, the failure is printed first as
/// `{"ok":false,"code","reason","seq"}` so that scripts always get a JSON answer.
func failVerification(_ failure: VerificationFailure, json: Bool) throws -> Never {
    let failed = VerificationFailed(failure: failure)
    if json { Console.current.json(failed.jsonValue) }
    throw failed
}
