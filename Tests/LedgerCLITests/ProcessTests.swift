import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// Tests that need real processes: concurrent writers and SIGKILL.
@Suite("Processes", .serialized)
struct ProcessTests {
    static func batchFile(_ folder: TemporaryFolder, name: String, count: Int) throws -> String {
        try folder.write(
            (0..<count).map { "{\"type\":\"note.added\",\"data\":{\"text\":\"\(name) \($0)\"}}" }.joined(
                separator: "\n"
            ) + "\n",
            to: "\(name).jsonl"
        )
    }

    @Test(
        "two processes each append 5,000 events into one SQLite log: 10,000 events, no gap, no fork",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func concurrentWriters() async throws {
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let workspace = try await TestWorkspace.make()
        let processes = try ["first", "second"].map { name in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [
                "append", "--batch", try Self.batchFile(workspace.folder, name: name, count: 5000), "--key",
                workspace.adminKey,
                "--workspace", workspace.root,
            ]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        for process in processes { process.waitUntilExit() }
        #expect(processes.map(\.terminationStatus) == [0, 0])
        let verify = await workspace.run("verify", "--json")
        #expect(verify.status == 0, "\(verify.out)")
        #expect(verify.json?["entries"] == 10_001)
        #expect(verify.json?["types"]?["note.added"] == 10_000)
        let log = await workspace.run("log", "--json")
        let texts = Set(log.json?.arrayValue?.compactMap { $0["data"]?["text"]?.stringValue } ?? [])
        #expect(texts.count == 10_000, "every event of both writers is there exactly once")
    }

    @Test(
        "a process killed with SIGKILL mid-append leaves a log that verifies, with no partial event",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func killedWriter() async throws {
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let workspace = try await TestWorkspace.make()
        for (name, atomic) in [("one-by-one", false), ("atomic", true)] {
            let before = try await workspace.size()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments =
                [
                    "append", "--batch", try Self.batchFile(workspace.folder, name: name, count: 50_000), "--key",
                    workspace.adminKey,
                    "--workspace", workspace.root,
                ] + (atomic ? ["--atomic"] : [])
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Wait until the writer is visibly appending (or, for the atomic batch, has had time to start).
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
                if atomic { break }
                let current = try await workspace.size()
                if current > before + 20 { break }
            }
            if atomic { try await Task.sleep(for: .seconds(1)) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            let verify = await workspace.run("verify", "--json")
            #expect(verify.status == 0, "\(verify.out)")
            let after = Int(verify.json?["entries"]?.integerValue ?? -1)
            if atomic {
                #expect(
                    after == before || after == before + 50_000,
                    "an atomic batch was partly stored: \(after - before)"
                )
            } else {
                #expect(after > before && after < before + 50_000, "killed after \(after - before) appends")
            }
            // The log stays writable after the crash.
            let next = await workspace.run(
                "append",
                "--type",
                "note.added",
                "--data",
                "{\"text\":\"after crash\"}",
                "--key",
                workspace.adminKey
            )
            #expect(next.status == 0, "\(next.err)")
        }
    }
}
