public import LedgerCore

// C2SP tlog-policy (https://c2sp.org/tlog-policy): which logs sign checkpoints, which witnesses cosign them, and the
// quorum of witnesses a checkpoint needs before it counts.

extension LedgerError.Code {
    /// A tlog-policy file that cannot be parsed or breaks one of the specification's rules.
    public static let witnessPolicy = Self(rawValue: "witness.policy")
    /// A cosignature from a witness the policy knows (its name and key ID match) that does not verify.
    public static let badCosignature = Self(rawValue: "witness.badCosignature")
    /// A checkpoint whose valid cosignatures do not meet the policy's quorum.
    public static let witnessQuorum = Self(rawValue: "witness.quorum")
}

/// A parsed C2SP tlog-policy: the known logs, the known witnesses, their groups and the quorum.
///
/// A checkpoint counts under the policy when it is signed by one of the logs (whose key name is the checkpoint's
/// origin) and its valid cosignatures meet the quorum; see ``evaluate(_:knownLogs:)``. Names of witnesses and groups
/// are compared as bytes, never as Unicode text, as the specification requires.
public struct WitnessPolicy: Sendable, Hashable {
    /// A log the policy accepts checkpoints from.
    public struct Log: Sendable, Hashable {
        /// The log's key; its name is the log's origin.
        public let verifier: NoteVerifier
        /// The log's URL, when the policy gives one; its meaning is up to the application.
        public let url: String?
    }

    /// A witness the policy knows.
    public struct Witness: Sendable, Hashable {
        /// The witness's name in the policy file (used only inside the policy).
        public let name: String
        /// The witness's cosigner key (`cosignature/v1`, vkey type 0x04).
        public let verifier: CosignatureVerifier
        /// The witness's submission prefix URL (tlog-witness), when the policy gives one.
        public let url: String?
    }

    /// A member of a group, or the quorum: a witness or a group, by index.
    public enum Member: Sendable, Hashable {
        /// The witness at this index of ``witnesses``.
        case witness(Int)
        /// The group at this index of ``groups``.
        case group(Int)
    }

    /// A group that has witnessed a checkpoint when at least `threshold` of its members have.
    public struct Group: Sendable, Hashable {
        /// The group's name in the policy file.
        public let name: String
        /// How many members must have witnessed: 1 for `any`, the member count for `all`.
        public let threshold: Int
        /// The members, in the order the policy lists them; each at most once.
        public let members: [Member]
    }

    /// The most logs a policy may list.
    public static let maximumLogs = 32
    /// The most witnesses a policy may list.
    public static let maximumWitnesses = 32
    /// The most groups a policy may define.
    public static let maximumGroups = 32
    /// The largest policy file accepted, in bytes.
    public static let maximumFileSize = 64 * 1024

    /// The logs, in file order; may be empty when the log is known from context.
    public let logs: [Log]
    /// The witnesses, in file order.
    public let witnesses: [Witness]
    /// The groups, in file order; a group refers only to witnesses and groups defined before it.
    public let groups: [Group]
    /// The quorum: nil for `quorum none` (no cosignature needed), else a witness or a group.
    public let quorum: Member?

    /// Parses a policy file's text.
    ///
    /// - Throws: as ``init(bytes:)``.
    public init(text: String) throws(LedgerError) {
        try self.init(bytes: Array(text.utf8))
    }

