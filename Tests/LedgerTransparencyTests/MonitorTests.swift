import Foundation
import LedgerCore
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import LedgerTransparency
import Testing

/// The monitor against logs built through the real append path, signed with the log key and published with
/// `TilePublisher` into scratch folders: it accepts a growing log and raises the alarms of issue 17 for a split view,
/// a truncation, a rewrite re-signed with the same keys, tampered bytes, a wrong anchor and a missing quorum.
@Suite struct MonitorTests {
    /// The witness of these tests.
    static func witness() throws -> CosignatureSigner {
        try CosignatureSigner(name: "witness.test/w1", privateKey: TestKeys.key("witness").cryptoKey)
    }

    /// A policy that accepts the test log's key and needs the witness's cosignature.
    static func policy() throws -> WitnessPolicy {
        let log = try NoteVerifier(name: TestLogs.logID, publicKey: TestKeys.log.publicKey.rawRepresentation)
        return try WitnessPolicy(
            text: """
                log \(log.verifierKey)
                witness w1 \(try witness().verifier.verifierKey)
                quorum w1

                """
        )
    }

    /// A published log: its store, folder and genesis.
    struct Published {
        let ledger: Ledger
        let store: InMemoryEventStore
        let folder: String
        var genesis: Hash256 { get async { await store.leafHashes(upTo: 1)[0] } }

        /// Signs a checkpoint of the whole log (cosigned by the witness when asked), keeps and publishes it.
        @discardableResult
        func publish(cosigned: Bool = false) async throws -> String {
            let size = await store.size()
            let hashes = await store.leafHashes(upTo: size)
            let checkpoint = Checkpoint(origin: TestLogs.logID, size: size, root: MerkleTree.root(of: hashes))
            var note = SignedNote(text: checkpoint.text, signatures: [])
            try note.addSignature(by: try NoteSigner(name: TestLogs.logID, privateKey: TestKeys.log.cryptoKey))
            if cosigned {
                note.signatures.append(
                    try MonitorTests.witness().cosign(checkpointText: note.text, timestamp: 1_780_000_000 + size)
                )
            }
            await store.keepCheckpoint(note.serialized, size: size)
            _ = try await TilePublisher(folder: folder).publish(store: store, checkpoint: note.serialized)
            // Cosignatures that arrive for a size already published replace the checkpoint file, as a log would.
            try Data(note.serialized.utf8).write(to: URL(fileURLWithPath: folder + "/checkpoint"))
            return note.serialized
        }

        func notes(_ texts: [String]) async throws {
            for text in texts { try await ledger.append([TestLogs.note(text)], signedBy: TestKeys.pipeline) }
        }
    }

    func published(_ name: String, notes: Int = 3) async throws -> Published {
        let store = InMemoryEventStore()
        let ledger = try await TestLogs.make(store: store, notes: notes)
        return Published(ledger: ledger, store: store, folder: try TestScratch.folder("monitor-\(name)"))
    }

    func alarms(_ poll: MonitorPoll) -> [MonitorAlarm] {
        poll.findings.compactMap {
            if case .alarm(let alarm, _, _) = $0 { return alarm }
            return nil
        }
    }

    @Test func followsAGrowingLogAndReportsOnlyNewNotableEvents() async throws {
        let log = try await published("growing")
        try await log.publish()
        let monitor = Monitor(trustedGenesis: await log.genesis)
        let source = FolderTileSource(folder: log.folder)

        let first = try await monitor.poll(source: source, state: nil)
        #expect(!first.hasAlarm)
        #expect(first.newEntries == 5)
        let events = first.findings.compactMap { finding -> String? in
            if case .event(_, let type, _, _, _) = finding { return type }
            return nil
        }
        #expect(events == ["key.added"])  // the pipeline key; notes are not notable

        try await log.notes(["a", "b"])
        let revoke = try EventDraft(KeyRevoked(keyid: TestKeys.pipeline.keyID, reason: "rotated"))
        try await log.ledger.append([revoke], signedBy: TestKeys.admin)
        try await log.publish()
        let second = try await monitor.poll(source: source, state: first.state)
        #expect(!second.hasAlarm)
        #expect(second.newEntries == 3)
        #expect(second.state?.size == 8)
        let newEvents = second.findings.compactMap { finding -> UInt64? in
            if case .event(let seq, _, _, _, _) = finding { return seq }
            return nil
        }
        #expect(newEvents == [7])

        // Nothing new: no findings, the same state.
        let third = try await monitor.poll(source: source, state: second.state)
        #expect(third.findings.isEmpty && third.state == second.state)
    }

    /// Two logs with one origin and one log key that diverge after seq 4: shown the second after the first, the
    /// monitor raises a fork alarm and keeps the state it had.
    @Test func aSplitViewIsAFork() async throws {
        let honest = try await published("split-a")
        let other = try await published("split-b")
        try await honest.notes(["shown to the auditor"])
        try await other.notes(["shown to the service", "and more"])
        try await honest.publish()
        try await other.publish()
        let monitor = Monitor(trustedGenesis: await honest.genesis)
        let seen = try await monitor.poll(source: FolderTileSource(folder: honest.folder), state: nil)
        #expect(!seen.hasAlarm)
        let forked = try await monitor.poll(source: FolderTileSource(folder: other.folder), state: seen.state)
        #expect(alarms(forked) == [.fork])
        #expect(forked.state == seen.state)
    }

