import ArgumentParser
import LedgerCore
import LedgerWorkspace

struct RetireCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retire",
        abstract: "Withdraw a version for good (model.retired, signed by a deployer).",
        discussion: """
            A retired version can never be deployed or rolled back to again. A version that serves a target cannot be retired: deploy or roll back to another version first.

            Example:
              ledger retire access-anomaly@1 --key ~/keys/dana.key --reason "superseded by @3"
            """
    )

    @Argument(help: ArgumentHelp("The version to retire, such as access-anomaly@1.", valueName: "MODEL@VERSION"))
    var version: ModelVersionReference

    @OptionGroup var reason: OptionalReasonOption
    @OptionGroup var options: GovernanceOptions

    func run() async throws {
        let (session, signer) = try await options.open(role: .deployer)
        options.print(try await session.retire(version, reason: reason.reason, signer: signer))
    }
}