    /// Parses a policy file.
    ///
    /// Lines end with a newline (the last one may lack it); items are separated by runs of spaces and tabs; blank
    /// lines and lines whose first item starts with `#` are ignored. The lines are `log <vkey> [<url>]`,
    /// `witness <name> <vkey> [<url>]`, `group <name> all|any|<k> <name>...` and exactly one `quorum <name>|none`.
    ///
    /// - Throws: `witness.policy`, naming the line, for: a file over ``maximumFileSize`` bytes; a control character
    ///   other than tab and newline, or DEL; an unknown keyword or a wrong number of items; a log vkey that is not an
    ///   Ed25519 note key (type 0x01) or a witness vkey that is not an Ed25519 cosigner key (type 0x04); a vkey or
    ///   URL that is not UTF-8; two logs or two witnesses with the same public key, or a key that is both a log's and
    ///   a witness's (a log cannot witness itself); a name defined twice or the name `none`; a group member or quorum
    ///   that is not defined on an earlier line, a member listed twice, `none` as a member, a threshold that is not
    ///   decimal without leading zeros in 1...n; more than 32 logs, witnesses or groups; no quorum line or more than
    ///   one.
    public init(bytes: some Collection<UInt8>) throws(LedgerError) {
        let file = Array(bytes)
        guard file.count <= Self.maximumFileSize else {
            throw policyError(nil, "the file has \(file.count) bytes; at most \(Self.maximumFileSize) are accepted")
        }
        var parser = PolicyParser()
        var lines = file.split(separator: 0x0A, omittingEmptySubsequences: false)
        if file.last == 0x0A { lines.removeLast() }
        for (index, line) in lines.enumerated() {
            try parser.parse(line: line, number: index + 1)
        }
        guard let quorum = parser.quorum else {
            throw policyError(nil, "the policy has no quorum line (write `quorum none` to need no cosignature)")
        }
        self.logs = parser.logs
        self.witnesses = parser.witnesses
        self.groups = parser.groups
        self.quorum = quorum
    }

    /// The witnesses the quorum can use (those reachable from it through groups), in file order; empty for
    /// `quorum none`. A log that collects cosignatures asks these, at their ``Witness/url``.
    public var quorumWitnesses: [Witness] {
        var reachable = Set<Int>()
        func visit(_ member: Member) {
            switch member {
            case .witness(let index): reachable.insert(index)
            case .group(let index): groups[index].members.forEach(visit)
            }
        }
        if let quorum { visit(quorum) }
        return witnesses.indices.filter(reachable.contains).map { witnesses[$0] }
    }

    /// The policy's logs whose key name is `origin` (compared as bytes).
    public func logs(forOrigin origin: String) -> [Log] {
        logs.filter { $0.verifier.name.utf8.elementsEqual(origin.utf8) }
    }

