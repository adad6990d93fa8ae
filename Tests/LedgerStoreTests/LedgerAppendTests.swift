import LedgerCore
import LedgerStore
import LedgerTesting
import Testing

/// The append path refuses what the verifier would reject, and a refusal writes nothing.
@Suite("Ledger append path")
struct LedgerAppendTests {
    static func expectRefused(
        _ code: LedgerError.Code,
        _ drafts: [EventDraft],
        by key: SigningKey,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let ledger = try await TestLogs.make()
        let before = try await ledger.store.size()
        let error = await #expect(throws: LedgerError.self, sourceLocation: sourceLocation) {
            try await ledger.append(drafts, signedBy: key)
        }
        #expect(error?.code == code, "got \(error?.description ?? "no error")", sourceLocation: sourceLocation)
        #expect(
            try await ledger.store.size() == before,
            "a refused append changed the log",
            sourceLocation: sourceLocation
        )
    }

    @Test("an unknown event type")
    func unknownType() async throws {
        try await Self.expectRefused(
            .unknownType,
            [EventDraft(type: "model.teleported", data: [:])],
            by: TestKeys.admin
        )
    }

    @Test("data that does not match the schema")
    func schema() async throws {
        try await Self.expectRefused(.schema, [EventDraft(type: "note.added", data: ["text": 5])], by: TestKeys.admin)
        try await Self.expectRefused(.schema, [EventDraft(type: "note.added", data: ["txt": "x"])], by: TestKeys.admin)
        try await Self.expectRefused(
            .schema,
            [EventDraft(type: "note.added", data: ["text": "x", "refs": [1, 1]])],
            by: TestKeys.admin
        )
    }

    @Test("an append by a key without the role")
    func role() async throws {
        let record = KeyRecord(publicKey: TestKeys.outsider.publicKey, name: "x", roles: [.admin])
        try await Self.expectRefused(
            .roleNotAllowed,
            [EventDraft(type: "key.added", data: record.jsonValue)],
            by: TestKeys.pipeline
        )
    }

    @Test("an append by an unknown key")
    func unknown() async throws {
        try await Self.expectRefused(.unknownKey, [TestLogs.note("hi")], by: TestKeys.outsider)
    }

    @Test("a batch with one bad event writes none of it")
    func atomicBatch() async throws {
        try await Self.expectRefused(
            .schema,
            [TestLogs.note("fine"), TestLogs.note("fine too"), EventDraft(type: "note.added", data: [:])],
            by: TestKeys.admin
        )
    }

    @Test("governance rules of the keyring")
    func keyringRules() async throws {
        let existing = KeyRecord(publicKey: TestKeys.pipeline.publicKey, name: "again", roles: [.pipeline])
        try await Self.expectRefused(
            .policy,
            [EventDraft(type: "key.added", data: existing.jsonValue)],
            by: TestKeys.admin
        )
        try await Self.expectRefused(
            .policy,
            [EventDraft(type: "key.revoked", data: ["keyid": .string(TestKeys.admin.keyID), "reason": "oops"])],
            by: TestKeys.admin
        )
        try await Self.expectRefused(
            .policy,
            [EventDraft(type: "key.revoked", data: ["keyid": .string(TestKeys.outsider.keyID), "reason": "who"])],
            by: TestKeys.admin
        )
        try await Self.expectRefused(
            .policy,
            [
                EventDraft(
                    type: "key.revoked",
                    data: ["keyid": .string(TestKeys.log.keyID), "reason": "the only log key"]
                )
            ],
            by: TestKeys.admin
        )
        var mismatched = existing.jsonValue.objectValue ?? [:]
        mismatched["keyid"] = .string(TestKeys.outsider.keyID)
        try await Self.expectRefused(
            .policy,
            [EventDraft(type: "key.added", data: .object(mismatched))],
            by: TestKeys.admin
        )
        let genesisAgain: JSONValue = [
            "keys": [KeyRecord(publicKey: TestKeys.admin.publicKey, name: "admin", roles: [.admin]).jsonValue],
            "policy": ["requiredApprovals": 1],
        ]
        try await Self.expectRefused(
            .policy,
            [EventDraft(type: "ledger.created", data: genesisAgain)],
            by: TestKeys.admin
        )
    }

    @Test("revocation: earlier events stay valid, later appends are refused")
    func revocation() async throws {
        let ledger = try await TestLogs.make()
        try await ledger.append(
            [EventDraft(type: "key.revoked", data: ["keyid": .string(TestKeys.pipeline.keyID), "reason": "left"])],
            signedBy: TestKeys.admin
        )
        let error = await #expect(throws: LedgerError.self) {
            try await ledger.append([TestLogs.note("late")], signedBy: TestKeys.pipeline)
        }
        #expect(error?.code == .revokedKey)
        let report = Verifier().verify(leaves: try await ledger.store.allEntries().map(\.leaf))
        #expect(report.isVerified)
        #expect(report.state.keyring[TestKeys.pipeline.keyID]?.revokedAt == 5)
    }

    @Test("a reopened ledger continues the chain and agrees with a full replay")
    func reopen() async throws {
        let store = InMemoryEventStore()
        let first = try await TestLogs.make(store: store, notes: 2)
        let policy: JSONValue = ["policy": ["requiredApprovals": 2]]
        try await first.append([EventDraft(type: "policy.set", data: policy)], signedBy: TestKeys.admin)
        let reopened = try await Ledger.open(store: store, clock: SteppingClock())
        #expect(await reopened.state == (await first.state))
        try await reopened.append([TestLogs.note("after reopen")], signedBy: TestKeys.pipeline)
        let report = Verifier().verify(leaves: try await store.allEntries().map(\.leaf))
        #expect(report.isVerified)
        #expect(report.state == (await reopened.state))
        #expect(report.state.policy.requiredApprovals == 2)
    }

    @Test("an envelope signed elsewhere is appended after the same checks")
    func externalEnvelope() async throws {
        let ledger = try await TestLogs.make()
        let state = await ledger.state
        let event = Event(
            log: TestLogs.logID,
            seq: state.size,
            prev: state.lastLeafHash,
            time: Timestamp(millisecondsSinceEpoch: (state.lastTime?.millisecondsSinceEpoch ?? 0) + 5),
            type: "note.added",
            actor: TestKeys.pipeline.keyID,
            data: ["text": "signed offline"]
        )
        let signed = try SignedEvent(signing: event, with: TestKeys.pipeline)
        var forged = signed.envelope
        forged.signatures[0].signature[0] ^= 1
        let error = await #expect(throws: LedgerError.self) { try await ledger.append(envelope: forged) }
        #expect(error?.code == .badSignature)
        try await ledger.append(envelope: signed.envelope)
        let replay = await #expect(throws: LedgerError.self) { try await ledger.append(envelope: signed.envelope) }
        #expect(replay?.code == .sequence)
        #expect(Verifier().verify(leaves: try await ledger.store.allEntries().map(\.leaf)).isVerified)
    }

    @Test("a subject with an empty name is refused, so every stored entry decodes")
    func emptySubjectName() async throws {
        try await Self.expectRefused(
            .schema,
            [EventDraft(type: "note.added", subject: [Subject(name: "", sha256: .zero)], data: ["text": "x"])],
            by: TestKeys.admin
        )
    }

    @Test("a genesis with an unusable log id is refused")
    func badOrigin() async throws {
        for origin in ["", "has space", "a+b"] {
            let error = await #expect(throws: LedgerError.self) {
                try await Ledger.create(
                    store: InMemoryEventStore(),
                    clock: SteppingClock(),
                    logID: origin,
                    keys: [KeyRecord(publicKey: TestKeys.admin.publicKey, name: "admin", roles: [.admin])],
                    signedBy: TestKeys.admin
                )
            }
            #expect(error?.code == .schema || error?.code == .malformed, "\(origin): \(error?.description ?? "")")
        }
    }

    @Test("an envelope dated far in the future is refused")
    func futureEnvelope() async throws {
        let ledger = try await TestLogs.make()
        let state = await ledger.state
        let event = Event(
            log: TestLogs.logID,
            seq: state.size,
            prev: state.lastLeafHash,
            time: Timestamp(millisecondsSinceEpoch: 253_402_300_799_000),
            type: "note.added",
            actor: TestKeys.pipeline.keyID,
            data: ["text": "from the future"]
        )
        let signed = try SignedEvent(signing: event, with: TestKeys.pipeline)
        let error = await #expect(throws: LedgerError.self) { try await ledger.append(envelope: signed.envelope) }
        #expect(error?.code == .timeBackwards)
        #expect(try await ledger.store.size() == state.size)
    }

    @Test("every entry a large streamed batch writes decodes and verifies")
    func largeBatchRoundTrip() async throws {
        let ledger = try await TestLogs.make(notes: 0)
        let drafts = (0..<600).map { TestLogs.note("bulk \($0)", refs: [$0 % 3]) }
        let appended = try await ledger.append(drafts, signedBy: TestKeys.pipeline)
        let entries = try await ledger.store.allEntries()
        #expect(appended.map(\.leaf) == Array(entries.suffix(600).map(\.leaf)))
        for entry in entries { _ = try SignedEvent(leaf: entry.leaf) }
        #expect(Verifier(concurrency: 2).verify(leaves: entries.map(\.leaf)).isVerified)
    }

    @Test("time never goes backwards even if the clock does")
    func monotonicTime() async throws {
        let ledger = try await TestLogs.make(notes: 0)
        let backwards = try await Ledger.open(
            store: ledger.store,
            clock: SteppingClock(start: Timestamp(millisecondsSinceEpoch: 0))
        )
        try await backwards.append([TestLogs.note("late clock")], signedBy: TestKeys.pipeline)
        #expect(Verifier().verify(leaves: try await ledger.store.allEntries().map(\.leaf)).isVerified)
    }
}
