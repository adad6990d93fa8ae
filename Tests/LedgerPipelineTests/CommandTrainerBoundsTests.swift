import LedgerCore
import LedgerPipeline
import Testing

/// A command trainer whose `model.trained` would exceed the bounds of a new event is refused when it is configured,
/// before a run starts, with the limit named.
@Suite("Command trainer bounds")
struct CommandTrainerBoundsTests {
    static func check(
        command: [String] = ["python3", "train.py"],
        parameters: JSONValue = ["k": 3],
        environment: [String: String] = [:]
    ) throws(LedgerError) {
        _ = try CommandTrainer.checked(
            command: command,
            parameters: parameters,
            environment: environment,
            workingDirectory: "/nonexistent"
        )
    }

    @Test("a configuration within the bounds is accepted")
    func withinBounds() throws {
        try Self.check(
            command: Array(repeating: "x", count: EventCatalog.maximumTrainerArguments),
            parameters: .object(
                Dictionary(uniqueKeysWithValues: (0..<EventCatalog.maximumParameters).map { ("p\($0)", .number(1)) })
            ),
            environment: ["PATH": "/usr/bin:/bin", "A": String(repeating: "v", count: 256)]
        )
    }

    @Test("each bound is refused with its limit named")
    func refused() {
        let many = Dictionary(uniqueKeysWithValues: (0..<17).map { ("p\($0)", JSONValue.number(1)) })
        let cases: [(expected: String, command: [String], parameters: JSONValue, environment: [String: String])] = [
            ("command has 9 arguments", Array(repeating: "x", count: 9), ["k": 3], [:]),
            ("limit is 256", [String(repeating: "x", count: 257)], ["k": 3], [:]),
            ("control character", ["a\nb"], ["k": 3], [:]),
            ("more than 8", ["x"], ["k": 3], Dictionary(uniqueKeysWithValues: (0..<7).map { ("V\($0)", "") })),
            ("set a shorter PATH", ["x"], ["k": 3], ["PATH": String(repeating: "/", count: 257)]),
            ("name \"A B\"", ["x"], ["k": 3], ["A B": "x"]),
            ("at most 16 members", ["x"], .object(many), [:]),
            ("parameter nested", ["x"], ["nested": ["a": 1]], [:]),
            ("parameter name", ["x"], ["a b": 1], [:]),
            ("parameters are not an object", ["x"], [1], [:]),
        ]
        for item in cases {
            let error = #expect(throws: LedgerError.self, "\(item.expected)") {
                try Self.check(command: item.command, parameters: item.parameters, environment: item.environment)
            }
            #expect(error?.code == .invalidArgument, "\(item.expected)")
            #expect(error?.reason.contains(item.expected) == true, "\(item.expected): \(error?.reason ?? "accepted")")
        }
    }
}
