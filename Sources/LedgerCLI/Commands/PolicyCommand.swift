import ArgumentParser
import LedgerCore
import LedgerStore
import LedgerWorkspace

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Show or replace the governance policy.",
        discussion: """
            Example:
              ledger policy show
              ledger policy set policy.json
            """,
        subcommands: [PolicyShowCommand.self, PolicySetCommand.self]
    )
}

struct PolicyShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the policy in force, with its digest.",
        discussion: """
            Example:
              ledger policy show --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Flag(help: "Print {\"policy\",\"sha256\"} as JSON.")
    var json = false

    func run() async throws {
        let ledger = try await workspace.open().ledger
        let policy = await ledger.state.policy
        PolicySetCommand.print(policy, json: json, seq: nil)
    }
}

struct PolicySetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Replace the governance policy with the one in FILE (appends policy.set, signed by admin).",
        discussion: """
            FILE is JSON: {"requiredApprovals": N, "gate": {...}}. The gate judges a candidate's AUC-ROC on its holdout:

              minAucRoc            every candidate must reach it (default 0.6)
              firstModelMinAucRoc  a candidate with no champion deployed must reach it (default 0.7)
              minImprovement       candidate - champion must reach it (default 0)
              minLowerBound        the lower bound of the bootstrap interval of that difference must reach it (default -0.02)

            requiredApprovals (1 to 100) is the number of distinct approvers a version needs before it is deployed. A gate member left out takes its default; the event records the policy as given, and `ledger evaluate` records the SHA-256 of the policy with every member spelled out.

            Example:
              echo '{"requiredApprovals":2,"gate":{"minAucRoc":0.8,"minImprovement":0.005}}' > policy.json
              ledger policy set policy.json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: ArgumentHelp("The policy as JSON.", valueName: "FILE"))
    var file: String

    @Option(help: ArgumentHelp("The signing key (default: the workspace's admin key).", valueName: "FILE"))
    var key: String?

    @Flag(help: "Print {\"seq\",\"policy\",\"sha256\"} as JSON.")
    var json = false

    func run() async throws {
        let session = try await workspace.open()
        let text = try Files.read(file, .policy)
        let given: JSONValue
        do {
            given = try CanonicalJSON.parse(text)
        } catch {
            throw LedgerError(.invalidArgument, "\(file) is not valid JSON: \(error)")
        }
        let signer = try session.signer(key, role: .admin)
        let (policy, appended) = try await session.setPolicy(given, signer: signer)
        Self.print(policy, json: json, seq: appended?.event.seq)
    }

    static func print(_ policy: Policy, json: Bool, seq: UInt64?) {
        let console = Console.current
        if json {
            var result: [String: JSONValue] = ["policy": policy.jsonValue, "sha256": .string(policy.digest.hex)]
            if let seq { result["seq"] = .int(seq) }
            console.json(.object(result))
            return
        }
        if let seq { console.out("appended seq \(seq) \(EventType.policySet)") }
        let gate = policy.gate
        console.out("policy sha256:\(policy.digest.hex)")
        console.out("  requiredApprovals    \(policy.requiredApprovals)")
        console.out("  minAucRoc            \(gate.minAucRoc)")
        console.out("  firstModelMinAucRoc  \(gate.firstModelMinAucRoc)")
        console.out("  minImprovement       \(gate.minImprovement)")
        console.out("  minLowerBound        \(gate.minLowerBound)")
    }
}
