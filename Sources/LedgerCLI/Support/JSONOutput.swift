import LedgerCore
import LedgerWorkspace

extension Console {
    /// Prints `value` as one line of canonical JSON: stable, sorted keys, ready for `jq`.
    func json(_ value: JSONValue) {
        writeOut(((try? CanonicalJSON.encode(value)) ?? Array("null".utf8)) + [0x0a])
    }
}

extension Console {
    /// A structured logger: each record becomes one JSON line with `time` (from `clock`) and `level` (default
    /// `info`) added. What `ledger schedule` and `ledger serve` log with.
    func jsonLogger(clock: any LedgerClock) -> @Sendable ([String: JSONValue]) -> Void {
        { record in
            var line = record
            line["time"] = .string(clock.now().rfc3339)
            if line["level"] == nil { line["level"] = "info" }
            self.json(.object(line))
        }
    }
}
