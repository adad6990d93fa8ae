import Foundation
import LedgerCore
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `ledger serve` as an operator runs it: a real process on a free port, JSON log lines, SIGTERM.
@Suite("ledger serve process")
struct ServeProcessTests {
    @Test(
        "serve binds a free port, answers /healthz and /readyz (not ready without a deployment), and exits 0 on SIGTERM",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func lifecycle() async throws {
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let workspace = try await TestWorkspace.make()
        let output = workspace.folder.path("serve.log")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--port", "0", "--workspace", workspace.root]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        var port: Int64?
        let deadline = Date().addingTimeInterval(60)
        while port == nil, Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
            port =
                lines.compactMap { try? CanonicalJSON.parse(String($0)) }.first { $0["msg"] == "listening" }?["port"]?
                .integerValue
        }
        let bound = try #require(port, "no 'listening' line")
        #expect(bound > 0)
        func get(_ path: String) async throws -> (Int, JSONValue?) {
            let url = try #require(URL(string: "http://127.0.0.1:\(bound)\(path)"))
            let (data, response) = try await URLSession.shared.data(from: url)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? CanonicalJSON.parse(Array(data)))
        }
        let health = try await get("/healthz")
        #expect(health.0 == 200)
        let ready = try await get("/readyz")
        #expect(ready.0 == 503)
        #expect(ready.1?["status"] == "unready")

        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        let records = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map {
            try CanonicalJSON.parse(String($0))
        }
        #expect(records.allSatisfy { $0["time"] != nil && $0["level"] != nil }, "every line is a JSON log record")
        #expect(records.last?["msg"] == "stopped")
    }
}
