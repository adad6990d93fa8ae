import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerWorkspace

struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "List registered model versions, or show one: status, artifact, data, metrics and decisions.",
        discussion: """
            The registry is a projection of the log: every row comes from signed events (model.registered, model.approved, model.rejected, model.deployed, model.rolledBack, model.retired) and is rebuilt from them by `ledger projections rebuild`. A status is one of pending (fewer approvals than the policy requires), approved, rejected (vetoed), deployed (serves a target) and retired.

            Examples:
              ledger registry
              ledger registry access-anomaly
              ledger registry access-anomaly@3 --json
            """
    )

    @Argument(help: ArgumentHelp("A model, or one version of it.", valueName: "MODEL[@VERSION]"))
    var model: String?

    @OptionGroup var options: QueryOptions

    func validate() throws {
        guard let model else { return }
        if model.contains("@") {
            _ = try ModelVersionReference.parse(model)
        } else if !ModelRules.isValidName(model) {
            throw ValidationError("MODEL is letters, digits, '.', '_' and '-', such as access-anomaly")
        }
    }

    func run() async throws {
        let projections = try await options.projections()
        let console = Console.current
        if let model, let reference = ModelVersionReference(model) {
            guard let entry = projections.registry[VersionKey(reference.name, reference.version)] else {
                throw LedgerError(.invalidArgument, "\(reference) is not a registered version")
            }
            if options.json { return console.json(entry.jsonValue) }
            show(entry, projections)
            return
        }
        if options.json { return console.json(projections.registryJSON(model: model)) }
        Self.printTable(projections, model: model, console: console)
    }

    /// The registry as a table: every version of `model` (or of every model), in version order.
    static func printTable(_ projections: Projections, model: String?, console: Console) {
        let entries = projections.registry.values.filter { model == nil || $0.name.hasSameBytes(as: model ?? "") }
            .sorted { VersionKey($0.name, $0.version) < VersionKey($1.name, $1.version) }
        guard !entries.isEmpty else {
            console.out(
                model.map { "\($0) has no registered version" }
                    ?? "no registered versions yet; see `ledger evaluate --help`"
            )
            return
        }
        console.table(
            ["VERSION", "STATUS", "APPROVALS", "SERVING", "AUC-ROC", "DATASET", "REGISTERED", "ARTIFACT"],
            entries.map { entry in
                [
                    entry.label, entry.status.rawValue, "\(entry.approvals.count)/\(projections.requiredApprovals)",
                    entry.serving.isEmpty ? "-" : entry.serving.joined(separator: ","), number(entry.metrics["aucRoc"]),
                    "seq \(entry.datasetSeq)", shortTime(entry.registered.time), "sha256:\(entry.artifact.prefix(12))",
                ]
            }
        )
    }

    private func show(_ entry: RegistryEntry, _ projections: Projections) {
        let console = Console.current
        console.out("\(entry.label)  \(entry.status.rawValue)")
        console.out("  artifact    sha256:\(entry.artifact)")
        console.out(
            "  trained     seq \(entry.trained.seq) \(shortTime(entry.trained.time)) by \(projections.who(entry.trained.actor)) (\(entry.algorithm))"
        )
        console.out("  dataset     seq \(entry.datasetSeq) sha256:\(entry.dataset)")
        let metrics = entry.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(Gate.format($0.value))" }
        console.out(
            "  evaluated   seq \(entry.evaluation.seq): \(metrics.joined(separator: ", "))"
                + (entry.champion.map { " (champion \($0))" } ?? " (first model)")
        )
        console.out(
            "  registered  seq \(entry.registered.seq) \(shortTime(entry.registered.time))"
                + (entry.run.map { " in run \($0)" } ?? "")
        )
        console.out("  approvals   \(entry.approvals.count) of \(projections.requiredApprovals)")
        for (label, decisions) in [("approved", entry.approvals), ("rejected", entry.rejections)] {
            for decision in decisions {
                console.out(
                    "    \(label) seq \(decision.stamp.seq) \(shortTime(decision.stamp.time)) by \(projections.who(decision.stamp.actor)): \(decision.reason ?? "")"
                )
            }
        }
        if let retired = entry.retired {
            console.out(
                "  retired     seq \(retired.stamp.seq) by \(projections.who(retired.stamp.actor))"
                    + (retired.reason.map { ": \($0)" } ?? "")
            )
        }
        if !entry.serving.isEmpty { console.out("  serving     \(entry.serving.joined(separator: ", "))") }
    }
}
