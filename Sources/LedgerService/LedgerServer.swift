import Hummingbird
import HummingbirdCore
public import LedgerArtifacts
public import LedgerCore
public import LedgerProjections
public import LedgerStore
import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `ledger serve` serves and how.
public struct ServiceConfiguration: Sendable {
    /// The deployment target whose model scores.
    public var target: String
    /// How often the log is checked for new events (a new deployment, a rollback).
    public var pollInterval: Duration
    /// The largest request body accepted.
    public var maxBodyBytes: Int
    /// The most rows (or events) one scoring request may carry.
    public var maxRows: Int
    /// The header-read and idle timeouts and the open-connection cap.
    public var connections: ConnectionLimits

    public init(
        target: String = "production",
        pollInterval: Duration = .seconds(2),
        maxBodyBytes: Int = 8 << 20,
        maxRows: Int = 10_000,
        connections: ConnectionLimits = ConnectionLimits()
    ) {
        self.target = target
        self.pollInterval = pollInterval
        self.maxBodyBytes = maxBodyBytes
        self.maxRows = maxRows
        self.connections = connections
    }
}

/// The state behind the HTTP routes: the log, the read side kept current in memory, and the model serving the
/// target, switched atomically when the log says it changed and the new one passes ``ModelLoader``'s checks.
///
/// A request takes the current model once and scores all its rows with it, so no response mixes two versions and
/// none waits for a switch. A model that fails the checks is refused (logged and counted) and the old one goes
/// on serving.
public final class LedgerServer: Sendable {
    public let ledger: Ledger
    public let loader: ModelLoader
    public let configuration: ServiceConfiguration
    public let metrics = ServiceMetrics()
    /// Signs `GET /v1/checkpoint`: the log key, never a human's key.
    let logKey: SigningKey?
    let log: @Sendable ([String: JSONValue]) -> Void

    private struct State {
        var projections = Projections()
        var model: ServingModel?
        /// The deployment last tried, loaded or refused: it is not tried again until the log changes it.
        var attempted: ModelRules.Serving?
        var seenSize: UInt64 = 0
        var dirty = true
        /// A load failed for now: the next refresh tries again, even if the log has not grown.
        var retryPending = false
    }

    private let state = Mutex(State())
    private let gate = RefreshGate()

    /// Opens the server over `store` and `artifacts`, reads the log, and tries to load the model serving the
    /// target. A log that does not open is an error; a model that cannot load is refused, and the server starts
    /// unready.
    public static func start(
        store: any EventStore,
        artifacts: any ArtifactStore,
        trustedGenesis: Hash256,
        headRecord: HeadRecordFile? = nil,
        logKey: SigningKey?,
        configuration: ServiceConfiguration,
        clock: any LedgerClock,
        log: @escaping @Sendable ([String: JSONValue]) -> Void
    ) async throws(LedgerError) -> LedgerServer {
        // With the workspace's head record, a log that lost its tail is refused and every append keeps the record.
        let ledger = try await Ledger.open(store: store, clock: clock, headRecord: headRecord)
        guard await ledger.state.genesisLeafHash == trustedGenesis else {
            throw LedgerError(.trustAnchor, "the log's genesis is not the trusted one")
        }
        let server = LedgerServer(
            ledger: ledger,
            loader: ModelLoader(
                store: store,
                artifacts: artifacts,
                trustedGenesis: trustedGenesis,
                target: configuration.target
            ),
            configuration: configuration,
            logKey: logKey,
            log: log
        )
        try await server.refresh()
        return server
    }

    init(
        ledger: Ledger,
        loader: ModelLoader,
        configuration: ServiceConfiguration,
        logKey: SigningKey?,
        log: @escaping @Sendable ([String: JSONValue]) -> Void
    ) {
        self.ledger = ledger
        self.loader = loader
        self.configuration = configuration
        self.logKey = logKey
        self.log = log
    }

    /// The model serving now, if one passed the checks.
    public var model: ServingModel? { state.withLock { $0.model } }

    /// The read side as of the last refresh.
    public var projections: Projections { state.withLock { $0.projections } }

    /// Asks the next poll to look at the log at once (after an append through the API).
    func notifyChanged() { state.withLock { $0.dirty = true } }

    /// Brings the read side and the model up to the log. Calls run one at a time, in order.
    ///
    /// A deployment that fails for good (the log does not verify, the artifact's bytes changed, a model this
    /// build cannot score) is refused once and not tried again until the log changes what serves. One that
    /// fails for now (the artifact not there yet, the store busy, the log moving on during the check) is
    /// logged and tried again at the next refresh, even if the log has not grown.
    public func refresh() async throws(LedgerError) {
        await gate.acquire()
        do {
            try await refreshAlone()
        } catch {
            await gate.release()
            throw error
        }
        await gate.release()
    }

    /// The codes of load failures worth retrying.
    static let transientCodes: Set<LedgerError.Code> = [.conflict, .storage, .artifactMissing]

