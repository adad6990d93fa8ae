import ArgumentParser
import LedgerCore
import LedgerService
import LedgerStore
import LedgerTransparency

struct WitnessServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the witness over HTTP: POST /add-checkpoint and GET /<origin hash>/checkpoint.",
        discussion: """
            POST /add-checkpoint takes a C2SP tlog-witness request (`old <size>`, proof lines, a blank line, the checkpoint) and answers 200 with the cosignature line(s), 400 (malformed, or old size above the checkpoint's), 403 (no valid signature of a trusted log key), 404 (unknown log), 409 with the latest cosigned size (text/x.tlog.size), 422 (the consistency proof fails: a fork, a rewrite or a truncation) or 500 (the witness's state cannot be read or written, or was damaged: it refuses rather than start over). The new checkpoint is on disk before the answer is sent.

            GET /<lowercase hex SHA-256 of the origin>/checkpoint serves the latest checkpoint cosigned for that log, with the log's signature and the witness's cosignature.

            One JSON log line per request on standard output. SIGTERM or SIGINT finishes the requests in flight and exits 0. `ledger witness cosign` may run on the same folder meanwhile: a file lock serialises them.

            Example:
              ledger witness serve ./w1 --port 7380
              curl -s --data-binary @request.txt localhost:7380/add-checkpoint
            """
    )

    @OptionGroup var witness: WitnessFolderArgument

    @Option(help: ArgumentHelp("The address to listen on.", valueName: "HOST"))
    var host = "127.0.0.1"

    @Option(help: ArgumentHelp("The port to listen on; 0 picks a free one.", valueName: "PORT"))
    var port = 7380

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
    }

    func run() async throws {
        let opened = try witness.open()
        let console = Console.current
        let log = console.jsonLogger(clock: SystemClock())
        let server = WitnessServer(witness: opened, log: log)
        let name = opened.cosigner.name
        let vkey = opened.cosigner.verifierKey
        try await server.run(host: host, port: port) { bound in
            log([
                "msg": "listening", "host": .string(host), "port": .int(bound), "name": .string(name),
                "vkey": .string(vkey),
            ])
        }
        log(["msg": "stopped"])
    }
}
