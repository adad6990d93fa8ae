import LedgerCore

/// A conformance check that failed: which check, and what it saw.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public let check: String
    public let detail: String
    public var description: String { "\(check): \(detail)" }
}

/// The assertions the conformance suites share. They throw instead of recording, so that a suite
/// runs the same under any test framework.
enum Conformance {
    static func expect(_ condition: Bool, _ check: String, _ detail: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(check: check, detail: detail()) }
    }

    /// Runs `body` and requires it to throw a `LedgerError` with `code`.
    static func expectError(
        _ code: LedgerError.Code,
        _ check: String,
        _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
        } catch let error as LedgerError where error.code == code {
            return
        } catch {
            throw ConformanceFailure(check: check, detail: "expected \(code), got \(error)")
        }
        throw ConformanceFailure(check: check, detail: "expected \(code), but the call succeeded")
    }
}