    private func refreshAlone() async throws(LedgerError) {
        let size = try await ledger.store.size()
        guard state.withLock({ size != $0.seenSize || $0.retryPending }) else { return }
        try await ledger.catchUp()
        var projections = state.withLock { $0.projections }
        try await ProjectionUpdater.advance(&projections, with: ledger.store)
        let serving = await ledger.state.models.targets[configuration.target]?.current
        let retry = state.withLock { state in
            state.projections = projections
            state.seenSize = size
            return state.attempted != serving
        }
        guard retry, let serving else { return }
        state.withLock {
            $0.attempted = serving
            $0.retryPending = false
        }
        do throws(LedgerError) {
            let (verified, confirmed) = try await loader.verifiedDeployment()
            guard confirmed == serving else {
                throw LedgerError(.conflict, "the deployment moved on while it was checked; the next refresh loads it")
            }
            let model = try await loader.load(serving, state: verified)
            let previous = state.withLock { state in
                let previous = state.model
                // Never go back to an older deployment than the one serving.
                if (previous?.deployedSeq ?? 0) <= model.deployedSeq { state.model = model }
                return previous
            }
            metrics.loaded(name: model.name, version: model.version, sha256: model.artifact.hex)
            log([
                "msg": "model loaded", "model": .string("\(model.name)@\(model.version)"),
                "sha256": .string(model.artifact.hex), "deployedSeq": .int(model.deployedSeq),
                "previous": previous.map { .string("\($0.name)@\($0.version)") } ?? .null,
            ])
        } catch {
            let transient = Self.transientCodes.contains(error.code)
            if transient {
                state.withLock {
                    $0.attempted = nil
                    $0.retryPending = true
                }
                log([
                    "level": "warning", "msg": "model not loaded yet; retrying at the next refresh",
                    "model": .string("\(serving.name)@\(serving.version)"), "code": .string(error.code.rawValue),
                    "error": .string(error.reason),
                ])
                return
            }
            metrics.refused(code: error.code.rawValue)
            log([
                "level": "error", "msg": "model refused; the previous model keeps serving",
                "model": .string("\(serving.name)@\(serving.version)"), "code": .string(error.code.rawValue),
                "error": .string(error.reason),
            ])
        }
    }

    /// Refreshes every poll interval, or within 50 ms of a change made through the API, until cancelled.
    public func poll() async {
        var last = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
            let due = ContinuousClock.now - last >= configuration.pollInterval
            let dirty = state.withLock { state in
                defer { state.dirty = false }
                return state.dirty
            }
            guard due || dirty else { continue }
            last = ContinuousClock.now
            do {
                try await refresh()
            } catch {
                // Stopping (or failing to start) cancels a refresh under way: that is no failure to report.
                if Task.isCancelled { return }
                log([
                    "level": "error", "msg": "refresh failed", "code": .string(error.code.rawValue),
                    "error": .string(error.reason),
                ])
            }
        }
    }
}

extension LedgerServer {
    /// Serves HTTP on `host:port` (port 0 picks a free one) and polls the log, until SIGTERM or SIGINT; then it
    /// stops taking connections, finishes the requests in flight and returns.
    ///
    /// Every connection is held to ``ServiceConfiguration/connections``: see ``ConnectionLimits``.
    ///
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    /// - Throws: `argument.invalid` naming the port and host when the address is in use or not this machine's, or
    ///   cannot be listened on; what the server throws otherwise.
    public func run(host: String, port: Int, onListening: @escaping @Sendable (Int) -> Void) async throws {
        var quiet = Logger(label: "ledger.serve")
        quiet.logLevel = .warning
        let book = ConnectionBook(limits: configuration.connections, metrics: metrics, log: log)
        let app = Application(
            router: router(),
            server: HTTPServerBuilder { responder in
                GuardedHTTP1Channel(http1: HTTP1Channel(responder: responder), book: book)
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "ledger"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: quiet
        )
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.poll() }
                if let signalling = ledger.store as? any AppendSignalling {
                    // A PostgreSQL log says when any process appends: look at once rather than at the next poll.
                    group.addTask {
                        for await _ in signalling.appendSignals() { self.notifyChanged() }
                    }
                }
                try await app.runService()
                group.cancelAll()
            }
        } catch let error as IOError {
            throw Self.bindFailure(error, host: host, port: port) ?? error
        } catch is SocketAddressError {
            throw LedgerError(.invalidArgument, "cannot resolve \(host) to an address to listen on")
        }
    }

    /// The plain reason a listening socket could not be had, or nil for another failure.
    static func bindFailure(_ error: IOError, host: String, port: Int) -> LedgerError? {
        switch error.errnoCode {
        case EADDRINUSE:
            LedgerError(
                .invalidArgument,
                "port \(port) on \(host) is already in use; stop what listens there or pick another --port"
            )
        case EADDRNOTAVAIL:
            LedgerError(.invalidArgument, "\(host) is not an address of this machine; cannot listen on it")
        case EACCES:
            LedgerError(
                .invalidArgument,
                "not permitted to listen on port \(port) on \(host); ports below 1024 need privileges"
            )
        default:
            nil
        }
    }
}

/// Runs refreshes one at a time, in the order they asked.
actor RefreshGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
