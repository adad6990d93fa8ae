import Foundation
import LedgerArtifacts
import LedgerCLI
import LedgerCore
import LedgerS3
import LedgerTestSupport
import LedgerTesting
import Testing

extension Trait where Self == ConditionTrait {
    /// For a test that plays an attacker with access to the embedded default's artifact folder. It is skipped in
    /// the suite's shared pass (``TestServices/sharedWorkspaces``); a tampered S3 object is the S3 suite's own test.
    static func embeddedFilesOnly(_ what: Comment) -> Self {
        .disabled(if: TestServices.sharedWorkspaces, what)
    }
}

/// What one `ledger` invocation did.
struct CLIResult {
    let status: Int32
    let out: String
    let err: String

    var json: JSONValue? { try? CanonicalJSON.parse(out.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

/// Runs `ledger` in-process with a capturing console.
func ledger(_ arguments: String...) async -> CLIResult {
    await ledger(arguments)
}

func ledger(_ arguments: [String]) async -> CLIResult {
    let console = Console(capturing: true)
    let status = await Console.$current.withValue(console) {
        await LedgerCommand.run(arguments: arguments)
    }
    return CLIResult(status: status, out: console.standardOutput, err: console.standardError)
}

/// A workspace made by `ledger init --json`.
struct TestWorkspace {
    let folder: TemporaryFolder
    let root: String
    let genesis: String
    let adminKey: String
    let logKey: String
    let logID: String

    /// - Parameter backends: more `ledger init` arguments, such as `--store` and `--artifacts`. Without them the
    ///   workspace is the embedded default, SQLite and a folder, or PostgreSQL and S3 in the suite's shared pass
    ///   (``TestServices/sharedWorkspaces``).
    static func make(logID: String = "test.example/cli", backends: [String]? = nil) async throws -> TestWorkspace {
        let folder = try TemporaryFolder()
        let root = folder.path("ws")
        let backends = try backends ?? (TestServices.sharedWorkspaces ? TestServices.sharedWorkspaceArguments() : [])
        let result = await ledger(["init", root, "--log-id", logID, "--json"] + backends)
        try #require(result.status == 0, "init failed: \(result.err)")
        let json = try #require(result.json)
        return TestWorkspace(
            folder: folder,
            root: root,
            genesis: try #require(json["genesis"]?.stringValue),
            adminKey: try #require(json["adminKeyFile"]?.stringValue),
            logKey: try #require(json["logKeyFile"]?.stringValue),
            logID: logID
        )
    }

    func run(_ arguments: String...) async -> CLIResult {
        await run(arguments)
    }

    func run(_ arguments: [String]) async -> CLIResult {
        await ledger(arguments + ["--workspace", root])
    }

    /// Writes a small demo Audit DB (4 weeks from 2026-01-05, 40 actors) beside the workspace and extracts all of
    /// it; returns the database's path and `extract --json`'s output.
    func extractDemo() async throws -> (audit: String, extract: JSONValue) {
        let audit = folder.path("audit.db")
        let demo = await ledger("demo", "audit-db", "--out", audit, "--weeks", "4", "--actors", "40", "--json")
        try #require(demo.status == 0, "\(demo.err)")
        let extract = await run(
            "extract",
            "--source",
            "sqlite:\(audit)",
            "--from",
            "2026-01-05",
            "--to",
            "2026-02-02",
            "--json"
        )
        try #require(extract.status == 0, "\(extract.err)")
        return (audit, try #require(extract.json))
    }

    /// The artifact `hex` (a SHA-256 in hex), read from the store the workspace's `ledger.json` names: its folder,
    /// or S3 in the shared pass. The store checks the digest on the way.
    func artifact(_ hex: String) async throws -> [UInt8] {
        let config = try CanonicalJSON.parse(try String(contentsOfFile: root + "/ledger.json", encoding: .utf8))
        let url = try #require(config["artifacts"]?.stringValue)
        let store: any ArtifactStore =
            url.hasPrefix("s3://") ? try S3ArtifactStore.url(url) : try FileArtifactStore.url(url, relativeTo: root)
        return try await store.get(try #require(ArtifactDigest("sha256:" + hex)))
    }

    func size() async throws -> Int {
        let result = await run("verify", "--json")
        return Int(try #require(result.json?["entries"]?.integerValue))
    }
}

/// Runs an external program and waits for it.
@discardableResult
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CLIResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let outPipe = Pipe()
    let errPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    try process.run()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    let err = errPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CLIResult(
        status: process.terminationStatus,
        out: String(decoding: out, as: UTF8.self),
        err: String(decoding: err, as: UTF8.self)
    )
}

/// `python3 -m http.server` serving a folder on a free port of 127.0.0.1: any static file server, for the tests that
/// read a published log over HTTP. `stop()` kills it with SIGKILL: the test process's children inherit a signal mask
/// that blocks SIGTERM, so `terminate()` would leave it running and `waitUntilExit()` waiting for ever.
final class StaticHTTPServer {
    private let process = Process()
    /// `http://127.0.0.1:PORT/`.
    let url: String

    /// Starts the server on `folder`; its banner ("Serving HTTP on 127.0.0.1 port 43211 …") goes to a file in
    /// `scratch`, which names the port.
    init(serving folder: String, scratch: TemporaryFolder) async throws {
        let banner = scratch.path("http-server-\(UUID().uuidString).out")
        try #require(FileManager.default.createFile(atPath: banner, contents: nil))
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", folder]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: banner))
        process.standardError = FileHandle.nullDevice
        try process.run()
        var port: String?
        for _ in 0..<100 where port == nil {
            let text = (try? String(contentsOfFile: banner, encoding: .utf8)) ?? ""
            port = text.components(separatedBy: " port ").dropFirst().first?.split(separator: " ").first.map(
                String.init
            )
            if port == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw LedgerError(.storage, "python3 -m http.server did not start")
        }
        url = "http://127.0.0.1:\(port)/"
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

enum ExternalTools {
    /// The `ledger` executable that `swift test` built beside the test bundle (or $LEDGER_BINARY).
    static var ledgerBinary: String? { ProcessInfo.processInfo.environment["LEDGER_BINARY"] ?? builtBinary("ledger") }

    /// The test build's `ledger-faults` executable beside the test bundle (or $LEDGER_FAULTS_BINARY): the command
    /// tree of `ledger` with the faults of its `LEDGER_FAULTS` environment variable, which `ledger` never reads.
    static var faultsBinary: String? {
        ProcessInfo.processInfo.environment["LEDGER_FAULTS_BINARY"] ?? builtBinary("ledger-faults")
    }

    /// The executable `name` in the test bundle's folder or one of the three above it.
    private static func builtBinary(_ name: String) -> String? {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }

    /// The Python with the peer requirements ($LEDGER_PYTHON, which .ci/run sets to its venv).
    static var python: String? {
        let candidate = ProcessInfo.processInfo.environment["LEDGER_PYTHON"] ?? "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: candidate),
            let check = try? runProcess(candidate, ["-c", "import cryptography, jsonschema, rfc8785"]),
            check.status == 0
        else { return nil }
        return candidate
    }

    static var openssl: String? {
        ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// In CI every peer must be present: a missing one fails instead of skipping.
    static var required: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    /// The repository root, from this file's path.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }
}
