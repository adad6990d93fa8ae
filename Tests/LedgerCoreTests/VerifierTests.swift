import LedgerCore
import LedgerStore
import LedgerTesting
import Testing

/// The adversarial suite: every attack on a valid log must be reported with the right seq and code.
@Suite("Verifier attacks")
struct VerifierTests {
    /// seq 0 genesis, 1 key.added pipeline, 2-4 notes, 5 key.added temp, 6 note by temp,
    /// 7 key.revoked temp, 8 note by pipeline.
    static func validLog(logID: String = TestLogs.logID) async throws -> (leaves: [[UInt8]], state: LedgerState) {
        let ledger = try await TestLogs.make(logID: logID, notes: 3)
        let temp = KeyRecord(publicKey: TestKeys.key("temp").publicKey, name: "temp", roles: [.pipeline])
        try await ledger.append([EventDraft(type: "key.added", data: temp.jsonValue)], signedBy: TestKeys.admin)
        try await ledger.append([TestLogs.note("by temp")], signedBy: TestKeys.key("temp"))
        try await ledger.append(
            [EventDraft(type: "key.revoked", data: ["keyid": .string(temp.keyID), "reason": "rotated"])],
            signedBy: TestKeys.admin
        )
        try await ledger.append([TestLogs.note("after revocation", refs: [6])], signedBy: TestKeys.pipeline)
        return (try await ledger.store.allEntries().map(\.leaf), await ledger.state)
    }

    /// The next event after `state`, signed by `key`, as leaf bytes.
    static func forged(
        after state: LedgerState,
        type: String = "note.added",
        data: JSONValue = ["text": "forged"],
        by key: SigningKey,
        time: Timestamp? = nil
    ) throws -> [UInt8] {
        let event = Event(
            log: state.logID ?? "",
            seq: state.size,
            prev: state.lastLeafHash,
            time: time ?? Timestamp(millisecondsSinceEpoch: (state.lastTime?.millisecondsSinceEpoch ?? 0) + 1),
            type: type,
            actor: key.keyID,
            data: data
        )
        return try SignedEvent(signing: event, with: key).leaf
    }

    static func checkpoint(of leaves: [[UInt8]], logID: String = TestLogs.logID) throws -> String {
        let root = MerkleTree.root(of: leaves.map { MerkleTree.leafHash($0) })
        var note = SignedNote(
            text: Checkpoint(origin: logID, size: UInt64(leaves.count), root: root).text,
            signatures: []
        )
        try note.addSignature(by: try NoteSigner(name: logID, privateKey: TestKeys.log.cryptoKey))
        return note.serialized
    }

    /// Rewrites one envelope member of a leaf and re-encodes it canonically.
    static func tamper(_ leaf: [UInt8], _ change: (inout Envelope) -> Void) throws -> [UInt8] {
        var envelope = try Envelope(jsonBytes: leaf)
        change(&envelope)
        return envelope.canonicalBytes()
    }

    static func expectFailure(
        _ leaves: [[UInt8]],
        seq: UInt64?,
        code: LedgerError.Code,
        verifier: Verifier = Verifier()
    ) {
        let report = verifier.verify(leaves: leaves)
        #expect(report.failure?.seq == seq, "reported \(report.failure?.description ?? "success")")
        #expect(report.failure?.code == code, "reported \(report.failure?.description ?? "success")")
    }

    @Test("the valid log verifies, single- and multi-threaded, with the right counts and root")
    func validLogVerifies() async throws {
        let (leaves, state) = try await Self.validLog()
        for threads in [1, 2, 4] {
            let report = Verifier(
                trustedGenesis: state.genesisLeafHash,
                checkpoints: [try Self.checkpoint(of: leaves)],
                concurrency: threads
            )
            .verify(leaves: leaves)
            #expect(report.isVerified, "\(report.failure?.description ?? "")")
            #expect(report.entries == 9)
            #expect(report.root == MerkleTree.root(of: leaves.map { MerkleTree.leafHash($0) }))
            #expect(report.countsByType == ["ledger.created": 1, "key.added": 2, "note.added": 5, "key.revoked": 1])
            #expect(report.checkpointsVerified == 1)
        }
    }

