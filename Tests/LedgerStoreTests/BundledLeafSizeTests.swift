import LedgerCore
import LedgerStore
import LedgerTesting
import Testing

/// The append path keeps every new leaf within a C2SP tlog-tiles entry bundle (65,535 bytes), refusing a larger one
/// and appending nothing, while the verifier keeps accepting a log written before the bound.
@Suite("Bundled leaf size")
struct BundledLeafSizeTests {
    /// `model.trained` data, valid under the released bounds, with `count` feature names of `length` characters.
    static func trained(features count: Int, length: Int) -> JSONValue {
        let digest = JSONValue.string(Hash256.sha256([1]).hex)
        return [
            "algorithm": "isolation-forest", "trainer": ["version": "1"], "parameters": ["trees": 100], "seed": 1,
            "dataset": ["seq": 0, "sha256": digest], "rows": 10, "artifact": ["sha256": digest], "durationMs": 1,
            "features": .array(
                (0..<count).map { index in
                    let digits = String(index)
                    return .string(String(repeating: "f", count: max(1, length - digits.count)) + digits)
                }
            ),
        ]
    }

    /// A `model.trained` event signed by the pipeline key right after `ledger`'s head, whose leaf is `target` bytes
    /// (or one of the sizes next to it: a one-signature leaf is 1 more than a multiple of 4).
    static func envelope(after state: LedgerState, leafBytes target: Int) throws -> SignedEvent {
        var count = 1
        var event = try Forgery.next(
            after: state,
            type: "model.trained",
            data: trained(features: count, length: 50),
            signedBy: TestKeys.pipeline
        )
        // Grow whole features of 50 characters while far below, then the last feature's name a character at a time
        // (at most 128 characters, the released bound).
        while event.leaf.count + 60 < target {
            count += 1
            event = try Forgery.next(
                after: state,
                type: "model.trained",
                data: trained(features: count, length: 50),
                signedBy: TestKeys.pipeline
            )
        }
        var data = trained(features: count, length: 50)
        var features = data["features"]?.arrayValue ?? []
        var last = features.last?.stringValue ?? ""
        while event.leaf.count < target {
            last += "g"
            features[features.count - 1] = .string(last)
            data = trained(features: count, length: 50)
            guard var members = data.objectValue else { break }
            members["features"] = .array(features)
            data = .object(members)
            event = try Forgery.next(after: state, type: "model.trained", data: data, signedBy: TestKeys.pipeline)
        }
        return event
    }

    @Test("a leaf of 65,536 bytes or more is refused, naming the type and the size, and nothing is appended")
    func overTheBundleLimit() async throws {
        let ledger = try await TestLogs.make()
        let before = try await ledger.store.size()
        let state = await ledger.state
        let signed = try Self.envelope(after: state, leafBytes: Envelope.maximumBundledLeafBytes + 1)
        // A one-signature leaf is 261 bytes plus a multiple of 4: 65,537 is the first size past 65,535.
        #expect(signed.leaf.count == 65_537)
        // Valid under the released bounds: only its size is in the way.
        try EventCatalog.kind(of: "model.trained").shape.validate(signed.event.data)
        let error = await #expect(throws: LedgerError.self) { try await ledger.append(envelope: signed.envelope) }
        #expect(error?.code == .invalidArgument, "\(error?.description ?? "appended")")
        #expect(error?.reason.contains("model.trained") == true, "\(error?.description ?? "appended")")
        #expect(error?.reason.contains("65537 bytes") == true, "\(error?.description ?? "appended")")
        #expect(error?.reason.contains("65535") == true, "\(error?.description ?? "appended")")
        #expect(try await ledger.store.size() == before, "a refused append changed the log")
    }

    @Test("a leaf of 65,533 bytes passes the size check (then its data is refused as too many features)")
    func atTheBundleLimit() async throws {
        let ledger = try await TestLogs.make()
        let before = try await ledger.store.size()
        let signed = try Self.envelope(after: await ledger.state, leafBytes: Envelope.maximumBundledLeafBytes - 2)
        #expect(signed.leaf.count == 65_533)
        let error = await #expect(throws: LedgerError.self) { try await ledger.append(envelope: signed.envelope) }
        // Not the size: the rules (no dataset.built at that seq) or the new-event bounds refuse it.
        #expect(error?.code != .invalidArgument, "\(error?.description ?? "appended")")
        #expect(try await ledger.store.size() == before)
    }

    @Test("drafts beyond the new-event bounds are refused before signing, and nothing is appended")
    func draftsBeyondTheBounds() async throws {
        let ledger = try await TestLogs.make()
        let before = try await ledger.store.size()
        for data in [
            Self.trained(features: EventCatalog.maximumFeatures + 1, length: 10),
            Self.trained(features: 1, length: 65),
        ] {
            let error = await #expect(throws: LedgerError.self) {
                try await ledger.append([EventDraft(type: "model.trained", data: data)], signedBy: TestKeys.pipeline)
            }
            #expect(error?.code == .schema, "\(error?.description ?? "appended")")
        }
        let subjects = (0...EventCatalog.maximumSubjects).map {
            Subject(name: "s\($0)", sha256: Hash256.sha256([UInt8($0)]))
        }
        let error = await #expect(throws: LedgerError.self) {
            try await ledger.append(
                [EventDraft(type: "note.added", subject: subjects, data: ["text": "x"])],
                signedBy: TestKeys.pipeline
            )
        }
        #expect(error?.code == .schema, "\(error?.description ?? "appended")")
        #expect(try await ledger.store.size() == before)
    }

    @Test("a log written before the bound, with a genesis leaf over 65,535 bytes, still verifies")
    func earlierLogStillVerifies() throws {
        // 100 keys with 128-character names: valid under the released bounds, far over an entry bundle.
        let keys: [JSONValue] = (0..<100).map { index in
            let key = TestKeys.key("bulk-\(index)")
            return [
                "keyid": .string(key.keyID), "publicKey": .string(Hex.encode(key.publicKey.rawRepresentation)),
                "name": .string(String(repeating: "\u{1}", count: 124) + String(1000 + index)),
                "roles": index == 0 ? ["admin", "log"] : ["approver"],
            ]
        }
        let admin = TestKeys.key("bulk-0")
        let genesis = Event(
            log: TestLogs.logID,
            seq: 0,
            prev: .zero,
            time: Timestamp(millisecondsSinceEpoch: 1_000),
            type: "ledger.created",
            actor: admin.keyID,
            data: ["keys": .array(keys), "policy": ["requiredApprovals": 1]]
        )
        let signed = try SignedEvent(signing: genesis, with: admin)
        #expect(signed.leaf.count > Envelope.maximumBundledLeafBytes)
        let report = Verifier().verify(leaves: [signed.leaf])
        #expect(report.failure == nil, "\(report.failure.map { "\($0)" } ?? "")")
        // The same genesis is refused for a new log: 100 keys is more than the 32 a new genesis names.
        #expect(throws: LedgerError.self) {
            try EventCatalog.kind(of: "ledger.created").shape.validate(genesis.data, bounds: .newEvent)
        }
    }
}
