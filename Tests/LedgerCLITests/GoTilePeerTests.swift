import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// Go's golang.org/x/mod/sumdb/note and sumdb/tlog (Debian's golang-go and golang-golang-x-mod-dev, a GOPATH build
/// with no download) check what `ledger publish` writes: the checkpoint's signature with the vkey `ledger keys vkey`
/// prints, the root recomputed from our hash tiles, and inclusion proofs of sampled entries from our bundles.
@Suite struct GoTilePeerTests {
    /// The Go toolchain with x/mod's sumdb packages in Debian's GOPATH, or nil.
    static var go: String? {
        let tlog = "/usr/share/gocode/src/golang.org/x/mod/sumdb/tlog/tile.go"
        guard FileManager.default.fileExists(atPath: tlog) else { return nil }
        return ["/usr/bin/go", "/usr/lib/go/bin/go", "/usr/local/go/bin/go"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// Builds Tests/Peers/go/src/tilecheck into `folder` and returns the binary's path.
    static func buildTilecheck(in folder: TemporaryFolder) throws -> String {
        let go = try #require(go, "go with golang.org/x/mod (apt-get install golang-go golang-golang-x-mod-dev)")
        let peers = ExternalTools.repositoryRoot.appendingPathComponent("Tests/Peers/go").path
        let binary = folder.path("tilecheck")
        var environment = ProcessInfo.processInfo.environment
        environment["GOPATH"] = "/usr/share/gocode:" + peers
        environment["GO111MODULE"] = "off"
        environment["GOPROXY"] = "off"
        environment["GOFLAGS"] = ""
        environment["GOCACHE"] = folder.path("gocache")
        let build = try runProcess(go, ["build", "-o", binary, "tilecheck"], environment: environment)
        try #require(build.status == 0, "go build tilecheck failed: \(build.err)")
        return binary
    }

    /// A workspace of `notes` notes after genesis, checkpointed and published into its folder's `public`.
    static func publishedWorkspace(notes: Int) async throws -> (workspace: TestWorkspace, out: String, vkey: String) {
        let workspace = try await TestWorkspace.make(logID: "test.example/go-peer")
        try await appendNotes(workspace, count: notes)
        try #require(await workspace.run("checkpoint").status == 0)
        let out = workspace.folder.path("public")
        let published = await workspace.run("publish", "--out", out)
        try #require(published.status == 0, "\(published.err)")
        let vkeys = await workspace.run("keys", "vkey")
        try #require(vkeys.status == 0, "\(vkeys.err)")
        let vkey = try #require(vkeys.out.split(separator: "\n").first.map(String.init))
        return (workspace, out, vkey)
    }

    @Test(
        "x/mod's note and tlog verify the published checkpoint, root and sampled inclusion proofs; tampering fails",
        .enabled(if: go != nil || ExternalTools.required)
    )
    func goVerifiesThePublishedLog() async throws {
        let (workspace, out, vkey) = try await Self.publishedWorkspace(notes: 700)
        let tilecheck = try Self.buildTilecheck(in: workspace.folder)
        let size = try await workspace.size()

        let verified = try runProcess(tilecheck, ["-vkey", vkey, "-samples", "40", out])
        #expect(verified.status == 0, "\(verified.out) \(verified.err)")
        let json = try #require(verified.json)
        #expect(json["ok"] == .bool(true))
        #expect(json["size"]?.integerValue == Int64(size))
        #expect(json["origin"]?.stringValue == "test.example/go-peer")
        #expect(json["entriesChecked"]?.arrayValue?.count ?? 0 >= 30)

        // Another key's vkey: the signature does not verify.
        let other = try NoteVerifier(
            name: "test.example/go-peer",
            publicKey: TestKeys.outsider.publicKey.rawRepresentation
        )
        #expect(try runProcess(tilecheck, ["-vkey", other.verifierKey, out]).status == 1)

        // Each tampered copy fails with a verdict (exit 1), not a crash or a usage error.
        func tampered(_ name: String, _ change: (String) throws -> Void) throws -> Int32 {
            let copy = workspace.folder.path("tampered-\(name)")
            try FileManager.default.copyItem(atPath: out, toPath: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            try change(copy)
            return try runProcess(tilecheck, ["-vkey", vkey, "-samples", "40", copy]).status
        }
        func flip(_ file: String, at offset: Int) throws {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            bytes[offset] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: file))
        }
        let partial0 = out + "/tile/0/" + String(format: "%03d", size / 256) + ".p/\(size % 256)"
        let partialName = String(partial0.dropFirst(out.count))
        #expect(try tampered("full-tile") { try flip($0 + "/tile/0/000", at: 100) } == 1)
        #expect(try tampered("partial-tile") { try flip($0 + partialName, at: 3) } == 1)
        #expect(
            try tampered("truncated-tile") { copy in
                let file = URL(fileURLWithPath: copy + partialName)
                try Data(try Data(contentsOf: file).dropLast()).write(to: file)
            } == 1
        )
        #expect(try tampered("bundle-entry") { try flip($0 + "/tile/entries/000", at: 10) } == 1)
        #expect(
            try tampered("checkpoint-size") { copy in
                let file = copy + "/checkpoint"
                let text = try String(contentsOfFile: file, encoding: .utf8)
                let lines = text.components(separatedBy: "\n")
                let forged = ([lines[0], String(size - 1)] + lines.dropFirst(2)).joined(separator: "\n")
                try forged.write(toFile: file, atomically: true, encoding: .utf8)
            } == 1
        )
        #expect(try tampered("missing-tile") { try FileManager.default.removeItem(atPath: $0 + "/tile/1") } == 1)
    }

    @Test(
        "the Go check works against the published folder served by python3 -m http.server",
        .enabled(
            if: (go != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"))
                || ExternalTools.required
        )
    )
    func goVerifiesOverAStaticHTTPServer() async throws {
        let (workspace, out, vkey) = try await Self.publishedWorkspace(notes: 300)
        let tilecheck = try Self.buildTilecheck(in: workspace.folder)
        let server = try await StaticHTTPServer(serving: out, scratch: workspace.folder)
        defer { server.stop() }
        let verified = try runProcess(tilecheck, ["-vkey", vkey, server.url])
        #expect(verified.status == 0, "\(verified.out) \(verified.err)")
        #expect(verified.json?["ok"] == .bool(true))
    }
}