    @Test("a bit flipped in a payload", arguments: [1, 3, 8])
    func payloadBitFlip(seq: Int) async throws {
        var (leaves, _) = try await Self.validLog()
        leaves[seq] = try Self.tamper(leaves[seq]) { $0.payload[$0.payload.count / 2] ^= 0x04 }
        Self.expectFailure(leaves, seq: UInt64(seq), code: .badSignature)
    }

    /// Genesis introduces the keys that sign it, so a change there is caught by the trust anchor.
    @Test("a bit flipped anywhere in the genesis payload", arguments: [10, 100, 200, 300])
    func genesisBitFlip(offset: Int) async throws {
        var (leaves, state) = try await Self.validLog()
        leaves[0] = try Self.tamper(leaves[0]) { $0.payload[offset % $0.payload.count] ^= 0x01 }
        Self.expectFailure(
            leaves,
            seq: 0,
            code: .trustAnchor,
            verifier: Verifier(trustedGenesis: state.genesisLeafHash)
        )
        #expect(Verifier().verify(leaves: leaves).failure?.seq == 0)
    }

    @Test("a bit flipped in a signature", arguments: [0, 4, 8])
    func signatureBitFlip(seq: Int) async throws {
        var (leaves, _) = try await Self.validLog()
        leaves[seq] = try Self.tamper(leaves[seq]) { $0.signatures[0].signature[5] ^= 0x01 }
        Self.expectFailure(leaves, seq: UInt64(seq), code: .badSignature)
    }

    @Test("a bit flipped in the raw leaf bytes")
    func rawLeafBitFlip() async throws {
        var (leaves, _) = try await Self.validLog()
        leaves[2][3] ^= 0x20
        let report = Verifier().verify(leaves: leaves)
        #expect(report.failure?.seq == 2)
    }

    @Test("a deleted entry")
    func deletedEntry() async throws {
        var (leaves, _) = try await Self.validLog()
        leaves.remove(at: 3)
        Self.expectFailure(leaves, seq: 3, code: .sequence)
    }

    @Test("two swapped entries")
    func swappedEntries() async throws {
        var (leaves, _) = try await Self.validLog()
        leaves.swapAt(3, 4)
        Self.expectFailure(leaves, seq: 3, code: .sequence)
    }

    @Test("an entry replayed at a later position")
    func replayedEntry() async throws {
        var (leaves, _) = try await Self.validLog()
        leaves.append(leaves[4])
        Self.expectFailure(leaves, seq: 9, code: .sequence)
    }

    @Test("an event signed by an unknown key")
    func unknownKey() async throws {
        var (leaves, state) = try await Self.validLog()
        leaves.append(try Self.forged(after: state, by: TestKeys.outsider))
        Self.expectFailure(leaves, seq: 9, code: .unknownKey)
    }

    @Test("an event claiming a known keyid but signed by the wrong key")
    func wrongKey() async throws {
        var (leaves, state) = try await Self.validLog()
        let forged = try Self.forged(after: state, by: TestKeys.outsider)
        leaves.append(try Self.tamper(forged) { $0.signatures[0].keyID = TestKeys.pipeline.keyID })
        Self.expectFailure(leaves, seq: 9, code: .badSignature)
    }

    @Test("an event signed by a revoked key after its revocation; its earlier event stays valid")
    func revokedKey() async throws {
        var (leaves, state) = try await Self.validLog()
        #expect(Verifier().verify(leaves: leaves).isVerified)
        leaves.append(try Self.forged(after: state, by: TestKeys.key("temp")))
        Self.expectFailure(leaves, seq: 9, code: .revokedKey)
    }

    @Test("an event signed by a key without the role")
    func missingRole() async throws {
        var (leaves, state) = try await Self.validLog()
        let record = KeyRecord(publicKey: TestKeys.outsider.publicKey, name: "sneaky", roles: [.admin])
        leaves.append(try Self.forged(after: state, type: "key.added", data: record.jsonValue, by: TestKeys.pipeline))
        Self.expectFailure(leaves, seq: 9, code: .roleNotAllowed)
    }

    @Test("an entry replayed from another log")
    func foreignLog() async throws {
        var (leaves, _) = try await Self.validLog()
        let (other, _) = try await Self.validLog(logID: "other.example/log")
        leaves[3] = other[3]
        Self.expectFailure(leaves, seq: 3, code: .foreignLog)
    }

