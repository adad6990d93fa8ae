import Foundation

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

    public func out(_ line: String = "") { writeOut(Array((line + "\n").utf8)) }

    public func err(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        lock.withLock {
            if errBuffer != nil {
                errBuffer?.append(contentsOf: bytes)
            } else {
                FileHandle.standardError.write(Data(bytes))
            }
        }
    }
}
