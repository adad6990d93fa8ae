import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
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
        let workspace = try await TestWorkspace.make()
        let serve = try await ServeProcess.start(workspace)
        let process = serve.process
        defer { if process.isRunning { process.terminate() } }
        #expect(serve.port > 0)
        let get = serve.get
        let output = serve.output
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

/// A `ledger serve` process on a free port, started for a test.
struct ServeProcess {
    let process: Process
    let port: Int64
    /// The file its JSON log lines go to.
    let output: String

    /// Starts `ledger serve --port 0` with `arguments` on `workspace` and waits for its `listening` line.
    static func start(_ workspace: TestWorkspace, _ arguments: [String] = []) async throws -> ServeProcess {
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let output = workspace.folder.path("serve.log")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--port", "0", "--workspace", workspace.root] + arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        try process.run()
        var port: Int64?
        let deadline = Date().addingTimeInterval(60)
        while port == nil, Date() < deadline, process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
            let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
            port =
                lines.compactMap { try? CanonicalJSON.parse(String($0)) }.first { $0["msg"] == "listening" }?["port"]?
                .integerValue
        }
        guard let port else {
            if process.isRunning { process.terminate() }
            throw TestServices.MissingService("ledger serve printed no 'listening' line")
        }
        return ServeProcess(process: process, port: port, output: output)
    }

    /// GET `path`: the status and the JSON body.
    func get(_ path: String) async throws -> (Int, JSONValue?) {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
        let (data, response) = try await URLSession.shared.data(from: url)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try? CanonicalJSON.parse(Array(data)))
    }
}
