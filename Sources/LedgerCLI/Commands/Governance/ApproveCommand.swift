import ArgumentParser
import LedgerCore
import LedgerWorkspace

struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a registered version for deployment (model.approved, signed by an approver).",
        discussion: """
            The approval names the version's artifact digest, so it can never be moved to other bytes. The rules, checked before anything is written and again by `ledger verify`: the version is registered (so it passed the gate) and not retired or rejected; the key that signed its model.trained may not approve it (separation of duties); and each key decides on a version once. A deploy needs the policy's requiredApprovals distinct approvals.

            With --offline the approval is signed but not appended: the envelope goes to --out, for `ledger append --envelope FILE` or the service's POST /v1/events. It carries the log's next seq and the last entry's hash, so it must be appended before any other event; if the log moves on first, sign again.

            Examples:
              ledger approve access-anomaly@3 --key ~/keys/alice.key --reason "reviewed the holdout metrics"
              ledger approve access-anomaly@3 --key ~/keys/alice.key --reason "ok" --offline --out approval.dsse.json
            """
    )

    @Argument(help: ArgumentHelp("The version to approve, such as access-anomaly@3.", valueName: "MODEL@VERSION"))
    var version: ModelVersionReference

    @OptionGroup var reason: ReasonOption

    @Flag(help: "Sign the approval without appending it; write the envelope to --out.")
    var offline = false

    @Option(help: ArgumentHelp("With --offline: where to write the DSSE envelope.", valueName: "FILE"))
    var out: String?

    @OptionGroup var options: GovernanceOptions

    func validate() throws {
        guard offline == (out != nil) else { throw ValidationError("--offline and --out FILE go together") }
    }

    func run() async throws {
        let (session, signer) = try await options.open(role: .approver)
        guard offline, let out else {
            options.print(try await session.approve(version, reason: reason.reason, signer: signer))
            return
        }
        let approval = try await session.signApproval(version, reason: reason.reason, signer: signer)
        let event = approval.signed.event
        try Files.writeNew(approval.signed.leaf + [0x0a], to: out, mode: 0o644)
        if options.json {
            Console.current.json([
                "seq": .int(event.seq), "type": .string(event.type), "version": .string(version.description),
                "envelope": .string(out), "prev": .string(event.prev.hex),
            ])
            return
        }
        Console.current.out("signed \(event.type) for \(version) as seq \(event.seq); wrote \(out)")
        Console.current.out("append it before any other event: ledger append --envelope \(out)")
    }
}
