import ArgumentParser
import Foundation
import LedgerCore
import LedgerPipeline
import LedgerSQLite
import LedgerStore
import LedgerWorkspace

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List the log's events.",
        discussion: """
            Shows what the store holds; run `ledger verify` to prove it was not altered.

            Example:
              ledger log --type key.added --json
              ledger log --after 100 --limit 20
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("Only events of this type.", valueName: "TYPE"))
    var type: String?

    @Option(help: ArgumentHelp("Only events after this seq.", valueName: "SEQ"))
    var after: UInt64?

    @Option(help: ArgumentHelp("At most this many events.", valueName: "N"))
    var limit: Int?

    @Flag(help: "Print the events as a JSON array.")
    var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let type, EventType(bytes: type) == nil {
            throw ValidationError(
                "unknown event type \"\(type)\" (known: \(EventType.allCases.map(\.rawValue).sorted().joined(separator: ", ")))"
            )
        }
        if let after, after >= UInt64(Int64.max) { throw ValidationError("--after is beyond any log") }
    }

    func run() async throws {
        let ledger = try await workspace.open(readingOnly: true).ledger
        let store = ledger.store
        let keyring = await ledger.state.keyring
        let wanted = type.flatMap(EventType.init(bytes:))
        let start = after.map { $0 + 1 } ?? 0
        var selected: [SignedEvent] = []
        var cursor = start
        let size = try await store.size()
        // Read in pages so that a filtered listing of a large log stays bounded in memory.
        while cursor < size, selected.count < limit ?? Int.max {
            let page = try await store.entries(in: cursor..<min(size, cursor + 4096))
            for entry in page {
                // The type from the signed bytes: the store's type column is an unchecked index.
                let signed = try SignedEvent(leaf: entry.leaf)
                if let wanted, !signed.event.is(wanted) { continue }
                selected.append(signed)
                if selected.count == limit { break }
            }
            cursor += 4096
        }
        let console = Console.current
        if json {
            console.json(.array(selected.map(entryJSON)))
            return
        }
        for signed in selected {
            let event = signed.event
            let data = (try? CanonicalJSON.encode(event.data)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let shown = data.count > 100 ? data.prefix(97) + "..." : Substring(data)
            let signer = keyring[event.actor]?.name ?? String(event.actor.prefix(12))
            let type = Console.printable(event.type)
            console.out("\(event.seq)  \(event.time)  \(type)  \(Console.printable(signer))  \(shown)")
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the log as JSON Lines, or an in-toto attestation of each registered version.",
        discussion: """
            Line i is the RFC 8785 canonical JSON of entry i's DSSE envelope, so the file alone is enough to recompute every leaf hash and the Merkle root, and to verify every signature.

            With --attestations DIR it writes instead, for each registered version, DIR/MODEL@VERSION.intoto.json: a DSSE envelope (payload type application/vnd.in-toto+json, Ed25519 over the PAE) of an in-toto Statement v1 in RFC 8785 canonical JSON. Its subject is the model artifact's SHA-256; its predicate is SLSA Provenance v1 (https://slsa.dev/provenance/v1) with build type https://modelledger.dev/pipeline/train/v1, read from the log: the window, trainer parameters, seed, feature spec and policy digests as external parameters; the dataset, its snapshot and the trainer as resolved dependencies; the run as invocation; and the evaluation and every approval and rejection (keyid, reason, seq, time) as byproducts. The envelope's keyid is the signing key's keyid. By default the workspace's pipeline key signs, the key that ran the pipeline; --key signs with another. Files are written atomically and replace earlier ones.

            Example:
              ledger export --out log.jsonl
              ledger verify --from log.jsonl --trust <genesis hash>
              ledger export --attestations attestations --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(
        help: ArgumentHelp(
            "The file to write (atomically), or - for standard output, the default.",
            valueName: "FILE"
        )
    )
    var out: String?

    @Option(
        help: ArgumentHelp(
            "Write one in-toto attestation per registered version into this folder instead of the log.",
            valueName: "DIR"
        )
    )
    var attestations: String?

    @Option(
        help: ArgumentHelp(
            "With --attestations: the signing key (default: the workspace's pipeline key, which ran the pipeline).",
            valueName: "FILE"
        )
    )
    var key: String?

    @Flag(
        help:
            "With --attestations: print {\"directory\",\"keyid\",\"attestations\":[{\"model\",\"file\",\"sha256\",\"approvals\"}]}."
    )
    var json = false

    func validate() throws {
        if attestations == nil {
            if key != nil { throw ValidationError("--key signs attestations: use it with --attestations DIR") }
            if json { throw ValidationError("--json describes attestations: use it with --attestations DIR") }
        } else if out != nil {
            throw ValidationError("--out writes the log and --attestations writes attestations: choose one")
        }
        if attestations?.isEmpty == true { throw ValidationError("--attestations needs a folder") }
    }

    func run() async throws {
        if let attestations {
            try await exportAttestations(to: attestations)
            return
        }
        let (entries, bytes) = try await workspace.locate().exportedLog()
        // `-` is standard output, as `@-` is standard input for --data.
        if let out, out != "-" {
            try Files.writeAtomically(bytes, to: out)
            Console.current.err("exported \(entries) entries to \(out)")
        } else {
            Console.current.writeOut(bytes)
        }
    }

    private func exportAttestations(to folder: String) async throws {
        let session = try await workspace.open(readingOnly: true)
        let workspace = session.workspace
        let signer = try KeyFiles.loadPrivateKey(try key ?? workspace.keyFile(for: .pipeline))
        let ledger = session.ledger
        // Sign nothing about a log that does not verify: a row written around the rules must not be attested.
        let size = try await ledger.store.size()
        let report = Verifier(trustedGenesis: workspace.genesis, concurrency: 2).verify(
            leaves: try await ledger.store.leaves(upTo: size)
        )
        if let failure = report.failure { throw VerificationFailed(failure: failure) }
        let state = report.state
        let versions = state.models.versions.keys.sorted().flatMap { state.models.versions[$0] ?? [] }
        let provenances = try await VersionProvenance.read(versions, from: ledger.store)
        try Files.createDirectory(folder)
        var written: [JSONValue] = []
        let console = Console.current
        for provenance in provenances {
            let version = provenance.version
            let envelope = try Attestation.envelope(
                of: provenance,
                builderVersion: LedgerVersion.current,
                signedBy: signer
            )
            let path = URL(fileURLWithPath: folder).appendingPathComponent(Attestation.fileName(of: version)).path
            try Files.writeAtomically(envelope.canonicalBytes() + [0x0a], to: path)
            let label = "\(version.name)@\(version.version)"
            written.append([
                "model": .string(label), "file": .string(path), "sha256": .string(version.artifact.hex),
                "approvals": .int(version.approvals.count),
            ])
            if !json {
                console.out(
                    "\(label)  sha256:\(version.artifact.hex.prefix(12))…  \(version.approvals.count) approval(s)  → \(path)"
                )
            }
        }
        let signerName = state.keyring[signer.keyID]?.name ?? "a key outside the log's keyring"
        if json {
            console.json([
                "directory": .string(folder), "keyid": .string(signer.keyID), "attestations": .array(written),
            ])
        } else {
            console.out(
                provenances.isEmpty
                    ? "no registered versions: nothing to attest"
                    : "wrote \(provenances.count) attestation(s) to \(folder), signed by \(signerName) "
                        + "(keyid \(signer.keyID))"
            )
        }
    }
}
