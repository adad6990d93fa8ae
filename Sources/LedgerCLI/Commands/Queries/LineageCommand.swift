import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerWorkspace

struct LineageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage",
        abstract: "Trace a version from the data extract to its approvals and deployments.",
        discussion: """
            Walks the lineage graph: upstream from model.registered through model.evaluated, model.trained and dataset.built to data.extracted, and downstream to every approval, rejection, deployment, rollback and retirement of the version. Each line is one signed event; `ledger prove SEQ` proves it is in the log.

            Example:
              ledger lineage access-anomaly@3
              ledger lineage access-anomaly@3 --json
            """
    )

    @Argument(help: ArgumentHelp("The version to trace.", valueName: "MODEL@VERSION"))
    var version: String

    @OptionGroup var options: QueryOptions

    func validate() throws { _ = try ModelVersionReference.parse(version) }

    func run() async throws {
        let reference = try ModelVersionReference.parse(version)
        let projections = try await options.projections()
        guard let nodes = projections.lineage(of: VersionKey(reference.name, reference.version)) else {
            throw LedgerError(.invalidArgument, "\(reference) is not a registered version")
        }
        let console = Console.current
        if options.json, let json = projections.lineageJSON(reference.name, reference.version) {
            return console.json(json)
        }
        console.table(
            ["SEQ", "EVENT", "TIME", "BY", "FROM", "DIGEST", "DETAIL"],
            nodes.map { node in
                [
                    "\(node.stamp.seq)", node.type, shortTime(node.stamp.time), projections.who(node.stamp.actor),
                    node.inputs.isEmpty ? "-" : node.inputs.map { "\($0)" }.joined(separator: ","),
                    node.sha256.map { "sha256:\($0.prefix(12))" } ?? "-",
                    node.detail.sorted { $0.key < $1.key }.compactMap { key, value in
                        key == "metrics"
                            ? value["aucRoc"]?.doubleValue.map { "aucRoc \(Gate.format($0))" }
                            : "\(key) \(value.displayText)"
                    }.joined(separator: ", "),
                ]
            }
        )
    }
}

extension JSONValue {
    /// A short, human form: strings without quotes, objects as canonical JSON.
    var displayText: String {
        if let string = stringValue { return string }
        return (try? CanonicalJSON.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
