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

extension ServeProcessTests {
    @Test(
        "serve on a port already in use says so plainly and exits 1, with no database message",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func portInUse() async throws {
        let workspace = try await TestWorkspace.make()
        let (holder, port) = try RawSocket.listener()
        defer { holder.hangUp() }
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let output = workspace.folder.path("serve.out")
        let errors = workspace.folder.path("serve.err")
        for path in [output, errors] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--port", String(port), "--workspace", workspace.root]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        let said = try String(contentsOfFile: errors, encoding: .utf8)
        #expect(said.contains("port \(port) on 127.0.0.1 is already in use"), "\(said)")
        let everything = said + (try String(contentsOfFile: output, encoding: .utf8))
        for misleading in ["database", "CancellationError", "bind("] {
            #expect(!everything.contains(misleading), "\(everything)")
        }
    }

    @Test(
        "serve's --header-timeout, --idle-timeout and --max-connections close slow and idle clients and shed one too many, each logged",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required),
        // Timed against the server's timeouts: Scripts/test runs it alone, as it runs ConnectionLimitTests.
        .enabled(if: ProcessInfo.processInfo.environment["LEDGER_SOLO_TESTS"] != nil, "run alone by Scripts/test")
    )
    func connectionLimits() async throws {
        let workspace = try await TestWorkspace.make()
        let serve = try await ServeProcess.start(
            workspace,
            ["--header-timeout", "1", "--idle-timeout", "1.5", "--max-connections", "3"]
        )
        let process = serve.process
        defer { if process.isRunning { process.terminate() } }
        let port = Int(serve.port)
        let slow = try RawSocket.connected(toPort: port)
        slow.transmit("GET /healthz HTTP/1.1\r\n")
        let idle = try RawSocket.connected(toPort: port)
        #expect(idle.transmit("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"))
        let silent = try RawSocket.connected(toPort: port)
        try await Task.sleep(for: .milliseconds(300))
        let extra = try RawSocket.connected(toPort: port)
        let started = ContinuousClock.now
        var closed: [String: Duration] = [:]
        while closed.count < 4, ContinuousClock.now - started < .seconds(10) {
            for (name, socket) in [("slow", slow), ("idle", idle), ("silent", silent), ("extra", extra)]
            where closed[name] == nil && socket.receiveKeeping() {
                closed[name] = ContinuousClock.now - started
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(closed.count == 4, "\(closed)")
        #expect(String(decoding: extra.receivedSoFar, as: UTF8.self).hasPrefix("HTTP/1.1 503"))
        #expect(String(decoding: idle.receivedSoFar, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        for name in ["slow", "silent"] { #expect((closed[name] ?? .seconds(99)) < .seconds(3), "\(closed)") }
        #expect((closed["idle"] ?? .seconds(99)) < .seconds(3.5), "\(closed)")
        let health = try await serve.get("/healthz")
        #expect(health.0 == 200, "the server answers once the slots are free")

        process.terminate()
        process.waitUntilExit()
        let records = try String(contentsOfFile: serve.output, encoding: .utf8).split(separator: "\n").map {
            try CanonicalJSON.parse(String($0))
        }
        let reasons = records.compactMap { $0["reason"]?.stringValue }.sorted()
        #expect(reasons == ["headerTimeout", "headerTimeout", "idleTimeout", "maxConnections"], "\(reasons)")
        #expect(records.contains { $0["msg"] == "connection shed: too many open connections" })
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
