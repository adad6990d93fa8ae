import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerWorkspace

/// The options every governance command shares: the workspace, the signing key and `--json`.
struct GovernanceOptions: ParsableArguments {
    @OptionGroup var workspace: WorkspaceOptions
    @OptionGroup var signing: SigningKeyOption

    @Flag(help: "Print the appended event's {\"seq\",\"type\",\"version\",\"status\",...} as JSON.")
    var json = false

    /// Opens the workspace once and loads the signing key: `--key`, or the workspace's key for `role`.
    func open(role: Role) async throws -> (WorkspaceSession, SigningKey) {
        let session = try await workspace.open()
        return (session, try session.signer(signing.key, role: role))
    }

    /// Prints what a decision did: the appended seq and the version's status afterwards.
    func print(_ outcome: GovernanceOutcome) {
        let console = Console.current
        let event = outcome.event
        if json {
            var object: [String: JSONValue] = [
                "seq": .int(event.seq), "type": .string(event.type), "version": .string(outcome.version.description),
            ]
            if let entry = outcome.entry {
                object["status"] = .string(entry.status.rawValue)
                object["approvals"] = .int(entry.approvals.count)
                object["requiredApprovals"] = .int(outcome.requiredApprovals)
                object["serving"] = .array(entry.serving.map(JSONValue.string))
            }
            console.json(.object(object))
            return
        }
        console.out("appended seq \(event.seq) \(event.type): \(outcome.version)")
        if let entry = outcome.entry {
            let serving = entry.serving.isEmpty ? "" : ", serving \(entry.serving.joined(separator: ", "))"
            console.out(
                "\(outcome.version) is \(entry.status.rawValue): \(entry.approvals.count) of "
                    + "\(outcome.requiredApprovals) approvals\(serving)"
            )
        }
    }
}