    /// Verifies a checkpoint's log signature and every cosignature from a known witness, and decides whether the
    /// quorum is met.
    ///
    /// The log signature must be by one of the policy's logs whose key name is the checkpoint's origin; a policy
    /// without log lines uses `knownLogs` instead (the log known from context), with the same name rule. Each
    /// signature line whose name and key ID match a known witness must be a valid `cosignature/v1` of this
    /// checkpoint's text; lines from unknown keys are ignored, and a witness that cosigned twice counts once.
    ///
    /// - Returns: the verdict, met or not; a quorum that is not met is a value, not an error.
    /// - Throws: `chain.checkpoint` when the text is not a checkpoint, no acceptable log key exists for its origin,
    ///   or the log signature is missing or invalid; `witness.badCosignature` when a line that names a known witness
    ///   (its name and key ID) does not verify, because then the note is bad.
    public func evaluate(_ note: SignedNote, knownLogs: [NoteVerifier] = []) throws(LedgerError) -> QuorumVerdict {
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint(text: note.text)
        } catch {
            throw LedgerError(.checkpoint, "the note is not a checkpoint: \(error.reason)")
        }
        let candidates = (logs.isEmpty ? knownLogs : logs.map(\.verifier)).filter {
            $0.name.utf8.elementsEqual(checkpoint.origin.utf8)
        }
        guard !candidates.isEmpty else {
            throw LedgerError(
                .checkpoint,
                "the policy names no log with origin \"\(checkpoint.origin)\", so no checkpoint of it can count"
            )
        }
        let signers: [NoteVerifier]
        do {
            signers = try note.verify(with: candidates)
        } catch {
            throw LedgerError(
                .checkpoint,
                error.code == "note.noKnownSignature"
                    ? "the checkpoint of \"\(checkpoint.origin)\" is not signed by a log key the policy accepts"
                    : "the checkpoint's log signature does not verify: \(error.reason)"
            )
        }
        guard let signer = signers.first else {
            throw LedgerError(.checkpoint, "the checkpoint is not signed by a log key the policy accepts")
        }
        var timestamps = [UInt64?](repeating: nil, count: witnesses.count)
        for signature in note.signatures {
            for (index, witness) in witnesses.enumerated() where witness.verifier.matches(signature) {
                guard let timestamp = witness.verifier.timestamp(of: signature, on: note.text) else {
                    throw LedgerError(
                        .badCosignature,
                        "the cosignature of witness \(witness.name) (\(signature.name)) does not verify for this "
                            + "checkpoint: the note is bad"
                    )
                }
                if timestamps[index] == nil { timestamps[index] = timestamp }
            }
        }
        let cosignatures = witnesses.indices.compactMap { index in
            timestamps[index].map { WitnessCosignature(witness: witnesses[index], timestamp: $0) }
        }
        var unmet: [String] = []
        var missing = Set<Int>()
        let isMet = quorum.map { witnessed($0, timestamps: timestamps, unmet: &unmet, missing: &missing) } ?? true
        return QuorumVerdict(
            checkpoint: checkpoint,
            log: signer,
            cosignatures: cosignatures,
            isMet: isMet,
            missingWitnesses: missing.sorted().map { witnesses[$0].name },
            unmetGroups: unmet
        )
    }

    /// Whether `member` witnessed, given each witness's verified timestamp. When it did not, appends to `unmet` each
    /// group below it that fell short, and to `missing` the witnesses of those groups that did not cosign.
    private func witnessed(
        _ member: Member,
        timestamps: [UInt64?],
        unmet: inout [String],
        missing: inout Set<Int>
    ) -> Bool {
        switch member {
        case .witness(let index):
            if timestamps[index] == nil { missing.insert(index) }
            return timestamps[index] != nil
        case .group(let index):
            let group = groups[index]
            var count = 0
            var groupUnmet: [String] = []
            var groupMissing = Set<Int>()
            for child in group.members
            where witnessed(child, timestamps: timestamps, unmet: &groupUnmet, missing: &groupMissing) {
                count += 1
            }
            guard count < group.threshold else { return true }
            unmet += groupUnmet
            unmet.append(
                "group \(group.name) needs \(group.threshold) of \(group.members.count) "
                    + "(\(group.members.map(name(of:)).joined(separator: ", "))) and has \(count)"
            )
            missing.formUnion(groupMissing)
            return false
        }
    }

    /// The policy name of a witness or group.
    public func name(of member: Member) -> String {
        switch member {
        case .witness(let index): witnesses[index].name
        case .group(let index): groups[index].name
        }
    }
}

/// One witness's verified cosignature.
public struct WitnessCosignature: Sendable, Hashable {
    /// The witness, as the policy defines it.
    public let witness: WitnessPolicy.Witness
    /// When the witness cosigned, POSIX seconds, as its signature states.
    public let timestamp: UInt64
}

/// What a policy says of one checkpoint: who signed and cosigned it, and whether the quorum is met.
public struct QuorumVerdict: Sendable, Hashable {
    /// The checkpoint's body.
    public let checkpoint: Checkpoint
    /// The log key whose signature verified.
    public let log: NoteVerifier
    /// The known witnesses whose cosignatures verified, each once, in policy order.
    public let cosignatures: [WitnessCosignature]
    /// Whether the cosignatures meet the quorum.
    public let isMet: Bool
    /// When the quorum is not met: the witnesses the quorum could use that did not cosign, by policy name.
    public let missingWitnesses: [String]
    /// When the quorum is not met: each group that fell short, described (`group X needs 2 of 3 (...) and has 1`).
    public let unmetGroups: [String]

