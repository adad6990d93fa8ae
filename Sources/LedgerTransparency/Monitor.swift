import Foundation
public import LedgerCore

// A monitor of a log published as C2SP tlog-tiles: it follows the checkpoint, checks that every new checkpoint is
// consistent with the last one it accepted, verifies the entries with the same verifier as `ledger verify`, and reports
// what a human should see (key, policy and deployment changes) and what must raise an alarm.

/// What a monitor remembers between polls: the last checkpoint it accepted. Saved as JSON by `MonitorStateFile`.
public struct MonitorState: Codable, Sendable, Hashable {
    /// The log's origin.
    public var origin: String
    /// The accepted checkpoint's size.
    public var size: UInt64
    /// Its root, lowercase hex.
    public var root: String
    /// The accepted checkpoint note, verbatim (with its cosignatures).
    public var checkpoint: String

    public init(origin: String, size: UInt64, root: String, checkpoint: String) {
        self.origin = origin
        self.size = size
        self.root = root
        self.checkpoint = checkpoint
    }
}

/// Why a monitor raises an alarm. Each is a reason for a human to stop trusting the published log until explained.
public enum MonitorAlarm: String, Sendable, Hashable, CaseIterable {
    /// The new checkpoint's tree does not contain the accepted one (a split view or a rewritten history), or it names
    /// another origin.
    case fork
    /// The new checkpoint is smaller than the accepted one: entries were deleted.
    case truncation
    /// The checkpoint does not parse, is not signed by a log key in force at its size, or its tiles do not hash to
    /// its root.
    case badCheckpoint
    /// An entry is signed by a key the log never added (or the genesis is not the trusted one).
    case unknownKey
    /// An entry breaks a rule of the log: a bad signature, a broken chain, a role or governance rule.
    case ruleBroken
    /// The checkpoint does not carry the cosignatures the witness policy asks for.
    case noQuorum
}

/// One line of a monitor's output.
public enum MonitorFinding: Sendable, Hashable {
    /// An accepted checkpoint.
    case checkpoint(size: UInt64, root: Hash256, cosigners: [String])
    /// A new entry worth a human's attention.
    case event(seq: UInt64, type: String, time: String, actor: String, summary: String)
    /// A reason to stop trusting the log.
    case alarm(MonitorAlarm, seq: UInt64?, reason: String)

    /// The finding as one JSON object: `{"kind":"checkpoint"|"event"|"alarm", …}`.
    public var jsonValue: JSONValue {
        switch self {
        case .checkpoint(let size, let root, let cosigners):
            [
                "kind": "checkpoint", "size": .int(size), "root": .string(root.hex),
                "cosigners": .array(cosigners.map { .string($0) }),
            ]
        case .event(let seq, let type, let time, let actor, let summary):
            [
                "kind": "event", "seq": .int(seq), "type": .string(type), "time": .string(time),
                "actor": .string(actor), "summary": .string(summary),
            ]
        case .alarm(let alarm, let seq, let reason):
            [
                "kind": "alarm", "alarm": .string(alarm.rawValue), "seq": seq.map { .int($0) } ?? .null,
                "reason": .string(reason),
            ]
        }
    }

    /// Whether this finding is an alarm.
    public var isAlarm: Bool {
        if case .alarm = self { return true }
        return false
    }
}

/// The outcome of one poll: what was found, and the state to keep (unchanged when anything raised an alarm, so the
/// alarm repeats until a human looks).
public struct MonitorPoll: Sendable {
    public var findings: [MonitorFinding]
    public var state: MonitorState?
    /// Entries verified in this poll.
    public var verifiedEntries: UInt64
    /// New entries since the accepted checkpoint.
    public var newEntries: UInt64

    /// Whether any finding is an alarm.
    public var hasAlarm: Bool { findings.contains(where: \.isAlarm) }
}

/// Follows one published log.
///
/// Each poll reads the published checkpoint, authenticates the tiles against its root (`TiledTree`), checks that the
/// tree contains the last accepted checkpoint's tree (the root of its first `size` leaves, recomputed from the new
/// tiles, must be the accepted root), reads every entry from the entry bundles (each checked against its leaf hash)
/// and replays them with `Verifier`, anchored at the trusted genesis and with the new checkpoint, whose signature it
/// checks against the log keys in force at its size. With a policy, the checkpoint counts only when its quorum of
/// cosignatures verifies. The replay starts at seq 0 on every poll that finds new entries: O(log size) memory is the
/// performance issue's goal, not this one's.
public struct Monitor: Sendable {
    /// The genesis leaf hash the log must start with.
    public var trustedGenesis: Hash256
    /// The witness policy a checkpoint must meet, if any.
    public var policy: WitnessPolicy?

