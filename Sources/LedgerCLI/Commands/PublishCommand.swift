import ArgumentParser
import LedgerCore
import LedgerTransparency
import LedgerWorkspace

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Write the log into a folder as C2SP tlog-tiles, for any static web server to serve.",
        discussion: """
            Publishes the latest checkpoint the log keeps (make one with `ledger checkpoint`) and the tree it signs, as https://c2sp.org/tlog-tiles lays it out:
              checkpoint                   the signed checkpoint (C2SP tlog-checkpoint), written last
              tile/<L>/<N>[.p/<W>]         hash tiles: 256 Merkle tree hashes of level L, 8 KiB when full
              tile/entries/<N>[.p/<W>]     entry bundles: 256 leaves, exactly as `ledger export` writes them, each
                                           prefixed with its length (big-endian uint16)
            <N> is the tile's index in 3-digit groups (1234067 is x001/x234/067); .p/<W> marks a partial tile of W. A partial tile is kept for every size that was checkpointed.

            Publishing again is incremental: only tiles beyond the folder's checkpoint are written, and a tile that exists is never rewritten. One that differs from the log's means the log forked from what was published: publish refuses and writes nothing. It also refuses a log that holds a leaf over 65,535 bytes, naming its seq, since no entry bundle can hold it.

            Serve the folder as the log's prefix with any static file server, for example:
              cd DIR && python3 -m http.server 8080
            Clients fetch http://HOST:8080/checkpoint, then the tiles they need; serve the checkpoint with a short cache lifetime and the tiles as immutable. `ledger serve` serves the same paths from the log itself.

            Example:
              ledger checkpoint
              ledger publish --out ./public-log
              ledger publish --out ./public-log --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("The folder to publish into (created if missing).", valueName: "DIR"))
    var out: String

    @Flag(
        help: """
            Print {"out","logId","size","root","previousSize","tilesWritten","bundlesWritten","bytesWritten",\
            "skipped","checkpointWritten"} as JSON.
            """
    )
    var json = false

    func validate() throws {
        guard !out.isEmpty else { throw ValidationError("--out needs a folder") }
    }

    func run() async throws {
        let console = Console.current
        let session = try await workspace.open(readingOnly: true)
        let reporter = ProgressReporter(console: console)
        let result = try await session.publish(to: out) { reporter.report($0, of: $1) }
        if json {
            console.json(result.json)
            return
        }
        let publication = result.publication
        let since = publication.previousSize.map { " (was \($0))" } ?? ""
        console.out(
            "published \(result.logID) at size \(publication.size)\(since) to \(out): "
                + "\(publication.tilesWritten) tiles and \(publication.bundlesWritten) entry bundles written "
                + "(\(publication.bytesWritten) bytes), \(publication.skipped) already there"
                + (publication.checkpointWritten ? "" : "; the checkpoint was already published")
        )
    }
}
