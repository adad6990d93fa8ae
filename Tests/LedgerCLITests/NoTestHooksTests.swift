import Foundation
import Testing

@Suite("The ledger product has no test hooks")
struct NoTestHooksTests {
    /// Whether the bytes of `needle` occur in `haystack`.
    static func contains(_ haystack: Data, _ needle: String) -> Bool {
        haystack.range(of: Data(needle.utf8)) != nil
    }

    @Test(
        "the ledger executable holds neither LEDGER_FAULTS nor a LEDGER_TEST_ variable; ledger-faults holds the first",
        .enabled(if: (ExternalTools.ledgerBinary != nil && ExternalTools.faultsBinary != nil) || ExternalTools.required)
    )
    func productReadsNoTestVariables() throws {
        let ledger = try Data(
            contentsOf: URL(fileURLWithPath: try #require(ExternalTools.ledgerBinary, "no ledger executable")),
            options: .mappedIfSafe
        )
        #expect(!Self.contains(ledger, "LEDGER_FAULTS"))
        #expect(!Self.contains(ledger, "LEDGER_TEST_"))
        // The check can see the string where it is: the test build's executable holds it.
        let faults = try Data(
            contentsOf: URL(fileURLWithPath: try #require(ExternalTools.faultsBinary, "no ledger-faults executable")),
            options: .mappedIfSafe
        )
        #expect(Self.contains(faults, "LEDGER_FAULTS"))
    }
}
