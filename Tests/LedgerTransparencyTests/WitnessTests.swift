import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import LedgerTransparency
import Testing

/// A log for the witness to see: leaves, a log key and an origin, with checkpoints and proofs of any prefix.
struct SimulatedLog {
    let origin: String
    let key: SigningKey
    var leafHashes: [Hash256]

    init(origin: String = "example.test/log", key: SigningKey = TestKeys.log, leaves: [String]) {
        self.origin = origin
        self.key = key
        self.leafHashes = leaves.map { MerkleTree.leafHash(Array($0.utf8)) }
    }

    /// Leaves `leaf-0` … `leaf-(count-1)`.
    init(origin: String = "example.test/log", key: SigningKey = TestKeys.log, count: Int) {
        self.init(origin: origin, key: key, leaves: (0..<count).map { "leaf-\($0)" })
    }

    var verifier: NoteVerifier {
        get throws { try NoteVerifier(name: origin, publicKey: key.publicKey.rawRepresentation) }
    }

    func checkpoint(size: Int) -> Checkpoint {
        Checkpoint(origin: origin, size: UInt64(size), root: MerkleTree.root(of: leafHashes.prefix(size)))
    }

    func note(size: Int, signedBy signer: SigningKey? = nil) throws -> SignedNote {
        var note = SignedNote(text: checkpoint(size: size).text, signatures: [])
        try note.addSignature(by: try NoteSigner(name: origin, privateKey: (signer ?? key).cryptoKey))
        return note
    }

    func proof(from old: Int, to new: Int) throws -> [Hash256] {
        try MerkleTree.consistencyProof(oldSize: old, leafHashes: leafHashes.prefix(new))
    }

    func request(old: Int, size: Int) throws -> AddCheckpointRequest {
        AddCheckpointRequest(
            oldSize: UInt64(old),
            proof: try proof(from: old, to: size),
            checkpoint: try note(size: size)
        )
    }
}

/// A witness in a fresh folder that trusts `logs`.
struct TestWitness {
    let folder: TemporaryFolder
    let witness: Witness
    let key: SigningKey

    static let clockStart = Timestamp(millisecondsSinceEpoch: 1_772_528_400_000)

    static func make(trusting logs: [NoteVerifier], name: String = "witness.test/w1") throws -> TestWitness {
        let folder = try TemporaryFolder("witness")
        let key = TestKeys.key("witness")
        try WitnessFolder(path: folder.path).create(WitnessConfiguration(name: name, logs: logs))
        return TestWitness(
            folder: folder,
            witness: try Witness(
                folder: WitnessFolder(path: folder.path),
                key: key,
                clock: SteppingClock(start: clockStart)
            ),
            key: key
        )
    }

    /// Another witness object on the same folder: what a second process would open.
    func reopened() throws -> Witness {
        try Witness(folder: WitnessFolder(path: folder.path), key: key, clock: SteppingClock(start: Self.clockStart))
    }

    func submit(_ request: AddCheckpointRequest) async throws -> AddCheckpointOutcome {
        try await witness.addCheckpoint(request.body)
    }

    /// The size and root the witness holds for `origin`, read back from its folder.
    func stored(_ origin: String) async throws -> Checkpoint? {
        guard let text = try await witness.cosignedCheckpoint(originHash: WitnessFolder.originHash(origin)) else {
            return nil
        }
        return try Checkpoint(text: try SignedNote.parse(text).text)
    }

    var checkpointFile: String {
        folder.path + "/checkpoints/" + WitnessFolder.originHash("example.test/log")
    }
}

extension AddCheckpointOutcome {
    var signatures: [NoteSignature]? {
        if case .cosigned(let signatures, _) = self { return signatures }
        return nil
    }
}

@Suite struct WitnessTests {
    @Test func cosignsAFirstCheckpointThenOnlyConsistentGrowth() async throws {
        let log = SimulatedLog(count: 40)
        let test = try TestWitness.make(trusting: [try log.verifier])
        let first = try await test.submit(try log.request(old: 0, size: 10))
        let signatures = try #require(first.signatures, "\(first)")
        #expect(signatures.count == 1)
        let stamp = test.witness.cosigner.timestamp(of: signatures[0], on: log.checkpoint(size: 10).text)
        #expect(stamp == UInt64(TestWitness.clockStart.millisecondsSinceEpoch / 1000))
        #expect(try await test.stored(log.origin) == log.checkpoint(size: 10))
        // The response body is exactly the signature lines.
        #expect(String(decoding: first.body, as: UTF8.self) == signatures[0].line)

        for (old, new) in [(10, 17), (17, 17), (17, 32), (32, 40)] {
            let outcome = try await test.submit(try log.request(old: old, size: new))
            #expect(outcome.name == "cosigned", "\(old) → \(new): \(outcome)")
            #expect(try await test.stored(log.origin)?.size == UInt64(new))
        }
    }

