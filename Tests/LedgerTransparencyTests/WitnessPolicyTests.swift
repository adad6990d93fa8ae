import Foundation
import LedgerCore
import LedgerTesting
import LedgerTransparency
import Testing

/// Deterministic logs, witnesses, checkpoints and cosignatures for the policy, cosignature and tlog-proof tests.
enum PolicyKit {
    static let origin = "example.com/witnessed-log"

    static func logSigner(_ name: String = origin, key: String = "policy-log") throws -> NoteSigner {
        try NoteSigner(name: name, privateKey: TestKeys.key(key).cryptoKey)
    }

    /// A witness whose cosigner name is `<label>.witness.example` and whose key is derived from `label`.
    static func witness(_ label: String) throws -> CosignatureSigner {
        try CosignatureSigner(name: "\(label).witness.example", privateKey: TestKeys.key("witness-" + label).cryptoKey)
    }

    /// A checkpoint of `leaves` leaves whose leaf i is the bytes of "leaf i", signed by the log.
    static func checkpoint(size: Int = 10, signer: NoteSigner? = nil) throws -> (note: SignedNote, leaves: [Hash256]) {
        let leaves = (0..<size).map { MerkleTree.leafHash(Array("leaf \($0)".utf8)) }
        let body = Checkpoint(origin: origin, size: UInt64(size), root: MerkleTree.root(of: leaves))
        var note = SignedNote(text: body.text, signatures: [])
        try note.addSignature(by: signer ?? logSigner())
        return (note, leaves)
    }

    /// `note` with a cosignature by each of `witnesses`, at 1_700_000_000 + position.
    static func cosigned(_ note: SignedNote, by witnesses: [CosignatureSigner]) throws -> SignedNote {
        var note = note
        for (position, witness) in witnesses.enumerated() {
            note.signatures.append(
                try witness.cosign(checkpointText: note.text, timestamp: 1_700_000_000 + UInt64(position))
            )
        }
        return note
    }

    /// A fixture's bytes.
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil))
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The spec's example policy with its `<vkey>` placeholders replaced, line by line, by the log's key and by the
    /// keys of witnesses X1...Y3.
    static func specExamplePolicy() throws -> String {
        var lines: [String] = []
        for line in try fixture("tlog-policy-example.txt").split(separator: "\n", omittingEmptySubsequences: false) {
            let items = line.split(separator: " ")
            if items.first == "log" {
                lines.append("log " + (try logSigner().verifier.verifierKey))
            } else if items.first == "witness" {
                lines.append("witness \(items[1]) " + (try witness(String(items[1])).verifier.verifierKey))
            } else {
                lines.append(String(line))
            }
        }
        return lines.joined(separator: "\n")
    }
}

@Suite struct WitnessPolicyTests {
    // MARK: Parsing

    /// The example of C2SP tlog-policy ("Example policy"), with real keys for its elided `<vkey>`s.
    @Test func parsesTheSpecExample() throws {
        let policy = try WitnessPolicy(text: PolicyKit.specExamplePolicy())
        #expect(policy.logs.count == 1)
        #expect(policy.logs[0].verifier.name == PolicyKit.origin)
        #expect(policy.witnesses.map(\.name) == ["X1", "X2", "X3", "Y1", "Y2", "Y3"])
        #expect(policy.groups.map(\.name) == ["X-witnesses", "Y-witnesses", "X-and-Y"])
        #expect(policy.groups.map(\.threshold) == [2, 1, 2])
        #expect(policy.groups[0].members == [.witness(0), .witness(1), .witness(2)])
        #expect(policy.groups[2].members == [.group(0), .group(1)])
        #expect(policy.quorum == .group(2))
        #expect(policy.quorumWitnesses.count == 6)
        #expect(policy.witnesses[0].verifier == (try PolicyKit.witness("X1").verifier))
    }

