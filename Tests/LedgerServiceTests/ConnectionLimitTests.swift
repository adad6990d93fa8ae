import Foundation
import LedgerArtifacts
import LedgerCore
import LedgerService
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

/// The connection limits of `ledger serve` on a real socket: slow and idle clients are closed on time, a flood
/// beyond the cap is shed, and `/healthz` keeps answering meanwhile.
///
/// They time sockets against the server's timeouts, so they run alone: `Scripts/test` runs them in a pass of their
/// own with `LEDGER_SOLO_TESTS=1`. In the parallel run, other suites' work starves the server's accept loop on 2
/// cores and the timings would test the machine.
@Suite(
    "ledger serve connection limits",
    .serialized,
    .enabled(
        if: ProcessInfo.processInfo.environment["LEDGER_SOLO_TESTS"] != nil,
        "timed against a real server: Scripts/test runs these alone, with LEDGER_SOLO_TESTS=1"
    )
)
struct ConnectionLimitTests {
    /// A server over a small log with nothing deployed, bound to a free loopback port, for `body`.
    static func withRunningServer(
        _ limits: ConnectionLimits,
        _ body: (_ port: Int, _ server: LedgerServer, _ logs: LogLines) async throws -> Void
    ) async throws {
        let store = InMemoryEventStore()
        _ = try await TestLogs.make(store: store, notes: 0)
        let genesis = await store.entries(in: 0..<1).first?.leaf
        let folder = try TemporaryFolder("connections")
        let logs = LogLines()
        let server = try await LedgerServer.start(
            store: store,
            artifacts: try FileArtifactStore(root: folder.path("artifacts")),
            trustedGenesis: MerkleTree.leafHash(try #require(genesis)),
            logKey: nil,
            configuration: ServiceConfiguration(connections: limits),
            clock: SteppingClock(),
            log: { logs.append($0) }
        )
        let (ports, listening) = AsyncStream<Int>.makeStream()
        let serving = Task { try await server.run(host: "127.0.0.1", port: 0) { listening.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            throw RawSocket.Failure(description: "the server did not listen")
        }
        do {
            try await body(port, server, logs)
        } catch {
            serving.cancel()
            _ = await serving.result
            throw error
        }
        serving.cancel()
        _ = await serving.result
    }

    @Test(
        "50 clients sending headers a byte a second and 50 idle ones are closed on time; /healthz answers meanwhile"
    )
    func slowClients() async throws {
        let limits = ConnectionLimits(headerTimeout: .seconds(2), idleTimeout: .seconds(3), maxConnections: 512)
        try await Self.withRunningServer(limits) { port, server, logs in
            let report = await SlowClientAttack.run(port: port, slow: 50, silent: 25, keptAlive: 25, seconds: 9)
            print(report.summary)
            // Closed on time: never before the limit, and within 1.5 s after it even on a loaded machine.
            for (group, closes, limit) in [
                ("slow headers", report.slow, 2.0), ("silent", report.silent, 2.0),
                ("idle after a response", report.keptAlive, 3.0),
            ] {
                let open = closes.filter { $0 == nil }.count
                #expect(open == 0, "\(open) \(group) connections still open after \(report.seconds) s")
                let times = closes.compactMap { $0 }
                #expect(times.allSatisfy { $0 >= limit - 0.05 }, "\(group): closed too early: \(times.min() ?? 0) s")
                #expect(times.allSatisfy { $0 <= limit + 1.5 }, "\(group): closed late: \(times.max() ?? 0) s")
            }
            #expect(report.probeFailures == 0, "every /healthz during the attack answered 200")
            #expect(report.probes.count >= 150)
            // Latency is measured, not asserted: the suite runs tests in parallel on 2 cores, so a bound here would
            // test the machine's load. The figures are printed (run this test alone for the 10 ms goal:
            // p50 about 2 ms, p90 2 to 5 ms on a debug build); the test asserts only that the server was never
            // starved, which a server holding 100 slow sockets in its event loop would be.
            #expect(report.percentile(0.5) < 500, "\(report.summary)")
            #expect(report.percentile(1) < 3000, "\(report.summary)")
            #expect(server.metrics.connectionsClosed(reason: "headerTimeout") == 75)
            #expect(server.metrics.connectionsClosed(reason: "idleTimeout") == 25)
            // Every connection, attackers and probes, is counted out again once closed.
            let deadline = ContinuousClock.now.advanced(by: .seconds(5))
            while server.metrics.connectionsOpen > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(server.metrics.connectionsOpen == 0)
            #expect(server.metrics.exposition().contains("ledger_connections_open 0\n"))
            let lines = logs.all.filter { ($0["msg"]?.stringValue ?? "").hasPrefix("connection closed") }
            #expect(lines.count == 100, "one log line per closed connection")
            #expect(lines.allSatisfy { $0["level"] == "warning" && $0["peer"]?.stringValue != nil })
        }
    }

    @Test("a kept-alive connection serves requests until it idles; a later request's headers get the header timeout")
    func keptAlive() async throws {
        let limits = ConnectionLimits(headerTimeout: .milliseconds(700), idleTimeout: .seconds(2), maxConnections: 8)
        try await Self.withRunningServer(limits) { port, _, _ in
            let socket = try RawSocket.connected(toPort: port)
            for _ in 0..<3 {
                // Pauses longer than the header timeout but shorter than the idle one: the connection stays.
                #expect(try SlowClientAttack.request(on: socket).hasPrefix("HTTP/1.1 200"))
                try await Task.sleep(for: .milliseconds(1000))
            }
            // The first byte of a request starts its header clock: 0.7 s, not the 2 s idle timeout.
            socket.transmit("G")
            let started = ContinuousClock.now
            #expect(await SlowClientAttack.waitClosed(socket, within: .seconds(3)))
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(650) && elapsed < .milliseconds(1900), "closed after \(elapsed)")
        }
    }

    @Test("one connection over the cap is answered 503 and closed, logged once; a freed slot takes a new one")
    func shedding() async throws {
        let limits = ConnectionLimits(headerTimeout: .seconds(30), idleTimeout: .seconds(30), maxConnections: 3)
        try await Self.withRunningServer(limits) { port, server, logs in
            let held = try (0..<3).map { _ in try RawSocket.connected(toPort: port) }
            try await Task.sleep(for: .milliseconds(300))
            let extra = try RawSocket.connected(toPort: port)
            #expect(await SlowClientAttack.waitClosed(extra, within: .seconds(5)))
            let answer = String(decoding: extra.receivedSoFar, as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 503"), "\(answer)")
            #expect(answer.contains("server.busy"))
            #expect(server.metrics.connectionsClosed(reason: "shed") == 1)
            #expect(logs.all.contains { $0["msg"] == "connection shed: too many open connections" && $0["shed"] == 1 })
            held[0].hangUp()
            try await Task.sleep(for: .milliseconds(300))
            let next = try RawSocket.connected(toPort: port)
            #expect(try SlowClientAttack.request(on: next).hasPrefix("HTTP/1.1 200"))
        }
    }
}

/// The clients of ``ConnectionLimitTests/slowClients()``, on a thread of their own so that their waiting never
/// takes one of the server's task threads.
struct SlowClientAttack {
    /// Seconds from each connection's start (for kept-alive ones: from their response) to its close; nil if open.
    var slow: [Double?] = []
    var silent: [Double?] = []
    var keptAlive: [Double?] = []
    /// The round trip of each `/healthz` made during the attack, in milliseconds, each on a new connection.
    var probes: [Double] = []
    var probeFailures = 0
    var seconds = 0.0

    func percentile(_ fraction: Double) -> Double {
        let sorted = probes.sorted()
        guard !sorted.isEmpty else { return .infinity }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
    }

    var summary: String {
        let figures = [0.5, 0.9, 0.99, 1].map { String(format: "%.2f", percentile($0)) }
        return "slow clients: \(probes.count) /healthz probes during the attack, p50 \(figures[0]) ms, p90 "
            + "\(figures[1]) ms, p99 \(figures[2]) ms, max \(figures[3]) ms, \(probeFailures) failed; closed after "
            + "(s): slow \(range(slow)), silent \(range(silent)), idle \(range(keptAlive))"
    }

    private func range(_ values: [Double?]) -> String {
        let times = values.compactMap { $0 }
        guard let low = times.min(), let high = times.max() else { return "none" }
        return String(format: "%.2f–%.2f", low, high) + (times.count < values.count ? " (some open)" : "")
    }

    /// Runs the attack against `127.0.0.1:port` for at most `seconds`, on a new thread.
    static func run(port: Int, slow: Int, silent: Int, keptAlive: Int, seconds: Double) async -> SlowClientAttack {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    returning: attack(port: port, slow: slow, silent: silent, keptAlive: keptAlive, seconds: seconds)
                )
            }
            thread.start()
        }
    }

    private static func attack(port: Int, slow: Int, silent: Int, keptAlive: Int, seconds: Double) -> SlowClientAttack {
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed(since instant: ContinuousClock.Instant) -> Double {
            let duration = clock.now - instant
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        var report = SlowClientAttack()
        // Each attacker: its socket, when its clock started, and which group it is in (0 slow, 1 silent, 2 idle).
        var attackers: [(socket: RawSocket?, since: ContinuousClock.Instant, group: Int)] = []
        for _ in 0..<keptAlive {
            let socket = try? RawSocket.connected(toPort: port)
            let answered = socket.map { (try? request(on: $0))?.hasPrefix("HTTP/1.1 200") == true }
            attackers.append((answered == true ? socket : nil, clock.now, 2))
        }
        for _ in 0..<silent { attackers.append((try? RawSocket.connected(toPort: port), clock.now, 1)) }
        let header = Array("GET /healthz HTTP/1.1\r\nHost: attack\r\nX-Slow: ".utf8) + Array(repeating: 0x61, count: 64)
        for _ in 0..<slow {
            let socket = try? RawSocket.connected(toPort: port)
            socket?.transmit([header[0]])
            attackers.append((socket, clock.now, 0))
        }
        var closed: [Double?] = Array(repeating: nil, count: attackers.count)
        var sentBytes = 1
        var nextByte = clock.now.advanced(by: .seconds(1))
        var nextProbe = clock.now
        while elapsed(since: start) < seconds {
            let now = clock.now
            if now >= nextByte {
                nextByte = nextByte.advanced(by: .seconds(1))
                for (index, attacker) in attackers.enumerated() where attacker.group == 0 && closed[index] == nil {
                    attacker.socket?.transmit([header[sentBytes % header.count]])
                }
                sentBytes += 1
            }
            for (index, attacker) in attackers.enumerated() where closed[index] == nil {
                guard let socket = attacker.socket else { continue }
                if socket.receive().closed {
                    closed[index] = elapsed(since: attacker.since)
                    socket.hangUp()
                }
            }
            if now >= nextProbe {
                nextProbe = now.advanced(by: .milliseconds(20))
                let probeStart = clock.now
                if let socket = try? RawSocket.connected(toPort: port),
                    (try? request(on: socket, close: true))?.hasPrefix("HTTP/1.1 200") == true
                {
                    report.probes.append(elapsed(since: probeStart) * 1000)
                } else {
                    report.probeFailures += 1
                }
            }
            let allClosed = attackers.indices.allSatisfy { closed[$0] != nil || attackers[$0].socket == nil }
            if allClosed, report.probes.count >= 150 { break }
            usleep(5_000)
        }
        report.seconds = elapsed(since: start)
        for (index, attacker) in attackers.enumerated() {
            attacker.socket?.hangUp()
            let value = attacker.socket == nil ? Double.infinity : closed[index]
            switch attacker.group {
            case 0: report.slow.append(value)
            case 1: report.silent.append(value)
            default: report.keptAlive.append(value)
            }
        }
        return report
    }

    /// Sends `GET /healthz` on `socket` and returns the whole response once its body has arrived.
    static func request(on socket: RawSocket, close: Bool = false) throws -> String {
        let connection = close ? "Connection: close\r\n" : ""
        guard socket.transmit("GET /healthz HTTP/1.1\r\nHost: test\r\n\(connection)\r\n") else {
            throw RawSocket.Failure(description: "the request could not be sent")
        }
        var received: [UInt8] = []
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while ContinuousClock.now < deadline {
            _ = socket.waitReadable(milliseconds: 100)
            let (bytes, closed) = socket.receive()
            received += bytes
            let text = String(decoding: received, as: UTF8.self)
            if text.contains("\r\n\r\n"), text.hasSuffix("}") { return text }
            if closed { break }
        }
        throw RawSocket.Failure(description: "no whole response: \(String(decoding: received, as: UTF8.self))")
    }

    /// Waits until the server closes `socket`, keeping what it sent (``RawSocket/receivedSoFar``).
    static func waitClosed(_ socket: RawSocket, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: limit)
        while ContinuousClock.now < deadline {
            if socket.receiveKeeping() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
