import LedgerCore
import LedgerStore
import LedgerTesting
import Testing

/// Typed event data: decoding refuses what does not match, and re-encoding gives back the exact bytes.
@Suite("Typed event data")
struct TypedEventTests {
    @Test("every event of a simulated log decodes as its kind and re-encodes to the same canonical bytes")
    func roundTrip() async throws {
        let ledger = try await GovernanceSimulator.makeLedger()
        var simulator = GovernanceSimulator(seed: 18)
        try await simulator.run(1500, on: ledger)
        let entries = try await ledger.store.entries(in: 0..<(await ledger.state.size))
        var seen: Set<EventType> = []
        for entry in entries {
            let event = try SignedEvent(leaf: entry.leaf).event
            let type = try #require(event.eventType)
            seen.insert(type)
            let again = try event.reencodedData()
            #expect(try CanonicalJSON.encode(again) == CanonicalJSON.encode(event.data), "seq \(event.seq), \(type)")
        }
        #expect(seen.count >= 17, "the simulator covers most kinds: \(seen.map(\.rawValue).sorted())")
    }

    @Test("a missing member is refused, not defaulted")
    func missingMember() {
        let data: JSONValue = ["name": "m", "version": 1, "sha256": .string(String(repeating: "a", count: 64))]
        #expect(throws: LedgerError.self) { try ModelApproved(data: data) }
        let complete: JSONValue = [
            "name": "m", "version": 1, "sha256": .string(String(repeating: "a", count: 64)), "reason": "ok",
        ]
        #expect(throws: Never.self) { try ModelApproved(data: complete) }
    }

    @Test("a mistyped member is refused: a fractional integer, a string for a number, uppercase hex")
    func mistypedMember() {
        let hex = String(repeating: "a", count: 64)
        for data: JSONValue in [
            ["name": "m", "version": 1.5, "sha256": .string(hex), "reason": "ok"],
            ["name": "m", "version": "1", "sha256": .string(hex), "reason": "ok"],
            ["name": "m", "version": 1, "sha256": .string(hex.uppercased()), "reason": "ok"],
            ["name": 3, "version": 1, "sha256": .string(hex), "reason": "ok"],
        ] {
            #expect(throws: LedgerError.self) { try ModelApproved(data: data) }
        }
    }

    @Test("an optional member is nil only when absent; a null is refused")
    func optionalMember() throws {
        let hex = String(repeating: "a", count: 64)
        let absent = try ModelRetired(data: ["name": "m", "version": 2, "sha256": .string(hex)])
        #expect(absent.reason == nil)
        #expect(try absent.data() == ["name": "m", "version": 2, "sha256": .string(hex)])
        #expect(throws: LedgerError.self) {
            try ModelRetired(data: ["name": "m", "version": 2, "sha256": .string(hex), "reason": nil])
        }
    }

    @Test("type names match byte for byte: a look-alike spelling is no type")
    func typeBytes() {
        #expect(EventType(bytes: "model.trained") == .modelTrained)
        #expect(EventType(bytes: "model.tr\u{61}ined") == .modelTrained)
        #expect(EventType(bytes: "model.rolledBac\u{212A}") == nil)
        #expect(EventCatalog.kinds.count == EventType.allCases.count)
    }
}
