/// An error from the Audit DB side: the demo generator, sources and feature computation.
///
/// Its ``reason`` is safe to print and to log: it names files, limits and SQLite result codes,
/// and never holds audit data (actor ids, IP addresses, session ids or any other column value).
public struct AuditError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, dotted error code such as `audit.configuration`.
    ///
    /// A struct rather than an enum so that adding a code breaks no caller's exhaustive switch.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A configuration value outside its documented range.
        public static let configuration = Self(rawValue: "audit.configuration")
        /// The output file already exists; the demo generator never replaces a file.
        public static let fileExists = Self(rawValue: "audit.fileExists")
        /// A file could not be created, synced, renamed or removed.
        public static let file = Self(rawValue: "audit.file")
        /// SQLite refused a statement.
        public static let database = Self(rawValue: "audit.database")
    }

    public let code: Code
    public let reason: String
    /// Where the error was raised, as `Module/File.swift:line`, for bug reports.
    public let location: String

    public init(_ code: Code, _ reason: String, fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(fileID):\(line)"
    }

    public var description: String { reason }

    public static func == (lhs: AuditError, rhs: AuditError) -> Bool {
        lhs.code == rhs.code && lhs.reason == rhs.reason
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(reason)
    }
}
