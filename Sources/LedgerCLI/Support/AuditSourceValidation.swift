import ArgumentParser
import LedgerAudit
import LedgerCore
import LedgerWorkspace

extension AuditSourceOption {
    /// Checks a `--source` value: the `ValidationError` names what is wrong, never a password.
    static func validate(_ text: String) throws(ValidationError) -> AuditSourceLocation {
        guard hasKnownScheme(text) else {
            throw ValidationError("--source must be sqlite:PATH or \(postgresShape), such as sqlite:/data/audit.db")
        }
        do {
            return try AuditSourceLocation(parsing: text)
        } catch {
            throw ValidationError("--source: \(error.reason)")
        }
    }
}
