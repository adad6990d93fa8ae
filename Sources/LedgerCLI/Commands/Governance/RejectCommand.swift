import ArgumentParser
import LedgerCore
import LedgerWorkspace

struct RejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Veto a registered version (model.rejected, signed by an approver).",
        discussion: """
            A rejection is a veto: the version can no longer be approved, deployed or rolled back to. A version that serves a target keeps serving until a deployer replaces it. Each key decides on a version once.

            Example:
              ledger reject access-anomaly@4 --key ~/keys/bob.key --reason "precision@k fell on the fraud segment"
            """
    )

    @Argument(help: ArgumentHelp("The version to reject, such as access-anomaly@4.", valueName: "MODEL@VERSION"))
    var version: ModelVersionReference

    @OptionGroup var reason: ReasonOption
    @OptionGroup var options: GovernanceOptions

    func run() async throws {
        let (session, signer) = try await options.open(role: .approver)
        options.print(try await session.reject(version, reason: reason.reason, signer: signer))
    }
}