    @Test("time going backwards")
    func timeBackwards() async throws {
        var (leaves, state) = try await Self.validLog()
        leaves.append(try Self.forged(after: state, by: TestKeys.pipeline, time: Timestamp(millisecondsSinceEpoch: 0)))
        Self.expectFailure(leaves, seq: 9, code: .timeBackwards)
    }

    @Test("data that violates its schema, and an unknown type")
    func schemaViolation() async throws {
        var (leaves, state) = try await Self.validLog()
        Self.expectFailure(
            leaves + [try Self.forged(after: state, data: ["text": ""], by: TestKeys.pipeline)],
            seq: 9,
            code: .schema
        )
        Self.expectFailure(
            leaves + [try Self.forged(after: state, type: "model.teleported", by: TestKeys.pipeline)],
            seq: 9,
            code: .unknownType
        )
        leaves.append(try Self.forged(after: state, data: ["text": "x", "refs": [9]], by: TestKeys.pipeline))
        Self.expectFailure(leaves, seq: 9, code: .policy)
    }

    @Test("a broken prev link")
    func brokenChain() async throws {
        var (leaves, state) = try await Self.validLog()
        let event = Event(
            log: TestLogs.logID,
            seq: 9,
            prev: Hash256.sha256([9]),
            time: Timestamp(millisecondsSinceEpoch: (state.lastTime?.millisecondsSinceEpoch ?? 0) + 1),
            type: "note.added",
            actor: TestKeys.pipeline.keyID,
            data: ["text": "dangling"]
        )
        leaves.append(try SignedEvent(signing: event, with: TestKeys.pipeline).leaf)
        Self.expectFailure(leaves, seq: 9, code: .brokenChain)
    }

    @Test("a mismatch with the trust anchor")
    func trustAnchor() async throws {
        let (leaves, _) = try await Self.validLog()
        let (other, otherState) = try await Self.validLog(logID: "other.example/log")
        Self.expectFailure(
            leaves,
            seq: 0,
            code: .trustAnchor,
            verifier: Verifier(trustedGenesis: otherState.genesisLeafHash)
        )
        #expect(Verifier(trustedGenesis: otherState.genesisLeafHash).verify(leaves: other).isVerified)
    }

    @Test("a tail truncated, checked against an earlier checkpoint")
    func truncatedTail() async throws {
        let (leaves, _) = try await Self.validLog()
        let checkpoint = try Self.checkpoint(of: leaves)
        Self.expectFailure(
            Array(leaves.prefix(6)),
            seq: 6,
            code: .checkpoint,
            verifier: Verifier(checkpoints: [checkpoint])
        )
        #expect(Verifier(checkpoints: [checkpoint]).verify(leaves: leaves).isVerified)
    }

    @Test("history rewritten and re-signed, checked against an earlier checkpoint")
    func rewrittenHistory() async throws {
        let (leaves, _) = try await Self.validLog()
        let early = try Self.checkpoint(of: Array(leaves.prefix(4)))
        let late = try Self.checkpoint(of: leaves)
        // Rebuild from seq 4 with different, validly signed content: the log verifies on its own.
        var rewritten = Array(leaves.prefix(4))
        var state = Verifier().verify(leaves: rewritten).state
        for index in 0..<5 {
            rewritten.append(
                try Self.forged(after: state, data: ["text": .string("rewritten \(index)")], by: TestKeys.pipeline)
            )
            state = Verifier().verify(leaves: rewritten).state
        }
        #expect(Verifier().verify(leaves: rewritten).isVerified)
        // A root fixes its prefix, not where in it the change is: the failure names the range and blames no seq.
        Self.expectFailure(rewritten, seq: nil, code: .checkpoint, verifier: Verifier(checkpoints: [early, late]))
        let narrowed = Verifier(checkpoints: [early, late]).verify(leaves: rewritten).failure?.reason ?? ""
        #expect(narrowed.contains("entries 4..<9 (the first 4 still match)"), "\(narrowed)")
        Self.expectFailure(rewritten, seq: nil, code: .checkpoint, verifier: Verifier(checkpoints: [late]))
        let wide = Verifier(checkpoints: [late]).verify(leaves: rewritten).failure?.reason ?? ""
        #expect(wide.contains("somewhere in entries 0..<9"), "\(wide)")
        // Where the matching and differing heads are one entry apart, that entry is named.
        let eight = try Self.checkpoint(of: Array(leaves.prefix(8)))
        var last = Array(leaves.prefix(8))
        let lastState = Verifier().verify(leaves: last).state
        last.append(try Self.forged(after: lastState, data: ["text": "rewritten last"], by: TestKeys.pipeline))
        Self.expectFailure(last, seq: 8, code: .checkpoint, verifier: Verifier(checkpoints: [eight, late]))
    }

