/// When an ``S3ArtifactStore`` repeats a failed request, and how long it waits first.
///
/// A request is repeated after a connection failure or timeout, HTTP 429, 500, 502, 503 or 504, and the S3
/// codes `SlowDown`, `RequestTimeout` and `InternalError`; never after any other answer, so a refused signature
/// or a denied access fails at once. Every request the store makes is idempotent, so a repeat is safe.
///
/// The pause before attempt `n + 1` is `initialDelay × 2^(n−1)`, capped at `maximumDelay`, then scaled by a
/// random factor between ½ and 1 (jitter, so that clients that failed together do not retry together).
public struct S3RetryPolicy: Sendable, Hashable {
    /// Attempts per request, the first included. At least 1.
    public var maximumAttempts: Int
    /// The pause after the first failed attempt, before jitter.
    public var initialDelay: Duration
    /// The longest pause, before jitter.
    public var maximumDelay: Duration

    /// A policy; `maximumAttempts` below 1 counts as 1.
    public init(
        maximumAttempts: Int = 4,
        initialDelay: Duration = .milliseconds(200),
        maximumDelay: Duration = .seconds(5)
    ) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// Four attempts, pausing about 0.2 s, 0.4 s and 0.8 s.
    public static let standard = S3RetryPolicy()

    /// One attempt: nothing is repeated.
    public static let never = S3RetryPolicy(maximumAttempts: 1)

    /// The pause before the attempt after `attempt` (counted from 1), or `nil` if `attempt` was the last.
    ///
    /// - Parameter jitter: a number in `0..<1`, random in use; 0 gives half the capped delay.
    public func delay(afterAttempt attempt: Int, jitter: Double) -> Duration? {
        guard attempt >= 1, attempt < maximumAttempts else { return nil }
        var delay = initialDelay
        for _ in 1..<attempt where delay < maximumDelay { delay *= 2 }
        return min(delay, maximumDelay) * (0.5 + 0.5 * min(max(jitter, 0), 1))
    }

    /// Whether an S3 answer with `status` and error `code` (from its XML body, if any) is worth repeating.
    public static func isRetryable(status: Int, code: String?) -> Bool {
        [429, 500, 502, 503, 504].contains(status) || ["SlowDown", "RequestTimeout", "InternalError"].contains(code)
    }
}
