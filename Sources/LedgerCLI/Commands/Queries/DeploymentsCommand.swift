import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerWorkspace

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
        Self.printTable(projections, targets: targets, console: console)
    }

    /// Every stretch of service of `targets`, one row each.
    static func printTable(_ projections: Projections, targets: [String], console: Console) {
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
