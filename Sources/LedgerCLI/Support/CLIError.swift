import LedgerCore
import LedgerWorkspace

/// Ends a command whose verification failed: with `json`, the failure is printed first as
/// `{"ok":false,"code","reason","seq"}` so that scripts always get a JSON answer.
func failVerification(_ failure: VerificationFailure, json: Bool) throws -> Never {
    let failed = VerificationFailed(failure: failure)
    if json { Console.current.json(failed.jsonValue) }
    throw failed
}
