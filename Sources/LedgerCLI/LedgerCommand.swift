public import ArgumentParser
import LedgerCore
import LedgerWorkspace

/// The `ledger` command tree.
public struct LedgerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "ModelLedger: a governed MLOps pipeline on a signed, append-only event log.",
        discussion: """
            Every action is an Ed25519-signed DSSE event in a tamper-evident log (a hash chain and an RFC 9162 Merkle tree with signed C2SP checkpoints). Commands work in a workspace made by `ledger init`, found from the current folder upward or given with --workspace.

            Exit codes: 0 success, 1 error, 2 usage, 3 verification failed.

            Example:
              ledger init ./ws --log-id example.org/fraud-models
              cd ws
              ledger append --type note.added --data '{"text":"hello"}' --key keys/admin.key
              ledger verify
            """,
        version: LedgerVersion.current,
        subcommands: [
            QuickstartCommand.self, InitCommand.self, KeysCommand.self, AppendCommand.self, LogCommand.self,
            ExportCommand.self, VerifyCommand.self, RestoreCommand.self, CheckpointCommand.self, ProveCommand.self,
            DemoCommand.self, WitnessCommand.self,
            RunCommand.self, ScheduleCommand.self, ServeCommand.self, ReportCommand.self,
            ExtractCommand.self, DatasetCommand.self,
            ModelCommand.self,
            TrainCommand.self, EvaluateCommand.self,
            PolicyCommand.self, ApproveCommand.self, RejectCommand.self, DeployCommand.self, RollbackCommand.self,
            RetireCommand.self, RegistryCommand.self, DeploymentsCommand.self, RunsCommand.self, LineageCommand.self,
            DriftCommand.self, EventsCommand.self, ProjectionsCommand.self, ReproduceCommand.self, BenchCommand.self,
            MigrateCommand.self, PublishCommand.self, MonitorCommand.self,
        ]
    )

    public init() {}

    /// Parses `arguments` (without the program name), runs the command, and maps every error to
    /// its exit code: 0 success, 1 error, 2 usage, 3 verification failed. Never throws and never
    /// traps on bad input.
    public static func run(arguments: [String]) async -> Int32 {
        let console = Console.current
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let failed as VerificationFailed {
            console.err("error: \(failed)")
            return 3
        } catch let differs as ReproductionDiffers {
            console.err("error: \(differs)")
            return 3
        } catch let error as LedgerError {
            console.err("error: \(error.reason)")
            return 1
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { console.out(message) }
                return 0
            }
            if !message.isEmpty { console.err(message) }
            if code == .validationFailure { return 2 }
            return code.rawValue
        }
    }
}
