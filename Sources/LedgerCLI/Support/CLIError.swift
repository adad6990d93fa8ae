import LedgerCore

/// Verification ran and the log failed it: the CLI exits with status 3.
struct VerificationFailed: Error, CustomStringConvertible {
    let failure: VerificationFailure
    var description: String { "verification failed at \(failure)" }
}

extension LedgerError.Code {
    /// The current folder and its parents hold no workspace.
    static let noWorkspace = Self(rawValue: "workspace.missing")
    /// A file could not be read or written.
    static let file = Self(rawValue: "file.io")
}
