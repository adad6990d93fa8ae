import HummingbirdCore
import LedgerCore
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// What `ledger serve` allows a connection, so that slow, idle or too many clients cannot hold the server.
///
/// - A connection MUST send complete request headers within ``headerTimeout`` of opening, and within
///   ``headerTimeout`` of the first byte of each later request on a kept-alive connection; otherwise it is closed.
/// - A kept-alive connection MUST start its next request within ``idleTimeout`` of its last response; otherwise it
///   is closed.
/// - At most ``maxConnections`` connections are open at once. One more is answered `503` and closed at once
///   ("shed"), so a flood costs an attacker a connection each, and nobody waits in a queue.
///
/// Each close and each shed is logged (sheds at most once a second, with their count) and counted in `/metrics`.
/// A request whose headers are complete is never cut by these limits while it is handled.
public struct ConnectionLimits: Sendable, Equatable {
    public var headerTimeout: Duration
    public var idleTimeout: Duration
    public var maxConnections: Int

    public init(headerTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60), maxConnections: Int = 512)
    {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }
}

/// The limits shared by every connection of one server, counted in ``ServiceMetrics/openConnections``, and the
/// log and metrics of what they did.
final class ConnectionBook: Sendable {
    let limits: ConnectionLimits
    let metrics: ServiceMetrics
    private let log: @Sendable ([String: JSONValue]) -> Void
    /// Sheds not yet logged, and when the last shed line was written.
    private let sheds = Mutex<(pending: Int, logged: ContinuousClock.Instant?)>((0, nil))

    init(limits: ConnectionLimits, metrics: ServiceMetrics, log: @escaping @Sendable ([String: JSONValue]) -> Void) {
        self.limits = limits
        self.metrics = metrics
        self.log = log
    }

    /// Counts a new connection in: false when it is one over the cap and must be shed.
    func admit() -> Bool {
        metrics.openConnections.add(1, ordering: .relaxed).newValue <= limits.maxConnections
    }

    /// Counts a connection out, whether it was admitted or shed.
    func release() { metrics.openConnections.subtract(1, ordering: .relaxed) }

    /// Logs and counts a shed connection: one line a second at most, naming how many were shed since the last.
    func shed() {
        metrics.connectionClosed(reason: "shed")
        let now = ContinuousClock.now
        let count: Int? = sheds.withLock { state in
            state.pending += 1
            if let logged = state.logged, now - logged < .seconds(1) { return nil }
            defer { state = (0, now) }
            return state.pending
        }
        guard let count else { return }
        log([
            "level": "warning", "msg": "connection shed: too many open connections", "reason": "maxConnections",
            "maxConnections": .int(Int64(limits.maxConnections)), "shed": .int(Int64(count)),
        ])
    }

    /// Logs and counts a connection closed for a timeout.
    func timedOut(_ reason: ConnectionGuard.Wait, peer: String) {
        metrics.connectionClosed(reason: reason.rawValue)
        let seconds = Self.seconds(reason == .headers ? limits.headerTimeout : limits.idleTimeout)
        log([
            "level": "warning",
            "msg": reason == .headers
                ? "connection closed: request headers not complete in time" : "connection closed: idle too long",
            "reason": .string(reason.rawValue), "timeoutSeconds": .number(seconds), "peer": .string(peer),
        ])
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Hummingbird's HTTP/1.1 channel with ``ConnectionGuard`` in front of it and ``RequestBoundary`` after the
/// HTTP decoder, which tells the guard when a request's headers are complete and when its response is written.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let book: ConnectionBook

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let book = book
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let connectionGuard = ConnectionGuard(book: book)
            try operations.addHandler(connectionGuard, position: .first)
            let decoder = try operations.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try operations.addHandler(RequestBoundary(connectionGuard), position: .after(decoder.handler))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

/// The first handler of every connection: counts it against the cap (answering `503` and closing one over it),
/// and runs its one timer: the header deadline while a request's headers are awaited, the idle deadline between
/// a response and the next request's first byte, none while a request is handled. The timer is cancelled when
/// the connection closes or the handler goes, so nothing outlives the connection.
final class ConnectionGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// What the connection is waiting for when its timer fires.
    enum Wait: String {
        case headers = "headerTimeout"
        case nextRequest = "idleTimeout"
    }

    /// The whole answer to a shed connection, written before its request is read.
    static let shedResponse: ByteBuffer = {
        let body = #"{"error":{"code":"server.busy","message":"too many open connections; try again later"}}"#
        return ByteBuffer(
            string: "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
        )
    }()

    private let book: ConnectionBook
    private var context: ChannelHandlerContext?
    /// Whether the connection was counted in (at activation), and whether within the cap.
    private var counted = false
    private var admitted = false
    private var released = false
    /// Requests whose headers were read and whose response is not written yet.
    private var requestsInFlight = 0
    private var waiting: Wait?
    private var timer: Scheduled<Void>?

    init(book: ConnectionBook) { self.book = book }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        releaseOnce()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        counted = true
        admitted = book.admit()
        guard admitted else {
            book.shed()
            let write = context.writeAndFlush(NIOAny(Self.shedResponse))
            write.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            context.fireChannelActive()
            return
        }
        arm(.headers)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        releaseOnce()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A shed connection's request is never read.
        guard admitted else { return }
        // The first byte after an idle gap starts a request: its headers now have headerTimeout to arrive.
        if waiting == .nextRequest { arm(.headers) }
        context.fireChannelRead(data)
    }

    /// A request's headers were decoded.
    func headersComplete() {
        requestsInFlight += 1
        cancelTimer()
    }

    /// A response was written to its end.
    func responseComplete() {
        requestsInFlight = max(0, requestsInFlight - 1)
        if requestsInFlight == 0, admitted { arm(.nextRequest) }
    }

    private func arm(_ wait: Wait) {
        guard let context else { return }
        cancelTimer()
        waiting = wait
        let delay = wait == .headers ? book.limits.headerTimeout : book.limits.idleTimeout
        let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(nanoseconds)) { [weak self] in
            self?.fire(wait)
        }
    }

    private func fire(_ wait: Wait) {
        timer = nil
        guard let context, waiting == wait else { return }
        waiting = nil
        let peer = context.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        book.timedOut(wait, peer: peer)
        context.close(promise: nil)
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        waiting = nil
    }

    private func releaseOnce() {
        guard counted, !released else { return }
        released = true
        book.release()
    }
}

/// Sits after the HTTP decoder and tells ``ConnectionGuard`` when a request's headers are complete and when a
/// response has been written to its end.
final class RequestBoundary: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let connectionGuard: ConnectionGuard

    init(_ connectionGuard: ConnectionGuard) { self.connectionGuard = connectionGuard }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { connectionGuard.headersComplete() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd { connectionGuard.responseComplete() }
    }
}
