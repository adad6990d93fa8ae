public import LedgerCore
import LedgerStore

/// The administration use cases: keys and the policy (signed by an admin key), checkpoints (the log key), and the
/// exported log.
extension WorkspaceSession {
    /// Appends `key.added`: `publicKey` joins the keyring under `name` with `roles`.
    public func addKey(
        _ publicKey: PublicKey,
        name: String,
        roles: Set<Role>,
        signer: SigningKey
    ) async throws(LedgerError) -> [SignedEvent] {
        let record = KeyRecord(publicKey: publicKey, name: name, roles: roles)
        return try await ledger.append([try EventDraft(record.keyAdded)], signedBy: signer)
    }

    /// Appends `key.revoked` for the one key whose keyid starts with `prefix`: its earlier events stay valid, later
    /// ones are refused.
    ///
    /// - Throws: `argument.invalid` when no key or more than one key starts with `prefix`.
    public func revokeKey(
        matching prefix: String,
        reason: String,
        signer: SigningKey
    ) async throws(LedgerError) -> [SignedEvent] {
        let matches = await ledger.state.keyring.records.filter { $0.keyID.hasPrefix(prefix) }
        guard matches.count == 1, let record = matches.first else {
            throw LedgerError(
                .invalidArgument,
                matches.isEmpty
                    ? "no key in the log starts with \(prefix)"
                    : "\(prefix) matches \(matches.count) keys; give more characters"
            )
        }
        let revoked = KeyRevoked(keyid: record.keyID, reason: reason)
        return try await ledger.append([try EventDraft(revoked)], signedBy: signer)
    }

    /// Appends `policy.set` with `given`, once ``Policy`` has checked it.
    public func setPolicy(_ given: JSONValue, signer: SigningKey) async throws(LedgerError) -> (Policy, SignedEvent?) {
        let policy = try Policy(json: given)
        // The policy as given, member for member: decoded, not filled with defaults.
        let data: PolicyData
        do {
            data = try JSONValueDecoding.decode(PolicyData.self, from: given)
        } catch {
            throw LedgerError(.schema, "the policy is not {\"requiredApprovals\", \"gate\"?}: \(error)")
        }
        let appended = try await ledger.append([try EventDraft(PolicySet(policy: data))], signedBy: signer)
        return (policy, appended.first)
    }

    /// Signs a checkpoint of the log's head with `signer` (the log key) and keeps it beside the log: the document
    /// `{"logId","size","root","note"}` that `ledger checkpoint --json` prints.
    public func signCheckpoint(signer: SigningKey) async throws(LedgerError) -> JSONValue {
        try await LogProofs.checkpoint(store: store, state: await ledger.state, signer: signer)
    }

}

extension Workspace {
    /// Every entry of the log as `ledger export` writes it: one DSSE envelope per line. It reads the store as it is,
    /// without the checks of ``WorkspaceSession/open(_:readingOnly:opener:warn:)``, so that a log that lost entries
    /// can still be exported for a verifier to examine.
    public func exportedLog() async throws(LedgerError) -> (entries: Int, bytes: [UInt8]) {
        let entries = try await openStore().allEntries()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.reduce(0) { $0 + $1.leaf.count + 1 })
        for entry in entries {
            bytes += entry.leaf
            bytes.append(0x0a)
        }
        return (entries.count, bytes)
    }
}
