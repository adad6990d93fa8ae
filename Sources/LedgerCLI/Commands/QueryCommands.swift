import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerWorkspace

/// The options every projection query shares.
struct QueryOptions: ParsableArguments {
    @OptionGroup var workspace: WorkspaceOptions

    @Flag(help: "Print stable JSON instead of a table.")
    var json = false

    /// The projections, caught up with the log.
    func projections() async throws -> Projections {
        try await workspace.open().projections()
    }
}

/// `2026-03-03T10:15:00.000Z` → `2026-03-03 10:15:00`.
private func shortTime(_ time: Timestamp) -> String {
    String(time.rfc3339.prefix(19).map { $0 == "T" ? " " : $0 })
}

private func number(_ value: Double?) -> String { value.map { Gate.format($0) } ?? "-" }

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
        let entries = projections.registry.values.filter { model == nil || $0.name == model }
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

struct DeploymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployments",
        abstract: "Show which version served each target, when, and who put it there.",
        discussion: """
            Without --at: every stretch of service, per target, from the model.deployed or model.rolledBack that started it to the event that ended it. With --at TIME: the version that served each target at that instant, with the seqs of the two events that prove it (`ledger prove SEQ` gives their inclusion proofs). A stretch serves from its start time, inclusive, to its end time, exclusive. TIME is UTC: 2026-03-03T09:30:00Z, 2026-03-03T09:30:00.000Z, or 2026-03-03 (midnight).

            Examples:
              ledger deployments --target production
              ledger deployments --target production --at 2026-03-03T12:00:00Z --json
            """
    )

    @Option(help: ArgumentHelp("Only this target.", valueName: "NAME"))
    var target: String?

    @Option(help: ArgumentHelp("The instant to ask about, in UTC.", valueName: "TIME"))
    var at: String?

    @OptionGroup var options: QueryOptions

    func validate() throws {
        if let at, Timestamp(userInput: at) == nil {
            throw ValidationError("--at is not a UTC time such as 2026-03-03T12:00:00Z or a date such as 2026-03-03")
        }
    }

    func run() async throws {
        let projections = try await options.projections()
        let console = Console.current
        // Targets are identities from signed bytes: matched by bytes, as the read tables match them.
        let targets = projections.deployments.keys.sorted().filter {
            target == nil || $0.hasSameBytes(as: target ?? "")
        }
        if let target, projections.deployments[target] == nil, !options.json {
            console.out("nothing was ever deployed to \(target)")
            return
        }
        if let at, let time = Timestamp(userInput: at) {
            if options.json { return console.json(projections.deploymentsJSON(target: target, at: time)) }
            let answers = targets.map { name -> (String, DeploymentRecord?) in
                (name, projections.deployments[name]?.last { $0.served(at: time) })
            }
            for (name, record) in answers {
                guard let record else {
                    console.out("\(name): nothing served at \(time.rfc3339)")
                    continue
                }
                let until = record.until.map { "until seq \($0.seq) at \(shortTime($0.time))" } ?? "still serving"
                console.out(
                    "\(name): \(record.label) served at \(time.rfc3339): from seq \(record.from.seq) (\(record.kind.rawValue) at \(shortTime(record.from.time)) by \(projections.who(record.from.actor))), \(until)"
                )
            }
            return
        }
        if options.json { return console.json(projections.deploymentsJSON(target: target)) }
        let records = targets.flatMap { projections.deployments[$0] ?? [] }
        guard !records.isEmpty else { return console.out("nothing deployed yet; see `ledger deploy --help`") }
        console.table(
            ["TARGET", "VERSION", "HOW", "FROM", "UNTIL", "BY"],
            records.map { record in
                [
                    record.target, record.label, record.kind.rawValue,
                    "seq \(record.from.seq) \(shortTime(record.from.time))",
                    record.until.map { "seq \($0.seq) \(shortTime($0.time))" } ?? "now",
                    projections.who(record.from.actor),
                ]
            }
        )
    }
}

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List pipeline runs, or show one run's steps, attempts and durations.",
        discussion: """
            A run starts with run.started and ends with run.completed or run.failed. Its steps (extract, dataset, drift, train, evaluate, register) are the events that name the run; step.failed records each failed attempt. A step's duration runs from the run's previous event to the step's own.

            Examples:
              ledger runs
              ledger runs access-anomaly/2026-03-02 --json
            """
    )

    @Argument(help: ArgumentHelp("One run's id.", valueName: "RUN"))
    var run: String?

    @OptionGroup var options: QueryOptions

    func run() async throws {
        let projections = try await options.projections()
        let console = Console.current
        if let run {
            guard let record = projections.runs[run] else {
                throw LedgerError(.invalidArgument, "no run \(run) in the log")
            }
            if options.json { return console.json(record.jsonValue) }
            console.out(
                "\(record.run)  \(record.status.rawValue)  trigger \(record.trigger)  window \(record.windowFrom.rfc3339)..\(record.windowTo.rfc3339)"
            )
            console.out("started seq \(record.started.seq) \(shortTime(record.started.time)), \(record.durationMs) ms")
            console.table(
                ["STEP", "STATUS", "ATTEMPTS", "SEQ", "MS", "LAST ERROR"],
                record.steps.map { step in
                    [
                        step.name, step.status.rawValue, "\(step.attempts)", step.seq.map { "\($0)" } ?? "-",
                        "\(step.durationMs)", step.error?["message"]?.stringValue ?? "",
                    ]
                }
            )
            return
        }
        if options.json { return console.json(projections.runsJSON()) }
        let records = projections.runs.values.sorted { $0.started.seq < $1.started.seq }
        guard !records.isEmpty else { return console.out("no pipeline runs yet") }
        console.table(
            ["RUN", "TRIGGER", "STATUS", "STEPS", "STARTED", "MS"],
            records.map { record in
                [
                    record.run, record.trigger, record.status.rawValue,
                    "\(record.steps.filter { $0.status == .completed }.count)/\(record.steps.count)",
                    shortTime(record.started.time), "\(record.durationMs)",
                ]
            }
        )
    }
}

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

struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Measure drift, or show the drift history (the default).",
        discussion: """
            Examples:
              ledger drift --last 5
              ledger drift measure --dataset sha256:4be1...
            """,
        subcommands: [DriftHistoryCommand.self, DriftMeasureCommand.self, DriftCheckCommand.self],
        defaultSubcommand: DriftHistoryCommand.self
    )
}

struct DriftHistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the drift history: per-feature PSI, KS and Wasserstein, and the verdict of each measurement.",
        discussion: """
            Each row is one drift.measured event: the pipeline compares the new window's dataset with the deployed model's training set. PSI below 0.1 is usually read as stable, 0.1 to 0.25 as moderate, and above 0.25 as significant; the thresholds in force are recorded in each event.

            Examples:
              ledger drift --last 5
              ledger drift --feature failed_logins_1h --json
            """
    )

    @Option(help: ArgumentHelp("Only this feature.", valueName: "F"))
    var feature: String?

    @Option(help: ArgumentHelp("Only the last N measurements.", valueName: "N"))
    var last: Int?

    @OptionGroup var options: QueryOptions

    func validate() throws {
        if let last, last < 1 { throw ValidationError("--last must be at least 1") }
    }

    func run() async throws {
        let projections = try await options.projections()
        let records = projections.driftRecords(feature: feature, last: last)
        let console = Console.current
        if options.json { return console.json(projections.driftJSON(feature: feature, last: last)) }
        guard !records.isEmpty else {
            return console.out(
                feature.map { "no drift measured for feature \($0)" }
                    ?? "no drift measured yet; `ledger run` measures it"
            )
        }
        console.table(
            ["SEQ", "MEASURED", "VERDICT", "FEATURE", "PSI", "KS", "KS P", "WASSERSTEIN"],
            records.flatMap { record in
                var rows = record.features.map { name, statistics in
                    [
                        "\(record.measured.seq)", shortTime(record.measured.time), record.verdict, name,
                        number(statistics.psi), number(statistics.ks), number(statistics.ksPValue),
                        number(statistics.wasserstein),
                    ]
                }
                if feature == nil, let scores = record.scores {
                    rows.append([
                        "\(record.measured.seq)", shortTime(record.measured.time), record.verdict,
                        "(scores of \(record.scoresModel ?? "?"))", number(scores.psi), number(scores.ks),
                        number(scores.ksPValue), number(scores.wasserstein),
                    ])
                }
                return rows
            }
        )
    }
}