    /// The example as printed, with `<vkey>` placeholders, is refused: a placeholder is not a key.
    @Test func refusesTheSpecExampleWithPlaceholders() throws {
        let error = try #require(throws: LedgerError.self) {
            try WitnessPolicy(text: PolicyKit.fixture("tlog-policy-example.txt"))
        }
        #expect(error.code == .witnessPolicy)
        #expect(error.reason.contains("line 1"))
    }

    @Test func acceptsTabsSpacesCommentsAndURLs() throws {
        let log = try PolicyKit.logSigner().verifier.verifierKey
        let w1 = try PolicyKit.witness("a").verifier.verifierKey
        let w2 = try PolicyKit.witness("b").verifier.verifierKey
        let text = """
            # a comment
            \t  # an indented comment
            \tlog \t\(log)   https://log.example/
              witness\tA \(w1) https://a.example/witness/  \t
            witness B \(w2)

            group  both\tall A B
            quorum both
            """
        let policy = try WitnessPolicy(text: text)  // no final newline
        #expect(policy.logs[0].url == "https://log.example/")
        #expect(policy.witnesses.map(\.url) == ["https://a.example/witness/", nil])
        #expect(policy.groups[0].threshold == 2)
        #expect(try WitnessPolicy(text: text + "\n") == policy)
    }

    @Test func quorumNoneNeedsNoWitness() throws {
        let policy = try WitnessPolicy(text: "log \(try PolicyKit.logSigner().verifier.verifierKey)\nquorum none\n")
        #expect(policy.quorum == nil)
        let verdict = try policy.evaluate(try PolicyKit.checkpoint().note)
        #expect(verdict.isMet)
        #expect(verdict.cosignatures.isEmpty)
    }

    /// Names are opaque bytes: "K" and the Kelvin sign (U+212A, canonically equivalent to "K" in Unicode) are two names.
    @Test func comparesNamesAsBytes() throws {
        let text = """
            witness K \(try PolicyKit.witness("k").verifier.verifierKey)
            witness \u{212A} \(try PolicyKit.witness("kelvin").verifier.verifierKey)
            quorum \u{212A}
            """
        let policy = try WitnessPolicy(text: text)
        #expect(policy.witnesses.count == 2)
        #expect(policy.quorum == .witness(1))
    }

    /// Each malformed policy with the words its error must contain.
    @Test(arguments: PolicyCase.all)
    func refusesBadPolicies(_ bad: PolicyCase) throws {
        let error = try #require(throws: LedgerError.self) { try WitnessPolicy(text: bad.text()) }
        #expect(error.code == .witnessPolicy)
        #expect(error.reason.contains(bad.reason), "\(error.reason)")
    }

    @Test func enforcesTheLimits() throws {
        func witnesses(_ count: Int) throws -> String {
            try (0..<count).map { "witness w\($0) \(try PolicyKit.witness("n\($0)").verifier.verifierKey)\n" }.joined()
        }
        _ = try WitnessPolicy(text: try witnesses(32) + "quorum w0\n")
        #expect(throws: LedgerError.self) { try WitnessPolicy(text: try witnesses(33) + "quorum w0\n") }
        let groups = (0..<33).map { "group g\($0) any w0\n" }
        _ = try WitnessPolicy(text: try witnesses(1) + groups.prefix(32).joined() + "quorum g0\n")
        #expect(throws: LedgerError.self) {
            try WitnessPolicy(text: try witnesses(1) + groups.joined() + "quorum g0\n")
        }
        let logs = try (0..<33).map {
            "log \(try PolicyKit.logSigner("log\($0)", key: "log-\($0)").verifier.verifierKey)\n"
        }
        _ = try WitnessPolicy(text: logs.prefix(32).joined() + "quorum none\n")
        #expect(throws: LedgerError.self) { try WitnessPolicy(text: logs.joined() + "quorum none\n") }
        let padded = "quorum none\n" + String(repeating: "#\n", count: WitnessPolicy.maximumFileSize / 2)
        let error = try #require(throws: LedgerError.self) { try WitnessPolicy(text: padded) }
        #expect(error.reason.contains("bytes"))
    }

    // MARK: Evaluation

    @Test func specExampleQuorumNeedsTwoXAndOneY() throws {
        let policy = try WitnessPolicy(text: PolicyKit.specExamplePolicy())
        let note = try PolicyKit.checkpoint().note
        let names = ["X1", "X2", "X3", "Y1", "Y2", "Y3"]
        let witnesses = try Dictionary(uniqueKeysWithValues: names.map { ($0, try PolicyKit.witness($0)) })
        func verdict(_ cosigners: [String]) throws -> QuorumVerdict {
            try policy.evaluate(try PolicyKit.cosigned(note, by: cosigners.compactMap { witnesses[$0] }))
        }
        #expect(try verdict(["X1", "X3", "Y2"]).isMet)
        #expect(try verdict(["Y3", "X2", "X1", "Y1"]).isMet)
        let oneX = try verdict(["X1", "Y1", "Y2"])
        #expect(!oneX.isMet)
        #expect(oneX.missingWitnesses == ["X2", "X3"])
        #expect(oneX.unmetGroups.contains { $0.contains("X-witnesses needs 2 of 3") && $0.contains("has 1") })
        #expect(throws: LedgerError.self) { try oneX.requireQuorum() }
        let noY = try verdict(["X1", "X2", "X3"])
        #expect(!noY.isMet)
        #expect(noY.explanation.contains("missing: Y1, Y2, Y3"))
        #expect(!(try verdict([])).isMet)
        let met = try verdict(["X2", "X3", "Y1"])
        #expect(met.cosignatures.map(\.witness.name) == ["X2", "X3", "Y1"])
        #expect(met.cosignatures.map(\.timestamp) == [1_700_000_000, 1_700_000_001, 1_700_000_002])
        #expect(met.log == (try PolicyKit.logSigner().verifier))
        #expect(met.checkpoint.size == 10)
    }

    @Test func aPolicyWithoutLogsUsesTheLogKnownFromContext() throws {
        let policy = try WitnessPolicy(text: "quorum none\n")
        let note = try PolicyKit.checkpoint().note
        #expect(try policy.evaluate(note, knownLogs: [try PolicyKit.logSigner().verifier]).isMet)
        #expect(throws: LedgerError.self) { try policy.evaluate(note) }
        // A policy that lists logs ignores the context: only its own logs count.
        let other = try PolicyKit.logSigner(key: "another-log").verifier.verifierKey
        let listing = try WitnessPolicy(text: "log \(other)\nquorum none\n")
        let error = try #require(throws: LedgerError.self) {
            try listing.evaluate(note, knownLogs: [try PolicyKit.logSigner().verifier])
        }
        #expect(error.code == .checkpoint)
    }

    @Test func theLogKeyNameMustBeTheOrigin() throws {
        let renamed = try PolicyKit.logSigner("example.com/other-log").verifier.verifierKey
        let policy = try WitnessPolicy(text: "log \(renamed)\nquorum none\n")
        let error = try #require(throws: LedgerError.self) { try policy.evaluate(try PolicyKit.checkpoint().note) }
        #expect(error.reason.contains("names no log with origin"))
    }
}

