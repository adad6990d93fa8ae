/// The version `ledger --version` prints and the pipeline records as its code version.
public enum LedgerVersion {
    public static let current = "0.1.0"
}
