import Foundation
import LedgerWorkspace

/// Where commands write. Tests swap it for a buffer with ``Console/$current``.
public final class Console: @unchecked Sendable {
    private let lock = NSLock()
    private var outBuffer: [UInt8]?
    private var errBuffer: [UInt8]?

    /// The process's standard output and error.
    public static let standard = Console(capturing: false)

    /// The console commands write to in this task.
    @TaskLocal public static var current: Console = .standard

    /// A console that keeps what is written, for tests.
    public init(capturing: Bool = true) {
        if capturing {
            outBuffer = []
            errBuffer = []
        }
    }

    public var standardOutput: String { lock.withLock { String(decoding: outBuffer ?? [], as: UTF8.self) } }
    public var standardError: String { lock.withLock { String(decoding: errBuffer ?? [], as: UTF8.self) } }

    /// Writes `bytes` to standard output as they are.
    public func writeOut(_ bytes: [UInt8]) {
        lock.withLock {
            if outBuffer != nil {
                outBuffer?.append(contentsOf: bytes)
            } else {
                FileHandle.standardOutput.write(Data(bytes))
            }
        }
    }

    /// Writes `line` and a newline to standard output, as ``printable(_:keepingLines:)`` shows it: a name or
    /// reason from the log cannot drive the terminal. `--json` output goes through ``writeOut(_:)`` untouched.
    public func out(_ line: String = "") { writeOut(Array((Self.printable(line, keepingLines: true) + "\n").utf8)) }

    public func err(_ line: String) {
        let bytes = Array((Self.printable(line, keepingLines: true) + "\n").utf8)
        lock.withLock {
            if errBuffer != nil {
                errBuffer?.append(contentsOf: bytes)
            } else {
                FileHandle.standardError.write(Data(bytes))
            }
        }
    }

    /// `text` with every control or other non-printable character (C0 and C1 controls, DEL, format characters such
    /// as bidirectional overrides and zero-width joiners, line and paragraph separators, unassigned code points)
    /// written as `\u{HEX}`, so that a name or reason read from a log cannot move the cursor, change colours or
    /// the window title, ring the bell, or reorder what a terminal shows.
    ///
    /// With `keepingLines`, `\n` and `\t` pass as they are, for text the program lays out itself; a table cell
    /// or a name on one line escapes them too.
    public static func printable(_ text: String, keepingLines: Bool = false) -> String {
        func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
            if (0x20...0x7e).contains(scalar.value) { return true }
            if keepingLines, scalar == "\n" || scalar == "\t" { return true }
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .unassigned, .surrogate: return false
            default: return true
            }
        }
        guard !text.unicodeScalars.allSatisfy(isPrintable) else { return text }
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isPrintable(scalar) {
                escaped.append(scalar)
            } else {
                escaped.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            }
        }
        return String(escaped)
    }
}