    @Test("a store's index columns are checked against the signed bytes in the same pass, each at its seq")
    func storedColumns() async throws {
        let (leaves, _) = try await Self.validLog()
        let entries = try leaves.map { LogEntry(try SignedEvent(leaf: $0)) }
        #expect(Verifier().verify(entries: entries).isVerified)
        var edits: [(Int, (inout LogEntry) -> Void)] = [
            (3, { $0.type = "note.added" }), (5, { $0.actor = String(repeating: "0", count: 64) }),
            (2, { $0.time = Timestamp(millisecondsSinceEpoch: 0) }), (4, { $0.seq = 40 }),
        ]
        edits.append((6, { $0.leafHash = MerkleTree.leafHash([0x00]) }))
        for (seq, edit) in edits {
            var edited = entries
            edit(&edited[seq])
            if edited[seq] == entries[seq] { continue }  // the edit left the column as it was
            let report = Verifier().verify(entries: edited)
            #expect(report.failure?.seq == UInt64(seq), "\(report.failure?.description ?? "verified")")
            #expect(report.failure?.code == .storage)
            #expect(report.failure?.reason.contains("the database was edited") == true)
        }
    }

    @Test("known heads kept outside the log: a shorter log names both sizes, another root is a rewrite")
    func knownHeads() async throws {
        let (leaves, _) = try await Self.validLog()
        let root = MerkleTree.root(of: leaves.map { MerkleTree.leafHash($0) })
        let head = KnownHead(size: UInt64(leaves.count), root: root, source: "the head record")
        #expect(Verifier(heads: [head]).verify(leaves: leaves).isVerified)
        let truncated = Verifier(heads: [head]).verify(leaves: Array(leaves.prefix(5)))
        #expect(truncated.failure?.code == .checkpoint)
        #expect(truncated.failure?.seq == 5)
        #expect(truncated.failure?.reason.contains("the log has 5 entries, but the head record holds 9") == true)
        var flipped = root.bytes
        flipped[0] ^= 1
        let other = KnownHead(size: UInt64(leaves.count), root: try #require(Hash256(bytes: flipped)), source: "x")
        Self.expectFailure(leaves, seq: nil, code: .checkpoint, verifier: Verifier(heads: [other]))
        // Every entry dropped from the end, one at a time, is caught.
        for size in 1..<leaves.count {
            let report = Verifier(heads: [head]).verify(leaves: Array(leaves.prefix(size)))
            #expect(report.failure?.seq == UInt64(size))
        }
    }

    @Test("a checkpoint signed by a key that is not a log key is refused")
    func foreignCheckpointSigner() async throws {
        let (leaves, _) = try await Self.validLog()
        let root = MerkleTree.root(of: leaves.map { MerkleTree.leafHash($0) })
        var note = SignedNote(text: Checkpoint(origin: TestLogs.logID, size: 9, root: root).text, signatures: [])
        try note.addSignature(by: try NoteSigner(name: TestLogs.logID, privateKey: TestKeys.admin.cryptoKey))
        Self.expectFailure(leaves, seq: nil, code: .checkpoint, verifier: Verifier(checkpoints: [note.serialized]))
    }

    @Test("an empty log, a missing genesis and garbage bytes")
    func degenerateInputs() async throws {
        let (leaves, _) = try await Self.validLog()
        Self.expectFailure([], seq: nil, code: .malformed)
        Self.expectFailure(Array(leaves.dropFirst()), seq: 0, code: .unknownKey)
        Self.expectFailure([Array("not json".utf8)], seq: 0, code: .malformed)
        Self.expectFailure([leaves[0], []], seq: 1, code: .malformed)
    }
}
