import ArgumentParser
import LedgerCore
import LedgerStore
import LedgerTransparency
import LedgerWorkspace

struct WitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Run a transparency-log witness (C2SP tlog-witness): cosign a log's checkpoints only if consistent.",
        discussion: """
            A witness keeps, for every log it trusts, the latest checkpoint it cosigned, and cosigns a new one only if the log's key signed it and a consistency proof shows it extends that one. So a log that shows one history to some and another to others, or rewrites or truncates its past, is refused by every witness that saw the first. A witness needs no workspace: just a folder with its key (mode 0600), witness.json and one file per log. See docs/witness.md.

            Example (the witness's operator):
              ledger witness init ./w1 --name witness.example/w1 --log "$(ledger keys vkey)"
              ledger witness vkey ./w1          # give this to the log's operator
              ledger witness serve ./w1 --port 7380

            Example (the log's operator):
              ledger checkpoint --witness http://127.0.0.1:7380=witness.example/w1+1a2b3c4d+BAAA…
            """,
        subcommands: [
            WitnessInitCommand.self, WitnessAddLogCommand.self, WitnessVkeyCommand.self, WitnessCosignCommand.self,
            WitnessServeCommand.self,
        ]
    )
}

/// The folder argument every witness subcommand takes.
struct WitnessFolderArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The witness's folder (made by `ledger witness init`).", valueName: "DIR"))
    var folder: String

    var witnessFolder: WitnessFolder { WitnessFolder(path: folder) }

    /// The witness, with its private key and the system clock.
    func open() throws(LedgerError) -> Witness {
        let folder = witnessFolder
        _ = try folder.configuration()
        let key = try KeyFiles.loadPrivateKey(folder.keyPath)
        return try Witness(folder: folder, key: key, clock: SystemClock())
    }
}

/// `--log VKEY`: a log's C2SP verifier key, checked in `validate()`.
func parseLogVerifierKeys(_ keys: [String]) throws -> [NoteVerifier] {
    var verifiers: [NoteVerifier] = []
    for key in keys {
        do {
            verifiers.append(try NoteVerifier(verifierKey: key))
        } catch {
            throw ValidationError(
                "--log \(key) is not a log's verifier key (<origin>+<key id>+<base64 of 0x01 and the key>, as `ledger keys vkey` prints it): \(error.reason)"
            )
        }
    }
    return verifiers
}