    @Test func theCosignatureIsForThisCheckpointOnly() async throws {
        let log = SimulatedLog(count: 8)
        let test = try TestWitness.make(trusting: [try log.verifier])
        let signatures = try #require(try await test.submit(try log.request(old: 0, size: 8)).signatures)
        let other = SimulatedLog(count: 7).checkpoint(size: 7).text
        #expect(test.witness.cosigner.timestamp(of: signatures[0], on: other) == nil)
        var flipped = signatures[0]
        flipped.signature[3] ^= 1
        #expect(test.witness.cosigner.timestamp(of: flipped, on: log.checkpoint(size: 8).text) == nil)
    }

    @Test func anUnknownOriginIs404() async throws {
        let known = SimulatedLog(count: 4)
        let test = try TestWitness.make(trusting: [try known.verifier])
        let stranger = SimulatedLog(origin: "example.test/other", count: 4)
        let outcome = try await test.submit(try stranger.request(old: 0, size: 4))
        #expect(outcome.name == "unknownOrigin")
        #expect(try await test.stored(stranger.origin) == nil)
    }

    @Test func noTrustedSignatureOrABadOneIs403() async throws {
        let log = SimulatedLog(count: 4)
        let test = try TestWitness.make(trusting: [try log.verifier])
        // Signed by another key under the log's name: its key ID differs, so it is ignored, leaving no trusted one.
        var request = try log.request(old: 0, size: 4)
        request.checkpoint = try log.note(size: 4, signedBy: TestKeys.outsider)
        #expect(try await test.submit(request).name == "forbidden")
        // A trusted key's signature with a bit flipped.
        var flipped = try log.request(old: 0, size: 4)
        flipped.checkpoint.signatures[0].signature[10] ^= 0x40
        #expect(try await test.submit(flipped).name == "forbidden")
        // The text changed under a valid signature.
        var changed = try log.request(old: 0, size: 4)
        changed.checkpoint.text = log.checkpoint(size: 3).text
        #expect(try await test.submit(changed).name == "forbidden")
        // An unknown key's signature beside the trusted one is ignored.
        var extra = try log.request(old: 0, size: 4)
        try extra.checkpoint.addSignature(
            by: try NoteSigner(name: "someone.else", privateKey: TestKeys.outsider.cryptoKey)
        )
        #expect(try await test.submit(extra).name == "cosigned")
        #expect(try await test.stored(log.origin)?.size == 4)
    }

    @Test func anOldSizeBeyondTheCheckpointIs400() async throws {
        let log = SimulatedLog(count: 10)
        let test = try TestWitness.make(trusting: [try log.verifier])
        let request = AddCheckpointRequest(oldSize: 11, proof: [], checkpoint: try log.note(size: 10))
        #expect(try await test.submit(request).name == "badRequest")
    }

    @Test(arguments: [
        "", "old 0", "old 0\n", "old 01\n\n", "old -1\n\n", "old +1\n\n", "old  1\n\n", "OLD 0\n\n",
        "old 9223372036854775808\n\n", "old 0\nnot base64\n\n", "old 0\nAAAA\n\n",
    ])
    func aBodyThatIsNotARequestIs400(_ head: String) async throws {
        let log = SimulatedLog(count: 4)
        let test = try TestWitness.make(trusting: [try log.verifier])
        let note = try log.note(size: 4).serialized
        let body = head.hasSuffix("\n\n") ? head + note : head
        #expect(try await test.witness.addCheckpoint(Array(body.utf8)).name == "badRequest", "\(head)")
        #expect(try await test.stored(log.origin) == nil)
    }

