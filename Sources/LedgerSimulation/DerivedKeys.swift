public import LedgerCore

/// Keys derived from a name: the same name always gives the same key, on every machine. For simulated logs and
/// tests only: anyone who knows the name knows the private key.
public enum DerivedKeys {
    /// The Ed25519 key whose seed is SHA-256 of `modelledger-test-key:` and `name`.
    public static func key(_ name: String) -> SigningKey {
        let seed = Hash256.sha256(Array("modelledger-test-key:\(name)".utf8)).bytes
        // A SHA-256 output is always a valid Ed25519 seed.
        guard let key = try? SigningKey(seed: seed) else { preconditionFailure("32-byte seed refused") }
        return key
    }
}
