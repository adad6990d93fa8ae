import Foundation
import LedgerCLI
import LedgerCore
import LedgerPipeline
import LedgerTestSupport
import LedgerTesting
import LedgerWorkspace
import Testing

/// `ledger export --attestations`: an in-toto Statement v1 (SLSA Provenance v1 predicate) in a DSSE envelope per
/// registered version, checked here against the registry and the log, and by the in-toto project's own Python
/// libraries (Tests/Peers/intoto_peer.py: securesystemslib and in-toto-attestation).
@Suite("Attestations")
struct AttestationTests {
    static let peerScript = ExternalTools.repositoryRoot.appendingPathComponent("Tests/Peers/intoto_peer.py").path
    static let model = "access-anomaly@1"

    /// The Python with the in-toto peer's libraries: $LEDGER_PYTHON (or /usr/bin/python3), if it imports them.
    static var python: String? {
        let candidate = ProcessInfo.processInfo.environment["LEDGER_PYTHON"] ?? "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: candidate),
            let check = try? runProcess(
                candidate,
                ["-c", "import cryptography, rfc8785, securesystemslib, in_toto_attestation"]
            ),
            check.status == 0
        else { return nil }
        return candidate
    }

    /// A workspace whose pipeline registered access-anomaly@1 (a demo Audit DB, one `ledger run`), approved by the
    /// approver key, with its attestations exported into `DIR`; returns the export's `--json` output too.
    static func attestedWorkspace() async throws -> (workspace: TestWorkspace, folder: String, export: JSONValue) {
        let workspace = try await TestWorkspace.make()
        let audit = workspace.folder.path("audit.db")
        let demo = await ledger("demo", "audit-db", "--out", audit, "--weeks", "6", "--actors", "120")
        try #require(demo.status == 0, "\(demo.err)")
        let run = await workspace.run(
            "run",
            "--window",
            PipelineCommandTests.week4,
            "--source",
            "sqlite:\(audit)",
            "--json"
        )
        try #require(run.json?["runs"]?.arrayValue?.first?["registered"] == .string(model), "\(run.out) \(run.err)")
        let approve = await workspace.run("approve", model, "--reason", "reviewed")
        try #require(approve.status == 0, "\(approve.err)")
        let folder = workspace.folder.path("attestations")
        let export = await workspace.run("export", "--attestations", folder, "--json")
        try #require(export.status == 0, "\(export.err)")
        return (workspace, folder, try #require(export.json))
    }

    static func publicKey(_ role: String, in workspace: TestWorkspace) throws -> PublicKey {
        try PublicKey(text: try String(contentsOfFile: keyFile(role, in: workspace) + ".pub", encoding: .utf8))
    }

    static func keyFile(_ role: String, in workspace: TestWorkspace) -> String {
        URL(fileURLWithPath: workspace.root).appendingPathComponent("keys/\(role).key").path
    }

    /// A registry decision (`{"actor","reason","seq","time"}`) as the statement's byproducts annotate it.
    static func attestedDecision(_ decision: JSONValue) -> JSONValue {
        .object([
            "keyid": decision["actor"] ?? .null, "reason": decision["reason"] ?? .null,
            "seq": decision["seq"] ?? .null, "time": decision["time"] ?? .null,
        ])
    }

    /// A registry decision as the peer reports it.
    static func peerDecision(_ decision: JSONValue) -> JSONValue {
        .object(["kind": "approval", "keyid": decision["actor"] ?? .null, "seq": decision["seq"] ?? .null])
    }

    static func envelope(at path: String) throws -> Envelope {
        try Envelope(jsonBytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test(
        "each registered version's attestation: its subject, dataset and approvals are the log's, signed by the pipeline key"
    )
    func attestationMatchesTheLog() async throws {
        let (workspace, folder, export) = try await Self.attestedWorkspace()
        let pipeline = try Self.publicKey("pipeline", in: workspace)
        let entries = try #require(export["attestations"]?.arrayValue)
        try #require(entries.count == 1)
        #expect(export["keyid"] == .string(pipeline.keyID), "the pipeline key signs by default")
        let path = try #require(entries[0]["file"]?.stringValue)
        #expect(path == URL(fileURLWithPath: folder).appendingPathComponent("\(Self.model).intoto.json").path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["\(Self.model).intoto.json"])

        // The envelope: DSSE with the in-toto payload type, one signature by the pipeline key under its keyid.
        let envelope = try Self.envelope(at: path)
        #expect(envelope.payloadType == "application/vnd.in-toto+json")
        #expect(envelope.signatures.map(\.keyID) == [pipeline.keyID])
        #expect(envelope.isSigned(by: pipeline))
        #expect(!envelope.isSigned(by: try Self.publicKey("approver", in: workspace)))
        #expect(try CanonicalJSON.canonicalize(envelope.payload) == envelope.payload, "the statement is RFC 8785")

        // The statement against the registry (a projection) and the log's own events.
        let statement = try CanonicalJSON.parse(envelope.payload)
        let registry = try #require(await workspace.run("registry", Self.model, "--json").json)
        let built = try #require(await workspace.run("log", "--type", "dataset.built", "--json").json?.arrayValue)
        let artifact = try #require(registry["artifact"]?.stringValue)
        #expect(statement["_type"] == "https://in-toto.io/Statement/v1")
        #expect(statement["predicateType"] == "https://slsa.dev/provenance/v1")
        #expect(statement["subject"] == [["name": .string(Self.model), "digest": ["sha256": .string(artifact)]]])
        #expect(entries[0]["sha256"] == .string(artifact))
        let definition = statement["predicate"]?["buildDefinition"]
        #expect(definition?["buildType"] == "https://modelledger.dev/pipeline/train/v1")
        let dependencies = definition?["resolvedDependencies"]?.arrayValue ?? []
        let dataset = try #require(dependencies.first { $0["name"] == "dataset" })
        #expect(dataset["digest"]?["sha256"] == built.last?["data"]?["dataset"]?["sha256"])
        #expect(dataset["digest"]?["sha256"] == registry["dataset"]?["sha256"])
        #expect(dataset["annotations"]?["seq"] == registry["dataset"]?["seq"])
        let snapshot = try #require(dependencies.first { $0["name"] == "snapshot" })
        #expect(snapshot["digest"]?["sha256"] == built.last?["data"]?["extract"]?["snapshot"]?["sha256"])
        #expect(dependencies.first { $0["name"] == "trainer" }?["annotations"]?["version"] == "ledger-iforest/1")
        let parameters = definition?["externalParameters"]
        #expect(parameters?["parameters"] == ["trees": 100, "samples": 256, "maxFeatures": 1])
        #expect(parameters?["seed"]?.integerValue != nil)
        #expect(parameters?["policy"]?["sha256"]?.stringValue?.count == 64)
        #expect(parameters?["featureSpec"]?["version"] == 1)

        let details = statement["predicate"]?["runDetails"]
        #expect(details?["builder"]?["id"] == .string("https://modelledger.dev/ledger@\(LedgerVersion.current)"))
        #expect(details?["metadata"]?["invocationId"] == registry["run"])
        #expect(details?["metadata"]?["finishedOn"] == registry["registered"]?["time"])
        let byproducts = details?["byproducts"]?.arrayValue ?? []
        let evaluation = try #require(byproducts.first { $0["name"] == "evaluation" })
        #expect(evaluation["annotations"]?["verdict"] == "pass")
        #expect(evaluation["annotations"]?["candidate"] == registry["metrics"])
        let approvals = byproducts.filter { $0["name"] == "approval" }.compactMap { $0["annotations"] }
        let registered = (registry["approvals"]?.arrayValue ?? []).map(Self.attestedDecision)
        #expect(!approvals.isEmpty, "the approval is attested")
        #expect(approvals == registered)
        #expect(approvals.first?["keyid"] == .string(try Self.publicKey("approver", in: workspace).keyID))

        // The same log gives the same statement: exporting again rewrites the file with the same payload.
        let again = await workspace.run("export", "--attestations", folder)
        #expect(again.status == 0, "\(again.err)")
        #expect(again.out.contains("wrote 1 attestation(s)"), "\(again.out)")
        #expect(try Self.envelope(at: path).payload == envelope.payload)
    }

    @Test("--key signs with another key; plain export still writes the log; the options are checked")
    func keysAndOptions() async throws {
        let (workspace, _, _) = try await Self.attestedWorkspace()
        let approver = try Self.publicKey("approver", in: workspace)
        let other = workspace.folder.path("by-approver")
        let signed = await workspace.run(
            "export",
            "--attestations",
            other,
            "--key",
            Self.keyFile("approver", in: workspace),
            "--json"
        )
        #expect(signed.status == 0, "\(signed.err)")
        #expect(signed.json?["keyid"] == .string(approver.keyID))
        let envelope = try Self.envelope(at: other + "/\(Self.model).intoto.json")
        #expect(envelope.signatures.map(\.keyID) == [approver.keyID])
        #expect(envelope.isSigned(by: approver))

        // Without --attestations, export is the log's JSON Lines as before.
        let log = workspace.folder.path("log.jsonl")
        #expect(await workspace.run("export", "--out", log).status == 0)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == (try await workspace.size()))

        for arguments in [
            ["export", "--key", Self.keyFile("pipeline", in: workspace)], ["export", "--json"],
            ["export", "--attestations", other, "--out", log], ["export", "--attestations", ""],
        ] {
            #expect(await workspace.run(arguments).status == 2, "\(arguments)")
        }
    }

    @Test(
        "the in-toto peer (securesystemslib, in-toto-attestation) verifies every attestation and rejects broken twins",
        .enabled(if: python != nil || ExternalTools.required)
    )
    func peerVerifies() async throws {
        let python = try #require(
            Self.python,
            "python with securesystemslib and in-toto-attestation (set LEDGER_PYTHON; see Tests/Peers/requirements.txt)"
        )
        let (workspace, folder, export) = try await Self.attestedWorkspace()
        let pipelineKeyFile = Self.keyFile("pipeline", in: workspace) + ".pub"
        let approverKeyFile = Self.keyFile("approver", in: workspace) + ".pub"
        let registry = try #require(await workspace.run("registry", Self.model, "--json").json)
        let artifact = try #require(registry["artifact"]?.stringValue)
        func peer(_ path: String, key: String = pipelineKeyFile, subject: String? = nil) throws -> CLIResult {
            try runProcess(
                python,
                [Self.peerScript, "verify", path, "--public-key", key]
                    + (subject.map { ["--subject-digest", $0] } ?? [])
            )
        }

        // Every exported file verifies, and the peer reads the same subject, dataset and approvals.
        for entry in export["attestations"]?.arrayValue ?? [] {
            let path = try #require(entry["file"]?.stringValue)
            let result = try peer(path, subject: entry["sha256"]?.stringValue)
            #expect(result.status == 0, "\(result.out) \(result.err)")
            let verdict = try CanonicalJSON.parse(Array(result.out.utf8))
            #expect(verdict["ok"] == true)
            #expect(verdict["subject"] == ["name": .string(Self.model), "sha256": .string(artifact)])
            let dataset = verdict["resolvedDependencies"]?.arrayValue?.first { $0["name"] == "dataset" }
            #expect(dataset?["digest"]?["sha256"] == registry["dataset"]?["sha256"])
            let approvals = registry["approvals"]?.arrayValue ?? []
            #expect(!approvals.isEmpty)
            #expect(verdict["decisions"] == .array(approvals.map(Self.peerDecision)))
        }
        // The public key as hex works too.
        let path = URL(fileURLWithPath: folder).appendingPathComponent("\(Self.model).intoto.json").path
        let pipeline = try Self.publicKey("pipeline", in: workspace)
        #expect(try peer(path, key: Hex.encode(pipeline.rawRepresentation)).status == 0)

        // Broken twins: each must be rejected with exit 1.
        let original = try Self.envelope(at: path)
        let signer = try SigningKey(
            pemRepresentation: try String(contentsOfFile: Self.keyFile("pipeline", in: workspace), encoding: .utf8)
        )
        let statement = try CanonicalJSON.parse(original.payload)
        func replacing(_ statement: JSONValue, _ key: String, with value: JSONValue) -> JSONValue {
            var members = statement.objectValue ?? [:]
            members[key] = value
            return .object(members)
        }
        var flipped = original.payload
        flipped[flipped.count / 2] ^= 0x01
        var badSignature = original
        badSignature.signatures[0].signature[0] ^= 0x80
        let otherDigest = try #require(registry["dataset"]?["sha256"])
        let swappedSubject = try CanonicalJSON.encode(
            replacing(statement, "subject", with: [["name": .string(Self.model), "digest": ["sha256": otherDigest]]])
        )
        var rehinted = original
        rehinted.signatures[0].keyID = try Self.publicKey("approver", in: workspace).keyID
        func withPayload(_ payload: [UInt8], type: String? = nil) -> Envelope {
            Envelope(
                payloadType: type ?? original.payloadType,
                payload: payload,
                signatures: original.signatures
            )
        }
        var twins: [(name: String, envelope: Envelope, key: String)] = [
            ("a flipped payload bit", withPayload(flipped), pipelineKeyFile),
            ("a changed subject digest", withPayload(swappedSubject), pipelineKeyFile),
            ("a flipped signature bit", badSignature, pipelineKeyFile),
            ("another payload type", withPayload(original.payload, type: "application/json"), pipelineKeyFile),
            ("the wrong key", original, approverKeyFile),
            ("the wrong key under its own keyid hint", rehinted, approverKeyFile),
        ]
        // Correctly signed but wrong statements: the peer's own checks, not only the signature, must catch them.
        let wrongStatements: [(name: String, statement: JSONValue)] = [
            ("another _type", replacing(statement, "_type", with: "https://in-toto.io/Statement/v0.1")),
            ("another predicateType", replacing(statement, "predicateType", with: "https://slsa.dev/provenance/v0.2")),
            ("no subject", replacing(statement, "subject", with: [])),
            ("a predicate that is not SLSA provenance", replacing(statement, "predicate", with: ["builder": "x"])),
        ]
        var wrongPayloads = try wrongStatements.map { ($0.name, try CanonicalJSON.encode($0.statement)) }
        wrongPayloads.append(("a non-canonical payload", Array(" ".utf8) + original.payload))
        for (name, payload) in wrongPayloads {
            let envelope = try Envelope.signing(payload, payloadType: original.payloadType, with: signer)
            twins.append((name, envelope, pipelineKeyFile))
        }
        // Why the peer must refuse each twin: its own check, not some other one that happens to fail.
        let because = [
            "a flipped payload bit": "signature does not verify",
            "a changed subject digest": "signature does not verify",
            "a flipped signature bit": "signature does not verify", "another payload type": "payloadType",
            "the wrong key": "signature does not verify",
            "the wrong key under its own keyid hint": "signature does not verify",
            "another _type": "Statement v1", "another predicateType": "predicateType", "no subject": "subject",
            "a predicate that is not SLSA provenance": "SLSA Provenance v1", "a non-canonical payload": "canonical",
        ]
        for twin in twins {
            let file = workspace.folder.path("twin.json")
            try Data(twin.envelope.canonicalBytes()).write(to: URL(fileURLWithPath: file))
            let result = try peer(file, key: twin.key)
            #expect(result.status == 1, "\(twin.name): \(result.out) \(result.err)")
            let verdict = try CanonicalJSON.parse(Array(result.out.utf8))
            #expect(verdict["ok"] == false, "\(twin.name)")
            let reason = verdict["reason"]?.stringValue ?? ""
            #expect(reason.contains(because[twin.name] ?? "(no reason given)"), "\(twin.name): \(reason)")
        }
        // The control: the untouched statement re-signed with the same key verifies, so the twins fail for their
        // one change; and a subject digest the caller did not expect fails.
        let resigned = try Envelope.signing(original.payload, payloadType: original.payloadType, with: signer)
        let control = workspace.folder.path("control.json")
        try Data(resigned.canonicalBytes()).write(to: URL(fileURLWithPath: control))
        #expect(try peer(control).status == 0)
        #expect(try peer(path, subject: otherDigest.stringValue).status == 1)
        // A character changed in the file itself, inside its base64 payload text.
        var text = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(text.starts(with: Array(#"{"payload":""#.utf8)))
        let offset = 30
        text[offset] = text[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let corrupted = workspace.folder.path("corrupted.json")
        try Data(text).write(to: URL(fileURLWithPath: corrupted))
        #expect(try peer(corrupted).status == 1)
        // No verdict without a file or a key.
        #expect(try peer(workspace.folder.path("missing.json")).status == 2)
        #expect(try peer(path, key: workspace.folder.path("missing.pub")).status == 2)
    }

    @Test("export --help, word for word")
    func help() async {
        let result = await ledger("export", "--help")
        #expect(result.status == 0)
        #expect(
            result.out == """
                OVERVIEW: Write the log as JSON Lines, or an in-toto attestation of each
                registered version.

                Line i is the RFC 8785 canonical JSON of entry i's DSSE envelope, so the file
                alone is enough to recompute every leaf hash and the Merkle root, and to verify
                every signature.

                With --attestations DIR it writes instead, for each registered version,
                DIR/MODEL@VERSION.intoto.json: a DSSE envelope (payload type
                application/vnd.in-toto+json, Ed25519 over the PAE) of an in-toto Statement v1
                in RFC 8785 canonical JSON. Its subject is the model artifact's SHA-256; its
                predicate is SLSA Provenance v1 (https://slsa.dev/provenance/v1) with build
                type https://modelledger.dev/pipeline/train/v1, read from the log: the window,
                trainer parameters, seed, feature spec and policy digests as external
                parameters; the dataset, its snapshot and the trainer as resolved dependencies;
                the run as invocation; and the evaluation and every approval and rejection
                (keyid, reason, seq, time) as byproducts. The envelope's keyid is the signing
                key's keyid. By default the workspace's pipeline key signs, the key that ran
                the pipeline; --key signs with another. Files are written atomically and
                replace earlier ones.

                Example:
                  ledger export --out log.jsonl
                  ledger verify --from log.jsonl --trust <genesis hash>
                  ledger export --attestations attestations --json

                USAGE: ledger export [--workspace <DIR>] [--out <FILE>] [--attestations <DIR>] [--key <FILE>] [--json]

                OPTIONS:
                  --workspace <DIR>       The workspace folder (default: the current folder or
                                          its nearest parent with ledger.json).
                  --out <FILE>            The file to write (atomically), or - for standard
                                          output, the default.
                  --attestations <DIR>    Write one in-toto attestation per registered version
                                          into this folder instead of the log.
                  --key <FILE>            With --attestations: the signing key (default: the
                                          workspace's pipeline key, which ran the pipeline).
                  --json                  With --attestations: print
                                          {"directory","keyid","attestations":[{"model","file","sha256","approvals"}]}.
                  --version               Show the version.
                  -h, --help              Show help information.


                """
        )
    }
}
