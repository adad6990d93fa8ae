import ArgumentParser
import LedgerCore
import LedgerWorkspace

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Put a target back on a version that served it before (model.rolledBack, signed by a deployer).",
        discussion: """
            Without --to, the target goes back to the version that served it before the current one (skipping any retired or rejected since). Only a version that was approved and deployed to this target before may be rolled back to.

            Example:
              ledger rollback access-anomaly --target production --key ~/keys/dana.key --reason "alert volume doubled"
              ledger rollback access-anomaly --target production --to 2
            """
    )

    @Argument(help: ArgumentHelp("The model whose deployment to roll back.", valueName: "MODEL"))
    var model: String

    @OptionGroup var target: TargetOption

    @Option(help: ArgumentHelp("The version to go back to (default: the previous one).", valueName: "VERSION"))
    var to: Int?

    @OptionGroup var reason: OptionalReasonOption
    @OptionGroup var options: GovernanceOptions

    func validate() throws {
        guard ModelRules.isValidName(model) else {
            throw ValidationError("MODEL is letters, digits, '.', '_' and '-', such as access-anomaly")
        }
        if let to, to < 1 { throw ValidationError("--to must be a version number, 1 or more") }
    }

    func run() async throws {
        let (session, signer) = try await options.open(role: .deployer)
        let outcome = try await session.rollback(
            model: model,
            target: target.resolve(in: session.workspace),
            to: to,
            reason: reason.reason,
            signer: signer
        )
        options.print(outcome)
    }
}