    /// The event types a human should see: the keyring, the governance policy and what serves production.
    public static let notableTypes: Set<EventType> = [
        .keyAdded, .keyRevoked, .policySet, .modelApproved, .modelRejected, .modelDeployed, .modelRolledBack,
        .modelRetired,
    ]

    public init(trustedGenesis: Hash256, policy: WitnessPolicy? = nil) {
        self.trustedGenesis = trustedGenesis
        self.policy = policy
    }

    /// Polls `source` once against the accepted `state` (nil on the first poll).
    ///
    /// - Throws: `LedgerError` only when the source cannot be read at all (no checkpoint published yet, a network or
    ///   file error); everything the published bytes get wrong is an alarm in the result.
    public func poll(source: any TileSource, state: MonitorState?) async throws(LedgerError) -> MonitorPoll {
        guard let text = try await source.checkpoint() else {
            throw LedgerError(.invalidArgument, "no checkpoint is published there yet")
        }
        func alarm(_ kind: MonitorAlarm, _ reason: String, seq: UInt64? = nil) -> MonitorPoll {
            MonitorPoll(
                findings: [.alarm(kind, seq: seq, reason: reason)],
                state: state,
                verifiedEntries: 0,
                newEntries: 0
            )
        }
        let note: SignedNote
        let checkpoint: Checkpoint
        do {
            note = try SignedNote.parse(text)
            checkpoint = try Checkpoint(text: note.text)
        } catch {
            return alarm(.badCheckpoint, "the published checkpoint does not parse: \(error.reason)")
        }
        if let state {
            guard checkpoint.origin.utf8.elementsEqual(state.origin.utf8) else {
                return alarm(.fork, "the checkpoint names origin \"\(checkpoint.origin)\", not \"\(state.origin)\"")
            }
            guard checkpoint.size >= state.size else {
                return alarm(
                    .truncation,
                    "the log shrank from \(state.size) to \(checkpoint.size) entries since the accepted checkpoint"
                )
            }
            if checkpoint.size == state.size {
                guard checkpoint.root.hex == state.root else {
                    return alarm(.fork, "two checkpoints of size \(state.size) have different roots")
                }
                return MonitorPoll(findings: [], state: state, verifiedEntries: 0, newEntries: 0)
            }
        }
        var tree: TiledTree
        do {
            tree = try await TiledTree.open(source: source, size: checkpoint.size, root: checkpoint.root)
        } catch {
            return alarm(.badCheckpoint, "the tiles do not match the checkpoint: \(error.reason)")
        }
        if let state {
            let oldRoot: Hash256
            do {
                oldRoot = try await tree.root(ofSize: state.size)
            } catch {
                return alarm(.badCheckpoint, "the tiles cannot prove the accepted size \(state.size): \(error.reason)")
            }
            guard oldRoot.hex == state.root else {
                return alarm(
                    .fork,
                    "the tree of size \(checkpoint.size) does not contain the accepted tree of size \(state.size): "
                        + "its first \(state.size) entries hash to \(oldRoot.hex.prefix(16))…, not \(state.root.prefix(16))…"
                )
            }
        }
        var leaves: [[UInt8]] = []
        leaves.reserveCapacity(Int(checkpoint.size))
        let bundles = (checkpoint.size + UInt64(TilePath.fullWidth) - 1) / UInt64(TilePath.fullWidth)
        for bundle in 0..<bundles {
            do {
                leaves.append(contentsOf: try await tree.entries(bundle: bundle))
            } catch {
                return alarm(.badCheckpoint, "entry bundle \(bundle): \(error.reason)")
            }
        }
        let report = Verifier(trustedGenesis: trustedGenesis, checkpoints: [text]).verify(leaves: leaves)
        if let failure = report.failure {
            let kind: MonitorAlarm =
                switch failure.code {
                case .unknownKey, .trustAnchor: .unknownKey
                case .checkpoint: .badCheckpoint
                default: .ruleBroken
                }
            return alarm(kind, "\(failure.code.rawValue): \(failure.reason)", seq: failure.seq)
        }
        var cosigners: [String] = []
        if let policy {
            let verdict: QuorumVerdict
            do {
                verdict = try policy.evaluate(note, knownLogs: logVerifiers(report.state, size: checkpoint.size))
            } catch {
                return alarm(.badCheckpoint, error.reason)
            }
            cosigners = verdict.cosignatures.map(\.witness.name)
            guard verdict.isMet else {
                return alarm(
                    .noQuorum,
                    "the checkpoint of size \(checkpoint.size) is cosigned by \(cosigners.isEmpty ? "no witness" : cosigners.joined(separator: ", ")), short of the policy's quorum"
                )
            }
        }
        var findings: [MonitorFinding] = [
            .checkpoint(size: checkpoint.size, root: checkpoint.root, cosigners: cosigners)
        ]
        let first = state?.size ?? 0
        for seq in first..<checkpoint.size {
            guard let signed = try? SignedEvent(leaf: leaves[Int(seq)]),
                let type = signed.event.eventType, Self.notableTypes.contains(type)
            else { continue }
            findings.append(
                .event(
                    seq: seq,
                    type: type.rawValue,
                    time: signed.event.time.description,
                    actor: signed.event.actor,
                    summary: Self.summary(of: signed.event, type: type)
                )
            )
        }
        let accepted = MonitorState(
            origin: checkpoint.origin,
            size: checkpoint.size,
            root: checkpoint.root.hex,
            checkpoint: text
        )
        return MonitorPoll(
            findings: findings,
            state: accepted,
            verifiedEntries: checkpoint.size,
            newEntries: checkpoint.size - first
        )
    }

