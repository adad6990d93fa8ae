import FuzzDriver
import Glibc

/// The target the running fuzzer feeds: libFuzzer's callback is a C function and cannot capture it.
nonisolated(unsafe) private var selectedTarget = FuzzTarget.json

/// Hands the process to libFuzzer with `target` as the code under test, then exits with libFuzzer's status.
///
/// The command line is libFuzzer's own (`-runs=`, `-max_total_time=`, corpus folders and so on).
public func runLibFuzzer(_ target: FuzzTarget) -> Never {
    selectedTarget = target
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        selectedTarget.run(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
    exit(status)
}
