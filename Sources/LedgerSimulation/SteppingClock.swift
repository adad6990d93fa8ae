public import LedgerCore
import Synchronization

/// A clock that starts at a fixed instant and advances by `step` on every read.
public final class SteppingClock: LedgerClock {
    private let current: Mutex<Int64>
    private let step: Int64

    public init(start: Timestamp = Timestamp(millisecondsSinceEpoch: 1_772_528_400_000), stepMilliseconds: Int64 = 1000)
    {
        current = Mutex(start.millisecondsSinceEpoch)
        step = stepMilliseconds
    }

    public func now() -> Timestamp {
        current.withLock { value in
            defer { value += step }
            return Timestamp(millisecondsSinceEpoch: value)
        }
    }
}