    /// One sentence: which witnesses cosigned, and why the quorum is not met if it is not.
    public var explanation: String {
        let cosigned =
            cosignatures.isEmpty
            ? "no known witness cosigned"
            : "cosigned by "
                + cosignatures.map(\.witness.name)
                .joined(separator: ", ")
        guard !isMet else { return "the quorum is met (\(cosigned))" }
        var text = "the quorum is not met (\(cosigned))"
        if !missingWitnesses.isEmpty { text += "; missing: " + missingWitnesses.joined(separator: ", ") }
        if !unmetGroups.isEmpty { text += "; " + unmetGroups.joined(separator: "; ") }
        return text
    }

    /// Returns the verdict when the quorum is met.
    ///
    /// - Throws: `witness.quorum` with ``explanation`` when it is not.
    @discardableResult
    public func requireQuorum() throws(LedgerError) -> QuorumVerdict {
        guard isMet else {
            throw LedgerError(
                .witnessQuorum,
                "the checkpoint of size \(checkpoint.size) does not count: \(explanation)"
            )
        }
        return self
    }
}

// MARK: - Parsing

private func policyError(_ line: Int?, _ reason: String) -> LedgerError {
    LedgerError(.witnessPolicy, "witness policy: " + (line.map { "line \($0): " } ?? "") + reason)
}

/// The parser's state between lines.
private struct PolicyParser {
    var logs: [WitnessPolicy.Log] = []
    var witnesses: [WitnessPolicy.Witness] = []
    var groups: [WitnessPolicy.Group] = []
    var quorum: WitnessPolicy.Member??
    /// Every defined name, as bytes: witnesses and groups share one namespace.
    var names: [[UInt8]: WitnessPolicy.Member] = [:]

    mutating func parse(line: ArraySlice<UInt8>, number: Int) throws(LedgerError) {
        if let bad = line.first(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
            throw policyError(
                number,
                "control character 0x\(String(bad, radix: 16)) (only tab and newline are allowed)"
            )
        }
        let items = line.split(omittingEmptySubsequences: true) { $0 == 0x20 || $0 == 0x09 }
        guard let keyword = items.first, keyword.first != UInt8(ascii: "#") else { return }
        let arguments = Array(items.dropFirst())
        switch String(decoding: keyword, as: UTF8.self) {
        case "log": try parseLog(arguments, line: number)
        case "witness": try parseWitness(arguments, line: number)
        case "group": try parseGroup(arguments, line: number)
        case "quorum": try parseQuorum(arguments, line: number)
        default:
            throw policyError(number, "unknown keyword (expected log, witness, group, quorum or a # comment)")
        }
    }

    private mutating func parseLog(_ items: [ArraySlice<UInt8>], line: Int) throws(LedgerError) {
        guard (1...2).contains(items.count) else { throw policyError(line, "expected `log <vkey> [<url>]`") }
        guard logs.count < WitnessPolicy.maximumLogs else {
            throw policyError(line, "more than \(WitnessPolicy.maximumLogs) logs")
        }
        let vkey = try text(items[0], line: line, what: "the vkey")
        let verifier: NoteVerifier
        do {
            verifier = try NoteVerifier(verifierKey: vkey)
        } catch {
            throw policyError(line, "a log needs an Ed25519 note vkey (type 0x01): \(error.reason)")
        }
        try checkNewKey(verifier.publicKey, line: line)
        logs.append(
            .init(verifier: verifier, url: try items.count == 2 ? text(items[1], line: line, what: "the URL") : nil)
        )
    }

    private mutating func parseWitness(_ items: [ArraySlice<UInt8>], line: Int) throws(LedgerError) {
        guard (2...3).contains(items.count) else {
            throw policyError(line, "expected `witness <name> <vkey> [<url>]`")
        }
        guard witnesses.count < WitnessPolicy.maximumWitnesses else {
            throw policyError(line, "more than \(WitnessPolicy.maximumWitnesses) witnesses")
        }
        let name = try newName(items[0], line: line)
        let vkey = try text(items[1], line: line, what: "the vkey")
        let verifier: CosignatureVerifier
        do {
            verifier = try CosignatureVerifier(verifierKey: vkey)
        } catch {
            throw policyError(line, "a witness needs an Ed25519 cosigner vkey (type 0x04): \(error.reason)")
        }
        try checkNewKey(verifier.publicKey, line: line)
        names[Array(items[0])] = .witness(witnesses.count)
        witnesses.append(
            .init(
                name: name,
                verifier: verifier,
                url: try items.count == 3 ? text(items[2], line: line, what: "the URL") : nil
            )
        )
    }

