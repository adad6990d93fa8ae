import ArgumentParser
import Foundation
import LedgerArtifacts
import LedgerCore
import LedgerPipeline
import LedgerStore
import LedgerWorkspace

struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Judge a trained model against the champion; register it if the gate passes.",
        discussion: """
            Scores the candidate and the champion on the same rows: the labelled holdout rows of the candidate's dataset. The champion is the version that serves the workspace's target (ledger.json's "model" section, "production" by default; see `ledger deployments`), or the registered version given with --champion. With neither, the candidate is judged as a first model. Computes AUC-ROC, average precision, precision@k and recall at k (k = the alert budget of ledger.json's "model" section times the rows, rounded up), and a seeded, paired bootstrap interval of the AUC-ROC difference.

            The policy's gate (see `ledger policy set --help`) gives the verdict. model.evaluated records the metrics, the interval, the policy digest, the verdict and its reasons, whatever the verdict. If it passes, model.registered follows in the same append as the next version of the workspace's model name.

            Example:
              ledger evaluate --model sha256:9c1f... --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(
        help: ArgumentHelp("The candidate's artifact digest, as model.trained recorded it.", valueName: "sha256:HEX")
    )
    var model: String

    @Option(
        help: ArgumentHelp(
            "Compare with this registered version instead of the deployed one.",
            valueName: "MODEL@VERSION"
        )
    )
    var champion: ModelVersionReference?

    @OptionGroup var threading: ThreadsOption

    @Option(help: ArgumentHelp("The signing key (default: the workspace's pipeline key).", valueName: "FILE"))
    var key: String?

    @Flag(help: "Print {\"seq\",\"verdict\",\"reasons\",\"registered\"} as JSON.")
    var json = false

    func validate() throws {
        guard ArtifactDigest(model) != nil else {
            throw ValidationError("--model must be a digest such as sha256:9c1f… (64 lowercase hex digits)")
        }
    }

    func run() async throws {
        let session = try await workspace.open()
        let workspace = session.workspace
        guard let digest = ArtifactDigest(model) else { return }
        let steps = try session.modelSteps(key: key, threads: threading.threads)
        let state = await steps.ledger.state
        var championVersion: ModelRules.Version?
        if let reference = champion {
            guard let version = state.models.version(reference.name, reference.version) else {
                throw LedgerError(.invalidArgument, "\(reference) is not a registered version")
            }
            championVersion = version
        } else if let serving = state.models.targets[workspace.model.target]?.current {
            championVersion = state.models.version(serving.name, serving.version)
        }
        let evaluated = try await steps.evaluate(
            model: digest,
            champion: championVersion,
            settings: workspace.model.evaluation,
            registerAs: workspace.model.name
        )
        let verdict = evaluated.judgement.verdict
        let registered = evaluated.registered.map { "\($0.name)@\($0.version)" }
        if json {
            Console.current.json([
                "seq": .int(evaluated.seq), "verdict": verdict.passed ? "pass" : "fail",
                "reasons": .array(verdict.reasons.map(JSONValue.string)),
                "registered": registered.map(JSONValue.string) ?? .null,
            ])
            return
        }
        let console = Console.current
        let candidate = evaluated.judgement.candidate
        console.out(
            "candidate: AUC-ROC \(Gate.format(candidate.aucRoc)), average precision "
                + "\(Gate.format(candidate.averagePrecision)), precision@\(evaluated.judgement.k) "
                + "\(Gate.format(candidate.precisionAtK)), recall@\(evaluated.judgement.k) \(Gate.format(candidate.recallAtBudget))"
        )
        if let champion = evaluated.judgement.champion, let difference = evaluated.judgement.difference,
            let version = championVersion
        {
            console.out("champion \(version.name)@\(version.version): AUC-ROC \(Gate.format(champion.aucRoc))")
            console.out(
                "difference \(Gate.format(difference.aucRoc)), interval [\(Gate.format(difference.lower)), "
                    + "\(Gate.format(difference.upper))]"
            )
        }
        console.out("verdict: \(verdict.passed ? "pass" : "fail")")
        for reason in verdict.reasons { console.out("  \(reason)") }
        console.out("appended seq \(evaluated.seq) \(EventType.modelEvaluated)")
        if let registered, let seq = evaluated.registered?.seq {
            console.out("appended seq \(seq) \(EventType.modelRegistered): \(registered)")
        } else if let version = evaluated.alreadyRegistered {
            console.out("not registered again: this model is already \(version.name)@\(version.version)")
        }
    }
}
