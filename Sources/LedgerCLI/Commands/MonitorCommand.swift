import ArgumentParser
import Foundation
import LedgerCore
import LedgerTransparency
import LedgerWorkspace

struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Follow a published log: check every new checkpoint and entry, and raise alarms.",
        discussion: """
            Reads a log published as C2SP tlog-tiles (`ledger publish`, or `ledger serve`), from a URL prefix or a folder. On each poll it:
              - reads the checkpoint and checks its tiles against its root;
              - checks that the new tree contains the last checkpoint it accepted (kept in --state);
              - reads every entry from the entry bundles and replays the log with the same verifier as `ledger verify`, anchored at the trusted genesis, including the checkpoint's signature by a log key in force at its size;
              - with --policy, counts the checkpoint only when the witnesses' quorum cosigned it.
            It prints JSON Lines: {"kind":"checkpoint",…} for each accepted checkpoint, {"kind":"event",…} for keys added or revoked, policy changes, approvals, deployments, rollbacks and retirements, and {"kind":"alarm","alarm":…} for a fork, a truncation, a bad checkpoint, an unknown key, a broken rule or a checkpoint without quorum. After an alarm the state is not advanced, so the alarm repeats until someone looks.

            With --once it polls once and exits 3 on any alarm (for cron and CI); otherwise it polls every --interval seconds until stopped.

            Each poll that finds new entries replays the log from seq 0: its time and memory grow with the log.

            Example:
              ledger monitor http://ledger.example:8080 --trust 3f1c…e9 --policy witnesses.policy --state monitor.json --once
              ledger monitor ./public-log --trust "$(jq -r .genesis ledger.json)" --interval 60
            """
    )

    @Argument(help: ArgumentHelp("The published log: an http(s) URL prefix or a folder.", valueName: "URL|DIR"))
    var location: String

    @Option(help: ArgumentHelp("The genesis leaf hash the log must start with (64 hex).", valueName: "GENESIS"))
    var trust: String

    @Option(
        help: ArgumentHelp(
            "A C2SP tlog-policy file: the witnesses and the quorum a checkpoint needs.",
            valueName: "FILE"
        )
    )
    var policy: String?

    @Option(help: ArgumentHelp("Where to keep the last accepted checkpoint between runs (JSON).", valueName: "FILE"))
    var state: String?

    @Flag(help: "Poll once; exit 3 on any alarm.")
    var once = false

    @Option(help: "Seconds between polls without --once.")
    var interval: Int = 30

    func validate() throws {
        guard Hash256(hex: trust) != nil else { throw ValidationError("--trust must be 64 hex characters") }
        guard interval >= 1 else { throw ValidationError("--interval must be at least 1 second") }
    }

    func run() async throws {
        let console = Console.current
        guard let genesis = Hash256(hex: trust) else { throw ValidationError("--trust must be 64 hex characters") }
        let witnessPolicy = try policy.map { path throws(LedgerError) in
            try WitnessPolicy(bytes: try Files.read(path, .policy))
        }
        let monitor = Monitor(trustedGenesis: genesis, policy: witnessPolicy)
        let source = Monitoring.source(location)
        var accepted: MonitorState?
        while true {
            let poll = try await Monitoring.pollOnce(
                monitor: monitor,
                source: source,
                statePath: state,
                state: &accepted
            )
            for finding in poll.findings { console.json(finding.jsonValue) }
            if once {
                if poll.hasAlarm { throw ExitCode(3) }
                return
            }
            try await Task.sleep(for: .seconds(interval))
        }
    }
}
