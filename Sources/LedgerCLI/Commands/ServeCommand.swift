import ArgumentParser
import Foundation
import LedgerArtifacts
import LedgerCore
import LedgerService
import LedgerStore
import LedgerWorkspace

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the deployed model over HTTP, with the ledger's read API and signed-event submission.",
        discussion: """
            Loads the model deployed to --target (default: ledger.json's model.target) and scores with it: POST /v1/score takes {"rows": [{"<feature>": number, …}]} or {"events": [<audit events>]}, whose features come from the code that builds training datasets. Each answer names the version and artifact digest that scored it, the score of each row, and whether it reaches the threshold (the score that flags the model's alert budget of its own training rows).

            Before it switches to a newly deployed or rolled-back version (seen within --poll seconds, or at once when the deployment came through POST /v1/events) it verifies the whole log against the trust anchor (signatures, approvals, every rule) and the artifact's digest. A version that fails is refused, logged and counted in /metrics, and the old one keeps serving. The switch is atomic: a request is scored by one version from start to end.

            Read API: /v1/registry[/{model}[/{version}]], /v1/deployments?target=&at=, /v1/runs[/{id}], /v1/lineage/{model}/{version}, /v1/drift, /v1/events?after=&limit=, /v1/checkpoint (signed by the workspace's log key), /v1/proof/inclusion?seq=&size=, /v1/proof/consistency?from=&to=. POST /v1/events appends a DSSE envelope signed elsewhere (an offline approval, say): 201 with its seq, 409 if the log moved past its seq, 400 or 403 if refused. The server holds no human's key. /healthz, /readyz (ready once a verified model serves) and /metrics (Prometheus). docs/openapi.json describes it all. SIGTERM or SIGINT finishes the requests in flight and exits 0.

            Example:
              ledger serve --port 8080
              curl -s localhost:8080/v1/score -d '{"rows":[{"event_count":3, …}]}'
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("The address to listen on.", valueName: "HOST"))
    var host = "127.0.0.1"

    @Option(help: ArgumentHelp("The port to listen on; 0 picks a free one.", valueName: "PORT"))
    var port = 8080

    @Option(help: ArgumentHelp("The deployment target to serve (default: model.target).", valueName: "TARGET"))
    var target: String?

    @Option(help: ArgumentHelp("Seconds between looks at the log for new deployments.", valueName: "SECONDS"))
    var poll = 2.0

    @Option(help: ArgumentHelp("The largest request body accepted, in bytes.", valueName: "BYTES"))
    var maxBody = 8 << 20

    @Option(
        help: ArgumentHelp(
            "Seconds a connection has to send complete request headers (from connecting, or from a later request's first byte) before it is closed.",
            valueName: "SECONDS"
        )
    )
    var headerTimeout = 10.0

    @Option(
        help: ArgumentHelp(
            "Seconds a kept-alive connection may wait between requests before it is closed.",
            valueName: "SECONDS"
        )
    )
    var idleTimeout = 60.0

    @Option(
        help: ArgumentHelp(
            "The most connections open at once; one more is answered 503 and closed.",
            valueName: "COUNT"
        )
    )
    var maxConnections = 512

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard poll >= 0.05, poll <= 3600 else { throw ValidationError("--poll must be 0.05 to 3600 seconds") }
        guard (1024...(1 << 30)).contains(maxBody) else { throw ValidationError("--max-body must be 1 KiB to 1 GiB") }
        guard headerTimeout >= 0.1, headerTimeout <= 3600 else {
            throw ValidationError("--header-timeout must be 0.1 to 3600 seconds")
        }
        guard idleTimeout >= 0.1, idleTimeout <= 86400 else {
            throw ValidationError("--idle-timeout must be 0.1 to 86400 seconds")
        }
        guard (1...1_000_000).contains(maxConnections) else {
            throw ValidationError("--max-connections must be 1 to 1000000")
        }
    }

    func run() async throws {
        let inputs = try await workspace.locate().serviceInputs()
        let target = target ?? inputs.defaultTarget
        let console = Console.current
        let clock = SystemClock()
        let log = console.jsonLogger(clock: clock)
        let server = try await LedgerServer.start(
            store: inputs.store,
            artifacts: inputs.artifacts,
            trustedGenesis: inputs.trustedGenesis,
            headRecord: inputs.headRecord,
            logKey: inputs.logKey,
            configuration: ServiceConfiguration(
                target: target,
                pollInterval: .milliseconds(Int64(poll * 1000)),
                maxBodyBytes: maxBody,
                connections: ConnectionLimits(
                    headerTimeout: .milliseconds(Int64(headerTimeout * 1000)),
                    idleTimeout: .milliseconds(Int64(idleTimeout * 1000)),
                    maxConnections: maxConnections
                )
            ),
            clock: clock,
            log: log
        )
        try await server.run(host: host, port: port) { bound in
            log([
                "msg": "listening", "host": .string(host), "port": .int(bound), "target": .string(target),
                "model": server.model.map { .string("\($0.name)@\($0.version)") } ?? .null,
            ])
        }
        log(["msg": "stopped"])
    }
}
