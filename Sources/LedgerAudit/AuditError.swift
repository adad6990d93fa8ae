public import LedgerCore

/// Error codes of the Audit DB side: the demo generator and the sources. Reasons name files,
/// limits and SQLite result codes, and never hold audit data (actor ids, IP addresses, session
/// ids or any other column value).
extension LedgerError.Code {
    /// A configuration value outside its documented range.
    public static let auditConfiguration = Self(rawValue: "audit.configuration")
    /// The output file already exists; the demo generator never replaces a file.
    public static let auditFileExists = Self(rawValue: "audit.fileExists")
    /// A file could not be created, synced, renamed or removed.
    public static let auditFile = Self(rawValue: "audit.file")
    /// SQLite refused a statement.
    public static let auditDatabase = Self(rawValue: "audit.database")
}
