import Foundation
import GRDB
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// `ledger report`: one self-contained file per version, which renders in a real browser with nothing fetched.
@Suite("Model report", .serialized)
struct ReportTests {
    /// Headless Chromium from Debian's package, which .ci/run installs.
    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Anything in an HTML file that would make a browser fetch: scripts, stylesheets, imports, remote URLs.
    static func fetches(_ html: String) -> [String] {
        let patterns = [
            #"<script"#, #"<link"#, #"@import"#, #"url\("#, #"<img"#, #"<iframe"#, #"<object"#, #"<embed"#,
            #"(src|href|action|poster|srcset)\s*=\s*["']?\s*(https?:|//|file:|data:)"#,
        ]
        return patterns.filter { html.range(of: $0, options: [.regularExpression, .caseInsensitive]) != nil }
    }

    @Test(
        "the HTML report holds the model card, the signed timeline, drift, verification and the reproduce command, and fetches nothing"
    )
    func html() async throws {
        let (workspace, _) = try await PipelineCommandTests.deployedWorkspace()
        let second = await workspace.run(
            "run",
            "--window",
            PipelineCommandTests.week5,
            "--source",
            "sqlite:\(workspace.folder.path("audit.db"))"
        )
        #expect(second.status == 0, "\(second.err)")
        // A second approver whose reason tries to inject markup into the report.
        let eve = workspace.folder.path("eve.key")
        #expect(await ledger("keys", "generate", "--name", "eve", "--role", "approver", "--out", eve).status == 0)
        #expect(
            await workspace.run(
                "keys",
                "add",
                "--public",
                eve + ".pub",
                "--name",
                "eve",
                "--role",
                "approver",
                "--key",
                workspace.adminKey
            ).status == 0
        )
        let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> | broken"
        let approved = await workspace.run("approve", "access-anomaly@1", "--reason", hostile, "--key", eve)
        #expect(approved.status == 0, "\(approved.err)")
        let out = workspace.folder.path("report.html")
        let result = await workspace.run("report", "access-anomaly@1", "--out", out)
        #expect(result.status == 0, "\(result.err)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the reason is shown, escaped")
        #expect(!html.contains("<script") && !html.contains("<img"), "and never as markup")
        #expect(html.contains("Content-Security-Policy"))
        for section in ["Model card", "Known limitations", "Signed timeline", "Drift", "Verification", "Reproduce"] {
            #expect(html.contains(section), "\(section)")
        }
        let registry = await workspace.run("registry", "access-anomaly@1", "--json")
        let artifact = try #require(registry.json?["artifact"]?.stringValue)
        #expect(html.contains("sha256:\(artifact)"))
        let verify = await workspace.run("verify", "--json")
        let root = try #require(verify.json?["root"]?.stringValue)
        #expect(html.contains(root), "the report shows the verified root")
        for type in [
            "data.extracted", "dataset.built", "model.trained", "model.evaluated", "model.registered",
            "model.approved", "model.deployed",
        ] {
            #expect(html.contains("<code>\(type)</code>"), "the timeline shows \(type)")
        }
        #expect(html.contains("<svg"), "drift charts are inline SVG")
        #expect(html.contains("ledger reproduce access-anomaly@1"))
        #expect(Self.fetches(html).isEmpty, "fetches: \(Self.fetches(html))")

        let markdown = workspace.folder.path("report.md")
        #expect(await workspace.run("report", "access-anomaly@1", "--out", markdown, "--format", "md").status == 0)
        let text = try String(contentsOfFile: markdown, encoding: .utf8)
        #expect(text.contains("## Signed timeline"))
        #expect(!text.contains("<script") && text.contains("\\| broken"), "Markdown cells are escaped too")
    }

    @Test(
        "the report renders in headless Chromium without console errors or network requests; a screenshot is taken",
        .enabled(if: ReportTests.chromium != nil || ExternalTools.required)
    )
    func rendersInChromium() async throws {
        let chromium = try #require(Self.chromium, "chromium is not installed (apt-get install chromium)")
        let (workspace, _) = try await PipelineCommandTests.deployedWorkspace()
        let out = workspace.folder.path("report.html")
        #expect(await workspace.run("report", "access-anomaly@1", "--out", out).status == 0)
        let screenshot = workspace.folder.path("report.png")
        let result = try runProcess(
            chromium,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--enable-logging=stderr",
                "--v=0", "--host-resolver-rules=MAP * ~NOTFOUND",
                "--user-data-dir=\(workspace.folder.path("chromium"))",
                "--window-size=1280,2400", "--screenshot=\(screenshot)", "file://\(out)",
            ]
        )
        #expect(result.status == 0, "\(result.err.suffix(2000))")
        let size = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
        #expect(size > 20_000, "the screenshot has content: \(size) bytes")
        let console = result.err.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("net::ERR") }
        #expect(console.isEmpty, "console or network errors: \(console)")
    }

    @Test("a version that is not registered, or a bad reference, gets no report")
    func unknownVersion() async throws {
        let workspace = try await TestWorkspace.make()
        let out = workspace.folder.path("report.html")
        let unknown = await workspace.run("report", "access-anomaly@1", "--out", out)
        #expect(unknown.status == 1)
        #expect(unknown.err.contains("is not a registered version"))
        #expect(!FileManager.default.fileExists(atPath: out))
        let bad = await workspace.run("report", "nope", "--out", out)
        #expect(bad.status == 2)
    }

    @Test("a log that does not verify gets no report, and exit 3 naming the bad seq")
    func tamperedLog() async throws {
        let (workspace, _) = try await PipelineCommandTests.deployedWorkspace()
        let logURL = try #require(try GovernanceVerifyTests.config(of: workspace)["log"]?.stringValue)
        let raw = try await RawLog(logURL, in: workspace)
        let state = Verifier().verify(leaves: try await raw.leaves()).state
        // Properly signed, but by a key the log never registered: written around the program with raw SQL.
        let forged = try Forgery.next(
            after: state,
            type: "note.added",
            data: ["text": "forged"],
            signedBy: TestKeys.outsider
        )
        try await raw.insertAroundTheRules(forged)
        let out = workspace.folder.path("report.html")
        let result = await workspace.run("report", "access-anomaly@1", "--out", out)
        #expect(result.status == 3, "\(result.err)")
        #expect(result.err.contains("seq \(forged.event.seq)"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: out), "no report for a log that does not verify")
    }
}