    private mutating func parseGroup(_ items: [ArraySlice<UInt8>], line: Int) throws(LedgerError) {
        guard items.count >= 3 else { throw policyError(line, "expected `group <name> all|any|<k> <name>...`") }
        guard groups.count < WitnessPolicy.maximumGroups else {
            throw policyError(line, "more than \(WitnessPolicy.maximumGroups) groups")
        }
        let name = try newName(items[0], line: line)
        var members: [WitnessPolicy.Member] = []
        for item in items.dropFirst(2) {
            guard !item.elementsEqual("none".utf8) else {
                throw policyError(line, "`none` cannot be a group member")
            }
            guard let member = names[Array(item)] else {
                throw policyError(
                    line,
                    "group member \"\(String(decoding: item, as: UTF8.self))\" is not defined above"
                )
            }
            guard !members.contains(member) else {
                throw policyError(line, "group member \"\(String(decoding: item, as: UTF8.self))\" is listed twice")
            }
            members.append(member)
        }
        let threshold: Int
        switch String(decoding: items[1], as: UTF8.self) {
        case "all": threshold = members.count
        case "any": threshold = 1
        default:
            let digits = items[1]
            guard digits.count <= 3, digits.allSatisfy({ (0x30...0x39).contains($0) }), digits.first != 0x30,
                let value = Int(String(decoding: digits, as: UTF8.self)), (1...members.count).contains(value)
            else {
                throw policyError(
                    line,
                    "the threshold must be all, any or a decimal k with 1 <= k <= \(members.count) (the member count)"
                )
            }
            threshold = value
        }
        names[Array(items[0])] = .group(groups.count)
        groups.append(.init(name: name, threshold: threshold, members: members))
    }

    private mutating func parseQuorum(_ items: [ArraySlice<UInt8>], line: Int) throws(LedgerError) {
        guard items.count == 1 else { throw policyError(line, "expected `quorum <name>` or `quorum none`") }
        guard quorum == nil else { throw policyError(line, "a second quorum line (a policy has exactly one)") }
        if items[0].elementsEqual("none".utf8) {
            quorum = .some(nil)
            return
        }
        guard let member = names[Array(items[0])] else {
            throw policyError(line, "the quorum \"\(String(decoding: items[0], as: UTF8.self))\" is not defined above")
        }
        quorum = .some(member)
    }

    /// A name not yet defined, and not `none`.
    private func newName(_ item: ArraySlice<UInt8>, line: Int) throws(LedgerError) -> String {
        let display = String(decoding: item, as: UTF8.self)
        guard !item.elementsEqual("none".utf8) else { throw policyError(line, "`none` is a reserved name") }
        guard names[Array(item)] == nil else { throw policyError(line, "the name \"\(display)\" is defined twice") }
        return display
    }

    /// Refuses a public key that a log or witness above already has.
    private func checkNewKey(_ key: [UInt8], line: Int) throws(LedgerError) {
        if logs.contains(where: { $0.verifier.publicKey == key }) {
            throw policyError(line, "this public key is already a log's key above")
        }
        if witnesses.contains(where: { $0.verifier.publicKey == key }) {
            throw policyError(line, "this public key is already a witness's key above")
        }
    }

    private func text(_ item: ArraySlice<UInt8>, line: Int, what: String) throws(LedgerError) -> String {
        guard let text = String(validating: item, as: UTF8.self) else {
            throw policyError(line, "\(what) is not valid UTF-8")
        }
        return text
    }
}