    @Test func requestBoundsAreEnforced() async throws {
        let log = SimulatedLog(count: 4)
        let note = try log.note(size: 4)
        let hash = Base64.encode([UInt8](repeating: 7, count: 32)) + "\n"
        let lines63 = "old 1\n" + String(repeating: hash, count: 63) + "\n" + note.serialized
        #expect(try AddCheckpointRequest.parse(Array(lines63.utf8)).proof.count == 63)
        let lines64 = "old 1\n" + String(repeating: hash, count: 64) + "\n" + note.serialized
        #expect(throws: LedgerError.self) { try AddCheckpointRequest.parse(Array(lines64.utf8)) }
        let huge = [UInt8]("old 0\n\n".utf8) + [UInt8](repeating: 0x41, count: AddCheckpointRequest.maximumBytes)
        #expect(throws: LedgerError.self) { try AddCheckpointRequest.parse(huge) }
        // A request round-trips byte for byte.
        let request = try log.request(old: 1, size: 4)
        #expect(try AddCheckpointRequest.parse(request.body) == request)
        #expect(try AddCheckpointRequest.parseHead(Array(request.head.utf8)) == (1, request.proof))
        #expect(try AddCheckpointRequest.parseHead(Array((request.head + "\n").utf8)) == (1, request.proof))
    }

    @Test func aWrongOldSizeIs409WithTheLatestSize() async throws {
        let log = SimulatedLog(count: 20)
        let test = try TestWitness.make(trusting: [try log.verifier])
        _ = try await test.submit(try log.request(old: 0, size: 12))
        for old in [0, 5, 11, 13] {
            let outcome = try await test.submit(try log.request(old: old, size: 20))
            #expect(outcome == .conflict(latestSize: 12), "old \(old)")
            #expect(String(decoding: outcome.body, as: UTF8.self) == "12\n")
        }
        #expect(try await test.stored(log.origin)?.size == 12)
    }

    @Test func badProofsAre422() async throws {
        let log = SimulatedLog(count: 50)
        let test = try TestWitness.make(trusting: [try log.verifier])
        _ = try await test.submit(try log.request(old: 0, size: 21))
        let good = try log.request(old: 21, size: 50)
        #expect(good.proof.count > 2)
        var broken: [AddCheckpointRequest] = []
        for index in good.proof.indices {
            var flipped = good
            var bytes = flipped.proof[index].bytes
            bytes[index % 32] ^= 1
            flipped.proof[index] = try #require(Hash256(bytes: bytes))
            broken.append(flipped)
        }
        var truncated = good
        truncated.proof.removeLast()
        var extended = good
        extended.proof.append(good.proof[0])
        var reordered = good
        reordered.proof.swapAt(0, 1)
        var empty = good
        empty.proof = []
        var otherSizes = good
        otherSizes.proof = try log.proof(from: 20, to: 50)
        broken += [truncated, extended, reordered, empty, otherSizes]
        for request in broken {
            #expect(try await test.submit(request).name == "unprocessable")
        }
        #expect(try await test.stored(log.origin)?.size == 21, "no refused request changed the state")
        #expect(try await test.submit(good).name == "cosigned")
    }

    @Test func aProofFromZeroAndAnEmptyTreeWithARootAre422() async throws {
        let log = SimulatedLog(count: 8)
        let test = try TestWitness.make(trusting: [try log.verifier])
        var fromZero = try log.request(old: 0, size: 8)
        fromZero.proof = [MerkleTree.leafHash([1])]
        #expect(try await test.submit(fromZero).name == "unprocessable")
        let wrongEmpty = Checkpoint(origin: log.origin, size: 0, root: MerkleTree.leafHash([1]))
        var note = SignedNote(text: wrongEmpty.text, signatures: [])
        try note.addSignature(by: try NoteSigner(name: log.origin, privateKey: log.key.cryptoKey))
        let outcome = try await test.submit(AddCheckpointRequest(oldSize: 0, proof: [], checkpoint: note))
        #expect(outcome.name == "unprocessable")
        // The empty tree itself is cosigned.
        #expect(try await test.submit(try log.request(old: 0, size: 0)).name == "cosigned")
    }