/// A malformed policy and a phrase of its error.
struct PolicyCase: Sendable, CustomTestStringConvertible {
    let name: String
    let reason: String
    let body: @Sendable (String, String, String) -> String

    var testDescription: String { name }

    /// The policy's text, given the log's vkey and the vkeys of witnesses A and B.
    func text() throws -> String {
        body(
            try PolicyKit.logSigner().verifier.verifierKey,
            try PolicyKit.witness("a").verifier.verifierKey,
            try PolicyKit.witness("b").verifier.verifierKey
        )
    }

    static let all: [PolicyCase] = [
        .init(name: "no quorum", reason: "no quorum line") { log, _, _ in "log \(log)\n" },
        .init(name: "two quorums", reason: "second quorum") { _, a, _ in "witness A \(a)\nquorum A\nquorum none\n" },
        .init(name: "unknown keyword", reason: "line 1: unknown keyword") { _, _, _ in "witnesses A\nquorum none\n" },
        .init(name: "quorum undefined", reason: "not defined above") { _, _, _ in "quorum A\n" },
        .init(name: "quorum before its witness", reason: "not defined above") { _, a, _ in "quorum A\nwitness A \(a)\n"
        },
        .init(name: "quorum with two names", reason: "expected `quorum") { _, a, b in
            "witness A \(a)\nwitness B \(b)\nquorum A B\n"
        },
        .init(name: "name defined twice", reason: "defined twice") { _, a, _ in
            "witness A \(a)\ngroup A any A\nquorum none\n"
        },
        .init(name: "witness named none", reason: "reserved") { _, a, _ in "witness none \(a)\nquorum none\n" },
        .init(name: "none as member", reason: "`none` cannot be a group member") { _, a, _ in
            "witness A \(a)\ngroup G any A none\nquorum G\n"
        },
        .init(name: "member undefined", reason: "is not defined above") { _, a, _ in
            "witness A \(a)\ngroup G any A C\nquorum G\n"
        },
        .init(name: "member later", reason: "is not defined above") { _, a, b in
            "witness A \(a)\ngroup G all A B\nwitness B \(b)\nquorum G\n"
        },
        .init(name: "member twice", reason: "listed twice") { _, a, b in
            "witness A \(a)\nwitness B \(b)\ngroup G 2 A B A\nquorum G\n"
        },
        .init(name: "group without members", reason: "expected `group") { _, _, _ in "group G any\nquorum none\n" },
        .init(name: "threshold zero", reason: "threshold") { _, a, _ in "witness A \(a)\ngroup G 0 A\nquorum G\n" },
        .init(name: "threshold above n", reason: "threshold") { _, a, b in
            "witness A \(a)\nwitness B \(b)\ngroup G 3 A B\nquorum G\n"
        },
        .init(name: "threshold leading zero", reason: "threshold") { _, a, _ in
            "witness A \(a)\ngroup G 01 A\nquorum G\n"
        },
        .init(name: "threshold negative", reason: "threshold") { _, a, _ in "witness A \(a)\ngroup G -1 A\nquorum G\n"
        },
        .init(name: "log with a cosigner key", reason: "type 0x01") { _, a, _ in "log \(a)\nquorum none\n" },
        .init(name: "witness with a log key", reason: "type 0x04") { log, _, _ in "witness A \(log)\nquorum none\n" },
        .init(name: "witness key not a vkey", reason: "type 0x04") { _, _, _ in "witness A <vkey>\nquorum none\n" },
        .init(name: "duplicate log", reason: "already a log's key") { log, _, _ in
            let key = (try? NoteVerifier(verifierKey: log).publicKey) ?? []
            let renamed = (try? NoteVerifier(name: "example.com/renamed", publicKey: key).verifierKey) ?? ""
            return "log \(log)\nlog \(renamed)\nquorum none\n"
        },
        .init(name: "duplicate witness key", reason: "already a witness's key") { _, a, _ in
            "witness A \(a)\nwitness B \(a)\nquorum none\n"
        },
        .init(name: "witness with the log's key", reason: "already a log's key") { log, _, _ in
            let key = (try? NoteVerifier(verifierKey: log).publicKey) ?? []
            let cosigner = (try? CosignatureVerifier(name: "w", publicKey: key).verifierKey) ?? ""
            return "log \(log)\nwitness A \(cosigner)\nquorum A\n"
        },
        .init(name: "log with too many items", reason: "expected `log") { log, _, _ in
            "log \(log) url extra\nquorum none\n"
        },
        .init(name: "witness with too many items", reason: "expected `witness") { _, a, _ in
            "witness A \(a) url extra\nquorum none\n"
        },
        .init(name: "carriage return", reason: "control character 0xd") { _, _, _ in "quorum none\r\n" },
        .init(name: "NUL", reason: "control character 0x0") { _, _, _ in "# \u{0}\nquorum none\n" },
        .init(name: "DEL", reason: "control character 0x7f") { _, _, _ in "quorum none\u{7F}\n" },
        .init(name: "vertical tab", reason: "line 2: control character 0xb") { _, _, _ in "quorum none\n\u{0B}\n" },
    ]
}
