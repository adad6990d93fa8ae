import Dispatch
import Foundation

/// Data-parallel helpers for pure, per-element work (parsing, hashing, signature checks).
package enum ParallelMap {
    /// The number of threads to use: the machine's active processors.
    /// Read once: on Linux it reads cgroup files, which is not free on every call.
    package static let defaultConcurrency = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Maps `body` over `0..<count` on up to `concurrency` threads in contiguous chunks, while one
    /// thread first runs `alongside` (if given) and then joins in. Results keep their order.
    package static func map<T: Sendable>(
        _ count: Int,
        concurrency: Int = defaultConcurrency,
        alongside: (@Sendable () -> Void)? = nil,
        _ body: @Sendable (Int) -> T
    ) -> [T] {
        let concurrency = min(concurrency, 256)
        guard concurrency > 1, count > 64 else {
            alongside?()
            return (0..<count).map(body)
        }
        var results = [T?](repeating: nil, count: count)
        let chunks = min(count, concurrency * 16)
        results.withUnsafeMutableBufferPointer { buffer in
            // Each chunk writes a disjoint range of the buffer, and concurrentPerform returns only
            // after every iteration finished, so sharing the base pointer is race-free.
            guard let base = buffer.baseAddress.map(UnsafeSendablePointer.init) else { return }
            let offset = alongside == nil ? 0 : 1
            DispatchQueue.concurrentPerform(iterations: chunks + offset) { iteration in
                if iteration < offset {
                    alongside?()
                    return
                }
                let chunk = iteration - offset
                let start = count * chunk / chunks
                let end = count * (chunk + 1) / chunks
                for index in start..<end { (base.pointer + index).pointee = body(index) }
            }
        }
        return results.compactMap { $0 }
    }
}

/// A pointer handed to worker threads that write disjoint elements (see ``ParallelMap``).
private struct UnsafeSendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
}
