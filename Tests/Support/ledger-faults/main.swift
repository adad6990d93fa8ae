// `ledger` for the crash and retry tests: the same command tree, with the faults of `LEDGER_FAULTS` (see
// `FaultInjection`) installed in every pipeline run it starts. Only the tests build and run it; the `ledger` product
// has no fault injection at all.
import Foundation
import LedgerCLI
import LedgerCore
import LedgerWorkspace

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let faults: FaultInjection
do {
    faults = try FaultInjection(ProcessInfo.processInfo.environment["LEDGER_FAULTS"] ?? "")
} catch {
    Console.current.err("error: \(error.reason)")
    exit(1)
}
exit(
    await PipelineHooks.$current.withValue(faults.hooks) {
        await LedgerCommand.run(arguments: Array(CommandLine.arguments.dropFirst()))
    }
)
