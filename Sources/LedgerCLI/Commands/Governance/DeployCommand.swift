import ArgumentParser
import LedgerCore
import LedgerWorkspace

struct DeployCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Make an approved version serve a target (model.deployed, signed by a deployer).",
        discussion: """
            The version must have the policy's requiredApprovals distinct approvals, and must not be retired or rejected. `ledger serve --target NAME` loads what the target's latest deployment or rollback names.

            Example:
              ledger deploy access-anomaly@3 --target production --key ~/keys/dana.key
            """
    )

    @Argument(help: ArgumentHelp("The version to deploy, such as access-anomaly@3.", valueName: "MODEL@VERSION"))
    var version: ModelVersionReference

    @OptionGroup var target: TargetOption
    @OptionGroup var options: GovernanceOptions

    func run() async throws {
        let (session, signer) = try await options.open(role: .deployer)
        let target = target.resolve(in: session.workspace)
        options.print(try await session.deploy(version, target: target, signer: signer))
    }
}
