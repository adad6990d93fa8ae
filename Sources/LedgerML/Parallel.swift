import Dispatch

/// Splits `0..<count` into at most `threads` contiguous chunks and runs `body` on each.
///
/// With `threads <= 1` (or a single chunk) `body` runs on the calling thread and nothing is spawned.
/// Otherwise the chunks run through `DispatchQueue.concurrentPerform`. The chunk boundaries depend
/// on `threads`, so callers MUST make each element's result independent of its chunk, and chunks
/// MUST write to disjoint memory.
enum Parallel {
    static func forEachChunk(count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        let chunks = max(1, min(threads, count))
        if chunks == 1 {
            body(0..<count)
            return
        }
        // concurrentPerform returns only after every iteration has finished, so `body` never outlives
        // this call; callers give each chunk disjoint memory to write.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            body(chunkRange(chunk, of: chunks, count: count))
        }
    }

    /// The `chunk`-th of `chunks` near-equal contiguous ranges covering `0..<count`.
    static func chunkRange(_ chunk: Int, of chunks: Int, count: Int) -> Range<Int> {
        let base = count / chunks
        let extra = count % chunks
        let start = chunk * base + min(chunk, extra)
        return start..<(start + base + (chunk < extra ? 1 : 0))
    }
}
