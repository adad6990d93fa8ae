import Foundation
public import LedgerCore

/// The wall clock, truncated to milliseconds.
public struct SystemClock: LedgerClock {
    public init() {}

    public func now() -> Timestamp {
        Timestamp(millisecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}
