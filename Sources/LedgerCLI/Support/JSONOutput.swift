import LedgerCore

extension Console {
    /// Prints `value` as one line of canonical JSON: stable, sorted keys, ready for `jq`.
    func json(_ value: JSONValue) {
        writeOut(((try? CanonicalJSON.encode(value)) ?? Array("null".utf8)) + [0x0a])
    }
}