    @Test func aSplitViewIsRefused() async throws {
        // Two logs with one origin and one key, identical up to seq 29, different after.
        let common = (0..<30).map { "leaf-\($0)" }
        let honest = SimulatedLog(leaves: common + (30..<45).map { "honest-\($0)" })
        let forked = SimulatedLog(leaves: common + (30..<45).map { "forked-\($0)" })
        let test = try TestWitness.make(trusting: [try honest.verifier])
        #expect(try await test.submit(try honest.request(old: 0, size: 30)).name == "cosigned")
        #expect(try await test.submit(try honest.request(old: 30, size: 40)).name == "cosigned")
        // The fork at the same size: a different root.
        #expect(try await test.submit(try forked.request(old: 40, size: 40)).name == "unprocessable")
        // The fork grown past it, with the fork's own proof from 40.
        #expect(try await test.submit(try forked.request(old: 40, size: 45)).name == "unprocessable")
        // The fork claiming to extend the size both share: the witness is past it.
        #expect(try await test.submit(try forked.request(old: 30, size: 45)) == .conflict(latestSize: 40))
        #expect(try await test.stored(honest.origin) == honest.checkpoint(size: 40))
        // The honest log goes on.
        #expect(try await test.submit(try honest.request(old: 40, size: 45)).name == "cosigned")
    }

    @Test func aRewriteOrATruncationIsRefused() async throws {
        let log = SimulatedLog(count: 30)
        let test = try TestWitness.make(trusting: [try log.verifier])
        _ = try await test.submit(try log.request(old: 0, size: 30))
        // Rewritten from seq 0 and re-signed with the log key, at the same size and larger.
        let rewritten = SimulatedLog(leaves: (0..<35).map { "rewritten-\($0)" })
        #expect(try await test.submit(try rewritten.request(old: 30, size: 30)).name == "unprocessable")
        #expect(try await test.submit(try rewritten.request(old: 30, size: 35)).name == "unprocessable")
        #expect(try await test.submit(try rewritten.request(old: 0, size: 35)) == .conflict(latestSize: 30))
        // Truncated to 20: an old size of 30 is beyond the checkpoint, any other is a conflict.
        #expect(try await test.submit(try log.request(old: 0, size: 20)) == .conflict(latestSize: 30))
        let truncated = AddCheckpointRequest(oldSize: 30, proof: [], checkpoint: try log.note(size: 20))
        #expect(try await test.submit(truncated).name == "badRequest")
        #expect(try await test.stored(log.origin) == log.checkpoint(size: 30))
    }

    @Test func theStateIsOnDiskWhenTheAnswerIsGiven() async throws {
        let log = SimulatedLog(count: 9)
        let test = try TestWitness.make(trusting: [try log.verifier])
        let outcome = try await test.submit(try log.request(old: 0, size: 9))
        let signatures = try #require(outcome.signatures)
        // The file already holds the cosigned checkpoint: the log's signature and this very cosignature.
        let stored = try SignedNote.parse(try String(contentsOfFile: test.checkpointFile, encoding: .utf8))
        #expect(stored.text == log.checkpoint(size: 9).text)
        #expect(stored.signatures.contains(signatures[0]))
        #expect(try stored.verify(with: [try log.verifier]).count == 1)
        // A witness opened afresh on the folder (a restart) holds size 9.
        let restarted = try test.reopened()
        #expect(try await restarted.addCheckpoint(try log.request(old: 0, size: 9).body) == .conflict(latestSize: 9))
    }

