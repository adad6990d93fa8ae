import ArgumentParser
import LedgerArtifacts
import LedgerCore
import LedgerML
import LedgerPipeline
import LedgerStore
import LedgerWorkspace

struct DriftMeasureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure",
        abstract: "Compare a new dataset with the champion's training data, and record drift.measured.",
        discussion: """
            The reference is the training rows of the dataset the champion was trained on; the current data is the training rows of --dataset (a dataset.built dataset, usually the latest window's). For each feature it computes PSI over 10 quantile bins of the reference, the two-sample Kolmogorov-Smirnov statistic with its p-value, and the Wasserstein-1 distance; then the same for the champion's anomaly scores on both (docs/drift.md gives the exact definitions). The verdict is significant when any PSI reaches --significant, moderate when any reaches --moderate, else stable; the thresholds default to ledger.json's "model": {"drift": {"moderate": 0.1, "significant": 0.25}}, the usual PSI conventions. The champion is the version serving the workspace's target, unless --champion names one. Signed by the pipeline key.

            Example:
              ledger drift measure --dataset sha256:4be1... --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("The current dataset's digest, as dataset.built recorded it.", valueName: "sha256:HEX"))
    var dataset: String

    @Option(
        help: ArgumentHelp(
            "Compare with this version's training data instead of the deployed one.",
            valueName: "MODEL@VERSION"
        )
    )
    var champion: ModelVersionReference?

    @Option(
        help: ArgumentHelp(
            "PSI at which drift is moderate (default: ledger.json's model.drift, else 0.1).",
            valueName: "PSI"
        )
    )
    var moderate: Double?

    @Option(
        help: ArgumentHelp(
            "PSI at which drift is significant (default: ledger.json's model.drift, else 0.25).",
            valueName: "PSI"
        )
    )
    var significant: Double?

    @Option(help: ArgumentHelp("The signing key (default: the workspace's pipeline key).", valueName: "FILE"))
    var key: String?

    @OptionGroup var threading: ThreadsOption

    @Flag(help: "Print {\"seq\",\"verdict\",\"features\",\"scores\"} as JSON.")
    var json = false

    func validate() throws {
        guard ArtifactDigest(dataset) != nil else {
            throw ValidationError("--dataset must be a digest such as sha256:4be1… (64 lowercase hex digits)")
        }
        for value in [moderate, significant].compactMap({ $0 }) where !(0...100).contains(value) {
            throw ValidationError("a PSI threshold is 0 to 100, not \(value)")
        }
        if let moderate, let significant, moderate > significant {
            throw ValidationError("--moderate must not be above --significant")
        }
    }

    func run() async throws {
        let session = try await workspace.open()
        let workspace = session.workspace
        guard let digest = ArtifactDigest(dataset) else { return }
        let steps = try session.modelSteps(key: key, threads: threading.threads)
        let state = await steps.ledger.state
        let version: ModelRules.Version
        if let champion {
            let reference = champion
            guard let registered = state.models.version(reference.name, reference.version) else {
                throw LedgerError(.invalidArgument, "\(champion) is not a registered version")
            }
            version = registered
        } else {
            guard let serving = state.models.targets[workspace.model.target]?.current,
                let deployed = state.models.version(serving.name, serving.version)
            else {
                throw LedgerError(
                    .invalidArgument,
                    "nothing serves \(workspace.model.target), so there is no reference; deploy a version or pass --champion"
                )
            }
            version = deployed
        }
        let measured = try await steps.measureDrift(
            current: digest,
            against: version,
            thresholds: DriftThresholds(
                moderate: moderate ?? workspace.model.drift.moderate,
                significant: significant ?? workspace.model.drift.significant
            )
        )
        DriftReport(comparison: measured.comparison).show(json: json, extra: ["seq": .int(measured.seq)])
        if !json { Console.current.out("appended seq \(measured.seq) \(EventType.driftMeasured)") }
    }
}

/// Prints a drift comparison as a table or JSON; shared by `drift measure` and `drift check`.
struct DriftReport {
    let comparison: DriftComparison

    func show(json: Bool, extra: [String: JSONValue] = [:]) {
        let console = Console.current
        let champion = comparison.champion
        func object(_ statistics: DriftStatistics.Comparison) -> [String: JSONValue] {
            [
                "psi": .number(statistics.psi), "ks": .number(statistics.ks), "ksPValue": .number(statistics.ksPValue),
                "wasserstein": .number(statistics.wasserstein),
            ]
        }
        if json {
            let report: [String: JSONValue] = [
                "verdict": .string(comparison.verdict), "reference": .string("\(champion.name)@\(champion.version)"),
                "features": .array(
                    comparison.features.map {
                        .object(object($0.statistics).merging(["name": .string($0.name)]) { $1 })
                    }
                ),
                "scores": .object(object(comparison.scores)),
            ]
            return console.json(.object(report.merging(extra) { $1 }))
        }
        console.out("against the training data of \(champion.name)@\(champion.version):")
        let rows = comparison.features.map { ($0.name, $0.statistics) } + [("(anomaly scores)", comparison.scores)]
        console.table(
            ["FEATURE", "PSI", "KS", "KS P", "WASSERSTEIN"],
            rows.map { name, statistics in
                [
                    name, Gate.format(statistics.psi), Gate.format(statistics.ks), Gate.format(statistics.ksPValue),
                    Gate.format(statistics.wasserstein),
                ]
            }
        )
        console.out("verdict: \(comparison.verdict)")
    }
}