    /// The log's `log`-role keys in force at `size`, as note verifiers named after the origin.
    private func logVerifiers(_ state: LedgerState, size: UInt64) -> [NoteVerifier] {
        state.logKeys(atSize: size).compactMap {
            try? NoteVerifier(name: state.logID ?? "", publicKey: $0.publicKey.rawRepresentation)
        }
    }

    /// One line for a human: what changed.
    static func summary(of event: Event, type: EventType) -> String {
        switch type {
        case .keyAdded:
            (try? event.decode(KeyAdded.self)).map {
                "key \($0.name) (\($0.keyid.prefix(16))…) added with roles \($0.roles.joined(separator: ", "))"
            } ?? "a key was added"
        case .keyRevoked:
            (try? event.decode(KeyRevoked.self)).map { "key \($0.keyid.prefix(16))… revoked: \($0.reason)" }
                ?? "a key was revoked"
        case .policySet: "the governance policy changed"
        default: type.rawValue
        }
    }
}

/// The monitor's state file: JSON, written atomically (temporary file, fsync, rename, fsync of the folder) so a crash
/// keeps the old state or the new one, never half of either.
public enum MonitorStateFile {
    /// The longest state file read: a state holds one checkpoint note.
    public static let maximumBytes = 256 * 1024

    /// The state at `path`, or nil when the file does not exist.
    ///
    /// - Throws: `argument.invalid` when the file exists but is not a monitor state (it is never silently reset).
    public static func load(_ path: String) throws(LedgerError) -> MonitorState? {
        let bytes: [UInt8]?
        do {
            bytes = try WitnessFiles.read(path, limit: maximumBytes)
        } catch {
            throw LedgerError(.invalidArgument, "cannot read the monitor state \(path): \(error.reason)")
        }
        guard let bytes else { return nil }
        do {
            return try JSONDecoder().decode(MonitorState.self, from: Data(bytes))
        } catch {
            throw LedgerError(
                .invalidArgument,
                "\(path) is not a monitor state file; move it away to start over from the published checkpoint"
            )
        }
    }

    /// Saves `state` at `path` atomically and durably.
    ///
    /// - Throws: `store.failure` if the file cannot be written.
    public static func save(_ state: MonitorState, to path: String) throws(LedgerError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data: Data
        do {
            data = try encoder.encode(state)
        } catch {
            throw LedgerError(.storage, "cannot encode the monitor state: \(error)")
        }
        do {
            try WitnessFiles.replace(path, with: Array(data))
        } catch {
            throw LedgerError(.storage, "cannot write the monitor state \(path): \(error.reason)")
        }
    }
}
