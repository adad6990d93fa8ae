import LedgerCLI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(await LedgerCommand.run(arguments: Array(CommandLine.arguments.dropFirst())))