    @Test func concurrentRequestsAreSerialised() async throws {
        let log = SimulatedLog(count: 200)
        let test = try TestWitness.make(trusting: [try log.verifier])
        _ = try await test.submit(try log.request(old: 0, size: 10))
        // Two witness objects on one folder: an actor each, so only the file lock stands between them, as between
        // two processes. Every round, all requests claim the same old size with different new sizes.
        let witnesses = [test.witness, try test.reopened()]
        var current = 10
        for round in 0..<8 {
            let sizes = (1...12).map { current + $0 + round }
            let outcomes = try await withThrowingTaskGroup(of: (Int, AddCheckpointOutcome).self) { group in
                for (index, size) in sizes.enumerated() {
                    let request = try log.request(old: current, size: size)
                    let witness = witnesses[index % 2]
                    group.addTask { (size, try await witness.addCheckpoint(request.body)) }
                }
                var all: [(Int, AddCheckpointOutcome)] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            let winners = outcomes.filter { $0.1.name == "cosigned" }
            #expect(winners.count == 1, "round \(round): \(outcomes.map(\.1.name))")
            let winner = try #require(winners.first?.0)
            #expect(outcomes.filter { $0.1.name == "conflict" }.count == sizes.count - 1)
            #expect(try await test.stored(log.origin)?.size == UInt64(winner))
            current = winner
        }
    }

    @Test(arguments: ["torn", "size", "root", "cosignature", "garbage", "empty", "origin"])
    func aTamperedOrTornStateIsRefusedNotReset(_ damage: String) async throws {
        let log = SimulatedLog(count: 16)
        let test = try TestWitness.make(trusting: [try log.verifier])
        _ = try await test.submit(try log.request(old: 0, size: 12))
        let file = test.checkpointFile
        var text = try String(contentsOfFile: file, encoding: .utf8)
        switch damage {
        case "torn": text = String(text.prefix(text.count / 2))
        case "size": text = text.replacingOccurrences(of: "\n12\n", with: "\n11\n")
        case "root":
            let root = Base64.encode(log.checkpoint(size: 12).root.bytes)
            text = text.replacingOccurrences(of: root, with: Base64.encode(log.checkpoint(size: 11).root.bytes))
        case "cosignature":
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var last = Array(lines[lines.count - 2].utf8)
            let at = last.count - 10
            last[at] = last[at] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            lines[lines.count - 2] = String(decoding: last, as: UTF8.self)
            text = lines.joined(separator: "\n")
        case "garbage": text = "not a checkpoint\n"
        case "empty": text = ""
        default: text = text.replacingOccurrences(of: "example.test/log\n", with: "example.test/lOg\n")
        }
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        await #expect(throws: LedgerError.self) {
            _ = try await test.submit(try log.request(old: 0, size: 16))
        }
        await #expect(throws: LedgerError.self) {
            _ = try await test.submit(try log.request(old: 12, size: 16))
        }
        await #expect(throws: LedgerError.self) {
            _ = try await test.witness.cosignedCheckpoint(originHash: WitnessFolder.originHash(log.origin))
        }
    }

    @Test func theMonitoringCheckpointCarriesBothSignatures() async throws {
        let log = SimulatedLog(count: 5)
        let test = try TestWitness.make(trusting: [try log.verifier])
        #expect(try await test.witness.cosignedCheckpoint(originHash: WitnessFolder.originHash(log.origin)) == nil)
        _ = try await test.submit(try log.request(old: 0, size: 5))
        let text = try #require(
            try await test.witness.cosignedCheckpoint(originHash: WitnessFolder.originHash(log.origin))
        )
        let note = try SignedNote.parse(text)
        #expect(try note.verify(with: [try log.verifier]).count == 1)
        #expect(note.signatures.contains { test.witness.cosigner.timestamp(of: $0, on: note.text) != nil })
        for bad in ["", "ABC", String(repeating: "A", count: 64), "../../etc/passwd"] {
            await #expect(throws: LedgerError.self) { _ = try await test.witness.cosignedCheckpoint(originHash: bad) }
        }
    }

    @Test func aLogAddedLaterIsTrustedAtOnce() async throws {
        let first = SimulatedLog(count: 3)
        let second = SimulatedLog(origin: "example.test/second", key: TestKeys.key("second"), count: 3)
        let test = try TestWitness.make(trusting: [try first.verifier])
        #expect(try await test.submit(try second.request(old: 0, size: 3)).name == "unknownOrigin")
        let folder = WitnessFolder(path: test.folder.path)
        #expect(try folder.addLog(try second.verifier))
        #expect(try !folder.addLog(try second.verifier), "a key already trusted is not added twice")
        #expect(try folder.configuration().logs.count == 2)
        #expect(try await test.submit(try second.request(old: 0, size: 3)).name == "cosigned")
    }

    @Test func aZeroTimestampIsNeverSigned() async throws {
        let log = SimulatedLog(count: 3)
        let test = try TestWitness.make(trusting: [try log.verifier])
        let stopped = try Witness(
            folder: WitnessFolder(path: test.folder.path),
            key: test.key,
            clock: SteppingClock(start: Timestamp(millisecondsSinceEpoch: 500), stepMilliseconds: 0)
        )
        await #expect(throws: LedgerError.self) {
            _ = try await stopped.addCheckpoint(try log.request(old: 0, size: 3))
        }
        #expect(try await test.stored(log.origin) == nil)
    }

    @Test func theConfigurationRefusesToBeOverwritten() throws {
        let folder = try TemporaryFolder("witness")
        let witnessFolder = WitnessFolder(path: folder.path)
        try witnessFolder.create(WitnessConfiguration(name: "witness.test/w1"))
        #expect(throws: LedgerError.self) { try witnessFolder.create(WitnessConfiguration(name: "witness.test/w2")) }
        #expect(try witnessFolder.configuration().name == "witness.test/w1")
        #expect(throws: LedgerError.self) { try WitnessFolder(path: folder.path + "/missing").configuration() }
    }
}