    /// The whole history rewritten and re-signed with the same keys (the same genesis) after the monitor saw it.
    @Test func aRewrittenHistoryReSignedWithTheSameKeysIsAFork() async throws {
        let original = try await published("rewrite-a", notes: 6)
        try await original.publish()
        let rewritten = try await published("rewrite-b", notes: 2)
        try await rewritten.notes(["x", "y", "z", "w", "v", "u"])
        try await rewritten.publish()
        #expect(await original.genesis == (await rewritten.genesis))
        let monitor = Monitor(trustedGenesis: await original.genesis)
        let seen = try await monitor.poll(source: FolderTileSource(folder: original.folder), state: nil)
        let poll = try await monitor.poll(source: FolderTileSource(folder: rewritten.folder), state: seen.state)
        #expect(alarms(poll) == [.fork])
    }

    @Test func aDeletedTailIsATruncation() async throws {
        let long = try await published("long", notes: 6)
        try await long.publish()
        let short = try await published("short", notes: 2)
        try await short.publish()
        let monitor = Monitor(trustedGenesis: await long.genesis)
        let seen = try await monitor.poll(source: FolderTileSource(folder: long.folder), state: nil)
        let poll = try await monitor.poll(source: FolderTileSource(folder: short.folder), state: seen.state)
        #expect(alarms(poll) == [.truncation])
    }

    @Test func anotherGenesisIsAnUnknownKey() async throws {
        let log = try await published("anchor")
        try await log.publish()
        let poll = try await Monitor(trustedGenesis: Hash256.sha256([1])).poll(
            source: FolderTileSource(folder: log.folder),
            state: nil
        )
        #expect(alarms(poll) == [.unknownKey])
    }

    /// Bit flips in an entry bundle, a hash tile and the checkpoint's signature; a checkpoint signed by a key that is
    /// not the log's; a checkpoint replayed from another origin.
    @Test func tamperedBytesAreBadCheckpoints() async throws {
        let log = try await published("tamper")
        let note = try await log.publish()
        let genesis = await log.genesis
        let monitor = Monitor(trustedGenesis: genesis)
        func poll(after change: (inout [String: [UInt8]]) throws -> Void) async throws -> [MonitorAlarm] {
            var files = try Self.files(log.folder)
            try change(&files)
            return alarms(try await monitor.poll(source: InMemoryTileSource(files: files), state: nil))
        }
        #expect(try await poll { _ in } == [])
        #expect(try await poll { $0["tile/entries/000.p/5"]?[40] ^= 0x01 } == [.badCheckpoint])
        #expect(try await poll { $0["tile/0/000.p/5"]?[3] ^= 0x80 } == [.badCheckpoint])
        #expect(try await poll { $0["tile/entries/000.p/5"]?.removeLast() } == [.badCheckpoint])
        #expect(
            try await poll { files in
                var signed = try SignedNote.parse(note)
                signed.signatures[0].signature[10] ^= 0x01
                files["checkpoint"] = Array(signed.serialized.utf8)
            } == [.badCheckpoint]
        )
        #expect(
            try await poll { files in
                var signed = try SignedNote.parse(note)
                signed.signatures = []
                try signed.addSignature(
                    by: try NoteSigner(name: TestLogs.logID, privateKey: TestKeys.outsider.cryptoKey)
                )
                files["checkpoint"] = Array(signed.serialized.utf8)
            } == [.badCheckpoint]
        )
    }

    @Test func aPolicyNeedsItsQuorum() async throws {
        let log = try await published("quorum")
        try await log.publish()
        let monitor = Monitor(trustedGenesis: await log.genesis, policy: try Self.policy())
        let source = FolderTileSource(folder: log.folder)
        let bare = try await monitor.poll(source: source, state: nil)
        #expect(alarms(bare) == [.noQuorum])
        #expect(bare.state == nil)

        try await log.publish(cosigned: true)
        let cosigned = try await monitor.poll(source: source, state: nil)
        #expect(!cosigned.hasAlarm)
        #expect(
            cosigned.findings.first
                == .checkpoint(size: 5, root: try #require(Hash256(hex: cosigned.state?.root ?? "")), cosigners: ["w1"])
        )

        // A cosignature of another tree moved onto this checkpoint is a bad note, not a missing one.
        try await log.notes(["later"])
        let later = try await log.publish(cosigned: true)
        var files = try Self.files(log.folder)
        var moved = try SignedNote.parse(later)
        let older = try SignedNote.parse(try #require(cosigned.state?.checkpoint))
        moved.signatures[1] = older.signatures[1]
        files["checkpoint"] = Array(moved.serialized.utf8)
        let replayed = try await monitor.poll(source: InMemoryTileSource(files: files), state: cosigned.state)
        #expect(alarms(replayed) == [.badCheckpoint])
    }

    @Test func theStateFileRoundTripsAndRefusesGarbage() throws {
        let path = TestScratch.path("monitor-state", suffix: ".json")
        #expect(try MonitorStateFile.load(path) == nil)
        let state = MonitorState(origin: "o", size: 3, root: String(repeating: "ab", count: 32), checkpoint: "c")
        try MonitorStateFile.save(state, to: path)
        #expect(try MonitorStateFile.load(path) == state)
        try Data("{\"size\":".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: LedgerError.self) { try MonitorStateFile.load(path) }
    }

    static func files(_ folder: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder)
        while let path = enumerator?.nextObject() as? String {
            guard !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { continue }
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isFolder), !isFolder.boolValue
            {
                files[path] = Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + path)))
            }
        }
        return files
    }
}
