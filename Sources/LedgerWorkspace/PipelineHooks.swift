public import LedgerCore
public import LedgerPipeline

/// What runs around the steps of every pipeline run that the command tree starts (`ledger run`, `schedule` and
/// `drift check`): nothing, in the `ledger` product.
///
/// The test build's `ledger-faults` executable binds ``current`` around the same command tree to kill, fail or slow
/// chosen steps for the crash and retry tests. The product never binds it and reads no environment for it, so a
/// shipped `ledger` cannot be made to inject a fault.
public struct PipelineHooks: Sendable {
    /// Called before each attempt of a step with the attempt's number (from 1); what it throws is that attempt's
    /// failure (see ``PipelineRunner/beforeAttempt``).
    public var beforeAttempt: (@Sendable (RunStep, Int) async throws(LedgerError) -> Void)?
    /// Called with an event's type just before a step appends it (see ``PipelineSteps/willAppend``).
    public var willAppend: (@Sendable (String) async -> Void)?
    /// Called just after a step's event is appended (see ``PipelineRunner/afterStep``).
    public var afterStep: (@Sendable (RunStep) async -> Void)?

    public init(
        beforeAttempt: (@Sendable (RunStep, Int) async throws(LedgerError) -> Void)? = nil,
        willAppend: (@Sendable (String) async -> Void)? = nil,
        afterStep: (@Sendable (RunStep) async -> Void)? = nil
    ) {
        self.beforeAttempt = beforeAttempt
        self.willAppend = willAppend
        self.afterStep = afterStep
    }

    /// The hooks of the current task and the tasks it starts: none, unless a caller runs the command tree inside
    /// `PipelineHooks.$current.withValue(hooks) { ... }`.
    @TaskLocal public static var current = PipelineHooks()
}
