/// The error every LedgerML operation throws.
///
/// `code` is stable and meant for scripts and tests; `reason` is one human sentence that names the
/// line, column, parameter or byte offset at fault. Neither ever contains more of the caller's data
/// than the single offending cell, so the error is safe to print and log.
///
/// The codes are:
/// - `ml.input`: data that cannot be used as given (CSV syntax, non-finite values, mismatched
///   lengths, a single class where two are needed, a column layout that differs from the model's).
/// - `ml.parameters`: a training or metric parameter outside its documented range.
/// - `ml.model`: bytes that are not a valid serialized model of a supported version.
public struct MLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Bad data: see the type's documentation.
    public static let inputCode = "ml.input"
    /// A parameter out of range: see the type's documentation.
    public static let parametersCode = "ml.parameters"
    /// A malformed or unsupported model artifact: see the type's documentation.
    public static let modelCode = "ml.model"

    /// A stable, dotted error code: `ml.input`, `ml.parameters` or `ml.model`.
    public let code: String
    /// One human sentence saying what is wrong.
    public let reason: String
    /// Where the error was raised, as `Module/File.swift:line`, for bug reports.
    public let location: String

    public init(code: String, reason: String, fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.location = "\(fileID):\(line)"
    }

    public var description: String { "\(code): \(reason)" }

    public static func == (lhs: MLError, rhs: MLError) -> Bool {
        lhs.code == rhs.code && lhs.reason == rhs.reason
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(reason)
    }

    static func input(_ reason: String, fileID: String = #fileID, line: Int = #line) -> MLError {
        MLError(code: inputCode, reason: reason, fileID: fileID, line: line)
    }

    static func parameters(_ reason: String, fileID: String = #fileID, line: Int = #line) -> MLError {
        MLError(code: parametersCode, reason: reason, fileID: fileID, line: line)
    }

    static func model(_ reason: String, fileID: String = #fileID, line: Int = #line) -> MLError {
        MLError(code: modelCode, reason: reason, fileID: fileID, line: line)
    }
}
