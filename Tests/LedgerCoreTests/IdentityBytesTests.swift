import LedgerCore
import LedgerStore
import LedgerTesting
import Testing

/// Identities from signed payloads compare as UTF-8 bytes, never by Unicode canonical equivalence (Issue 16, case 1):
/// `"é"` (U+00E9) and `"e\u{301}"` are two names, and so are `"K"` and `"\u{212A}"` (KELVIN SIGN), as they are for
/// SQLite, PostgreSQL, the auditor's script and the Python peer.
@Suite("Identity is bytes")
struct IdentityBytesTests {
    static let composed = "caf\u{E9}.example/log"
    static let decomposed = "cafe\u{301}.example/log"

    @Test func theTwoSpellingsAreEqualSwiftStringsButDifferentBytes() {
        // The premise of every test here.
        #expect(Self.composed == Self.decomposed)
        #expect(!Self.composed.hasSameBytes(as: Self.decomposed))
        #expect(Identifier(Self.composed) != Identifier(Self.decomposed))
        #expect(Set([Identifier("K"), Identifier("\u{212A}")]).count == 2)
        #expect(Identifier("e\u{301}") < Identifier("\u{E9}"))
        #expect("cafe\u{301}".escapingNonASCII == "cafe\\u{301}")
    }

    @Test func memberNamesThatDifferInNormalizationAreTwoMembers() throws {
        // RFC 8785 order: "e" (U+0065) sorts before "é" (U+00E9).
        let text = "{\"e\u{301}\":2,\"\u{E9}\":1}"
        let parsed = try CanonicalJSON.parse(Array(text.utf8))
        let members = try #require(parsed.objectValue)
        #expect(members.count == 2)
        #expect(members["\u{E9}"] == 1)
        #expect(members["e\u{301}"] == 2)
        #expect(try CanonicalJSON.encode(parsed) == Array(text.utf8))
        // Escaped, the same two names.
        let escaped = try CanonicalJSON.parse(Array(#"{"\u00e9":1,"e\u0301":2}"#.utf8))
        #expect(escaped == parsed)
        // A true duplicate, byte for byte, is still refused.
        #expect(throws: JSONError.self) { try CanonicalJSON.parse(Array("{\"\u{E9}\":1,\"\u{E9}\":2}".utf8)) }
    }

    @Test func stringsCompareByBytes() {
        #expect(JSONValue.string("\u{E9}") != .string("e\u{301}"))
        #expect(Set<JSONValue>([.string("\u{E9}"), .string("e\u{301}")]).count == 2)
        #expect(JSONValue.string("\u{E9}") == .string("\u{E9}"))
    }

    @Test func schemaMemberNamesCompareByBytes() throws {
        let shape = DataShape.object(required: ["precisionAtK": .integer(minimum: 0)])
        try shape.validate(try CanonicalJSON.parse(Array(#"{"precisionAtK":1}"#.utf8)))
        // KELVIN SIGN for K: not the required member, alone or beside it.
        for text in ["{\"precisionAt\u{212A}\":1}", "{\"precisionAtK\":1,\"precisionAt\u{212A}\":1}"] {
            let json = try CanonicalJSON.parse(Array(text.utf8))
            #expect(throws: LedgerError.self, "\(text.escapingNonASCII)") { try shape.validate(json) }
        }
        #expect(throws: LedgerError.self) { try DataShape.oneOf(["K"]).validate(.string("\u{212A}")) }
    }

    @Test func catalogTypesAreASCIIAndFoundByBytes() throws {
        for type in EventCatalog.kinds.keys {
            #expect(type.utf8.allSatisfy { $0 >= 0x21 && $0 < 0x7f }, "\(type)")
            #expect(try EventCatalog.kind(of: type).type == type)
        }
    }

    /// The observed case: a log named with "é" accepted an event whose `log` was the decomposed spelling.
    @Test func anEventForTheDecomposedLogIDIsForeign() async throws {
        let ledger = try await TestLogs.make(logID: Self.composed, notes: 1)
        let state = await ledger.state
        let event = Event(
            log: Self.decomposed,
            seq: state.size,
            prev: state.lastLeafHash,
            time: Timestamp(millisecondsSinceEpoch: (state.lastTime?.millisecondsSinceEpoch ?? 0) + 1),
            type: "note.added",
            actor: TestKeys.pipeline.keyID,
            data: ["text": "look-alike"]
        )
        let signed = try SignedEvent(signing: event, with: TestKeys.pipeline)
        let signer = try state.signer(of: signed.envelope, event: signed.event)
        let error = try #require(throws: LedgerError.self) { try state.check(signed, signer: signer) }
        #expect(error.code == .foreignLog)
        #expect(error.reason.contains("cafe\\u{301}.example/log"), "\(error.reason)")
        #expect(error.reason.contains("Unicode normalization"), "\(error.reason)")

        let leaves = try await ledger.store.allEntries().map(\.leaf) + [signed.leaf]
        let report = Verifier().verify(leaves: leaves)
        #expect(report.failure?.seq == state.size)
        #expect(report.failure?.code == .foreignLog)
        // The composed spelling is the log's own.
        let own = try Forgery.next(after: state, type: "note.added", data: ["text": "ok"], signedBy: TestKeys.pipeline)
        #expect(Verifier().verify(leaves: leaves.dropLast() + [own.leaf]).isVerified)
    }

    static func runStarted(_ run: String) -> EventDraft {
        EventDraft(
            type: "run.started",
            data: [
                "run": .string(run), "trigger": "manual",
                "window": ["from": "2026-01-05T00:00:00.000Z", "to": "2026-01-12T00:00:00.000Z"],
                "config": ["sha256": .string(Hash256.sha256(Array(run.utf8)).hex)], "code": ["version": "test"],
            ]
        )
    }

    @Test func runIDsThatDifferInNormalizationAreTwoRuns() async throws {
        let ledger = try await TestLogs.make(notes: 0)
        try await ledger.append([Self.runStarted("weekly/caf\u{E9}")], signedBy: TestKeys.pipeline)
        try await ledger.append([Self.runStarted("weekly/cafe\u{301}")], signedBy: TestKeys.pipeline)
        try await ledger.append(
            [EventDraft(type: "run.completed", data: ["run": "weekly/cafe\u{301}"])],
            signedBy: TestKeys.pipeline
        )
        let runs = await ledger.state.runs
        #expect(runs.started.count == 2)
        #expect(runs.finished.keys == ["weekly/cafe\u{301}"])
        #expect(runs.finished["weekly/caf\u{E9}"] == nil)
        // Completing the decomposed run twice is refused; the composed one is still open.
        await #expect(throws: LedgerError.self) {
            try await ledger.append(
                [EventDraft(type: "run.completed", data: ["run": "weekly/cafe\u{301}"])],
                signedBy: TestKeys.pipeline
            )
        }
        try await ledger.append(
            [EventDraft(type: "run.completed", data: ["run": "weekly/caf\u{E9}"])],
            signedBy: TestKeys.pipeline
        )
        #expect(Verifier().verify(leaves: try await ledger.store.allEntries().map(\.leaf)).isVerified)
    }

    /// A rollback that names the target with KELVIN SIGN for K: another target, which nothing serves.
    @Test func aTargetIsMatchedByBytes() async throws {
        typealias Keys = GovernanceSimulator.Keys
        let ledger = try await GovernanceSimulator.makeLedger()
        var simulator = GovernanceSimulator(seed: 16)
        let first = try await simulator.registerVersion(on: ledger)
        let second = try await simulator.registerVersion(on: ledger)
        func fields(_ version: ModelRules.Version) -> [String: JSONValue] {
            ["name": .string(version.name), "version": .int(version.version), "sha256": .string(version.artifact.hex)]
        }
        for version in [first, second] {
            var approval = fields(version)
            approval["reason"] = "ok"
            try await ledger.append(
                [EventDraft(type: "model.approved", data: .object(approval))],
                signedBy: Keys.approvers[0]
            )
            var deployment = fields(version)
            deployment["target"] = "Kiosk"
            try await ledger.append(
                [EventDraft(type: "model.deployed", data: .object(deployment))],
                signedBy: Keys.deployer
            )
        }
        func rollBack(_ target: String) -> EventDraft {
            EventDraft(
                type: "model.rolledBack",
                data: [
                    "name": .string(first.name), "target": .string(target),
                    "from": ["version": .int(second.version), "sha256": .string(second.artifact.hex)],
                    "to": ["version": .int(first.version), "sha256": .string(first.artifact.hex)],
                ]
            )
        }
        #expect("\u{212A}iosk" == "Kiosk")
        let error = await #expect(throws: LedgerError.self) {
            try await ledger.append([rollBack("\u{212A}iosk")], signedBy: Keys.deployer)
        }
        #expect(error?.code == .policy)
        #expect(await ledger.state.models.targets.keys == ["Kiosk"])
        try await ledger.append([rollBack("Kiosk")], signedBy: Keys.deployer)
        #expect(await ledger.state.models.targets["Kiosk"]?.current?.version == first.version)
    }
}
