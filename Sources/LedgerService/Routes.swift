public import Hummingbird
import LedgerAudit
import LedgerCore
import LedgerProjections
import LedgerStore

/// The HTTP API of `ledger serve`. Every body is JSON (RFC 8785 form); every error is
/// `{"error": {"code", "message"}}` with the status the failure calls for. `docs/openapi.json` documents it,
/// and a test checks the document against these routes.
extension LedgerServer {
    /// The router with every route, and the middleware that counts and times them.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: MetricsMiddleware(metrics: metrics))

        router.get("/healthz") { _, _ in Self.json(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            guard let model = self.model else {
                return Self.json(
                    ["status": "unready", "reason": "no verified model serves the target yet"],
                    status: .serviceUnavailable
                )
            }
            return Self.json(["status": "ready", "model": model.reference])
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: self.metrics.exposition()))
            )
        }

        router.post("/v1/score") { request, _ in await self.score(request) }
        router.get("/v1/model") { _, _ in
            guard let model = self.model else {
                return Self.error(
                    .serviceUnavailable,
                    "model.unavailable",
                    "no verified model serves \(self.configuration.target) yet"
                )
            }
            return Self.json([
                "target": .string(self.configuration.target), "model": model.reference,
                "features": .array(model.featureNames.map(JSONValue.string)), "threshold": .number(model.threshold),
                "alertBudget": .number(model.alertBudget), "lineage": model.lineage,
            ])
        }

        router.get("/v1/registry") { _, _ in Self.json(self.projections.registryJSON()) }
        router.get("/v1/registry/:model") { _, context in
            Self.json(self.projections.registryJSON(model: context.parameters.get("model")))
        }
        router.get("/v1/registry/:model/:version") { _, context in
            Self.version(context) { self.projections.versionJSON($0, $1) }
        }
        router.get("/v1/deployments") { request, _ in
            let query = request.uri.queryParameters
            var time: Timestamp?
            if let at = query["at"] {
                guard let parsed = Timestamp(userInput: String(at)) else {
                    return Self.error(
                        .badRequest,
                        "argument.invalid",
                        "at must be a UTC time such as 2026-03-03T12:00:00Z"
                    )
                }
                time = parsed
            }
            return Self.json(self.projections.deploymentsJSON(target: query["target"].map(String.init), at: time))
        }
        router.get("/v1/runs") { _, _ in Self.json(self.projections.runsJSON()) }
        router.get("/v1/runs/**") { _, context in
            // Run ids hold '/', so the id is the rest of the path.
            let id = context.parameters.getCatchAll().joined(separator: "/")
            guard let record = self.projections.runs[id] else {
                return Self.error(.notFound, "run.unknown", "no run \(id) in the log")
            }
            return Self.json(record.jsonValue)
        }
        router.get("/v1/lineage/:model/:version") { _, context in
            Self.version(context) { self.projections.lineageJSON($0, $1) }
        }
        router.get("/v1/drift") { request, _ in
            let query = request.uri.queryParameters
            var last: Int?
            if let text = query["last"] {
                guard let value = Int(String(text)), value >= 1 else {
                    return Self.error(.badRequest, "argument.invalid", "last must be a whole number of at least 1")
                }
                last = value
            }
            return Self.json(self.projections.driftJSON(feature: query["feature"].map(String.init), last: last))
        }
        router.get("/v1/events") { request, _ in await self.events(request) }
        router.post("/v1/events") { request, _ in await self.submit(request) }
        router.get("/v1/checkpoint") { _, _ in await self.checkpoint() }
        router.get("/v1/proof/inclusion") { request, _ in await self.inclusionProof(request) }
        router.get("/v1/proof/consistency") { request, _ in await self.consistencyProof(request) }
        return router
    }

    // MARK: - Responses

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        // Every value here is built from strings and finite numbers, which always encode.
        let bytes = (try? CanonicalJSON.encode(value)) ?? Array("null".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    /// The answer of a `/{model}/{version}` route: `answer`'s JSON, or 404 for a version that is not registered.
    static func version(_ context: BasicRequestContext, _ answer: (String, Int) -> JSONValue?) -> Response {
        guard let name = context.parameters.get("model"),
            let version = context.parameters.get("version").flatMap(Int.init), let json = answer(name, version)
        else { return error(.notFound, "version.unknown", "no such registered version") }
        return Self.json(json)
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(["error": ["code": .string(code), "message": .string(message)]], status: status)
    }

    /// The status a refused append answers with: 409 for a seq that is no longer next, 403 for authority, 400
    /// for the rest.
    static func status(for error: LedgerError) -> HTTPResponse.Status {
        switch error.code {
        case .sequence, .conflict: .conflict
        case .badSignature, .unknownKey, .revokedKey, .roleNotAllowed, .policy: .forbidden
        case .storage: .serviceUnavailable
        default: .badRequest
        }
    }

    /// The request's body as JSON, or the response that refuses it.
    func body(of request: Request) async -> Result<JSONValue, ResponseFailure> {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch {
            return .failure(
                ResponseFailure(
                    Self.error(
                        .contentTooLarge,
                        "request.tooLarge",
                        "the body is over \(configuration.maxBodyBytes) bytes"
                    )
                )
            )
        }
        do {
            return .success(try CanonicalJSON.parse(Array(buffer.readableBytesView)))
        } catch {
            return .failure(ResponseFailure(Self.error(.badRequest, "request.json", "the body is not JSON: \(error)")))
        }
    }

    // MARK: - Log routes

    func events(_ request: Request) async -> Response {
        let query = request.uri.queryParameters
        let after = query["after"].map { Int64(String($0)) } ?? -1
        let limit = query["limit"].map { Int(String($0)) } ?? 100
        guard let after, let limit, after >= -1, after < Int64.max, (1...1000).contains(limit) else {
            return Self.error(.badRequest, "argument.invalid", "after is a seq (or -1) and limit 1 to 1000")
        }
        do {
            let size = try await ledger.store.size()
            let start = UInt64(after + 1)
            let entries =
                start < size ? try await ledger.store.entries(in: start..<min(size, start + UInt64(limit))) : []
            var envelopes: [JSONValue] = []
            for entry in entries { envelopes.append(try CanonicalJSON.parse(entry.leaf)) }
            return Self.json([
                "events": .array(envelopes), "size": .int(size),
                "next": entries.last.map { .int($0.seq) } ?? .int(after),
            ])
        } catch {
            return Self.error(.internalServerError, "store.failure", "cannot read the log: \(error)")
        }
    }

    /// Appends a DSSE envelope signed elsewhere: the signature, the authority and every rule are checked first.
    func submit(_ request: Request) async -> Response {
        let json: JSONValue
        switch await body(of: request) {
        case .success(let value): json = value
        case .failure(let refusal): return refusal.response
        }
        do {
            let envelope = try Envelope(jsonBytes: try CanonicalJSON.encode(json))
            // Judge it against the log as it is now, not as the last poll saw it.
            try await ledger.catchUp()
            let signed = try await ledger.append(envelope: envelope)
            notifyChanged()
            log(["msg": "event appended", "seq": .int(signed.event.seq), "type": .string(signed.event.type)])
            return Self.json(
                [
                    "seq": .int(signed.event.seq), "type": .string(signed.event.type),
                    "leafHash": .string(signed.leafHash.hex),
                ],
                status: .created
            )
        } catch let error as LedgerError {
            return Self.error(Self.status(for: error), error.code.rawValue, error.reason)
        } catch {
            return Self.error(.badRequest, "event.malformed", "not an envelope: \(error)")
        }
    }

    func checkpoint() async -> Response {
        guard let logKey else {
            return Self.error(.serviceUnavailable, "checkpoint.unavailable", "this server has no log key")
        }
        do {
            try await ledger.catchUp()
            let note = try await LogProofs.checkpoint(store: ledger.store, state: await ledger.state, signer: logKey)
            return Self.json(note)
        } catch {
            // Whatever fails here is the server's own key or storage, not the request.
            return Self.error(.serviceUnavailable, error.code.rawValue, error.reason)
        }
    }

    func inclusionProof(_ request: Request) async -> Response {
        let query = request.uri.queryParameters
        guard let seq = query["seq"].flatMap({ UInt64(String($0)) }) else {
            return Self.error(.badRequest, "argument.invalid", "seq is required")
        }
        do {
            let proof = try await LogProofs.inclusion(
                store: ledger.store,
                seq: seq,
                size: query["size"].flatMap { UInt64(String($0)) },
                logID: await ledger.state.logID ?? ""
            )
            return Self.json(proof)
        } catch {
            return Self.error(
                error.code == .invalidArgument ? .badRequest : .serviceUnavailable,
                error.code.rawValue,
                error.reason
            )
        }
    }

    func consistencyProof(_ request: Request) async -> Response {
        let query = request.uri.queryParameters
        guard let from = query["from"].flatMap({ UInt64(String($0)) }),
            let to = query["to"].flatMap({ UInt64(String($0)) })
        else { return Self.error(.badRequest, "argument.invalid", "from and to are required") }
        do {
            let proof = try await LogProofs.consistency(
                store: ledger.store,
                from: from,
                to: to,
                logID: await ledger.state.logID ?? ""
            )
            return Self.json(proof)
        } catch {
            return Self.error(
                error.code == .invalidArgument ? .badRequest : .serviceUnavailable,
                error.code.rawValue,
                error.reason
            )
        }
    }
}

/// A response that ends a request early: a body too large, not JSON, or not what the route takes.
struct ResponseFailure: Error {
    let response: Response

    init(_ response: Response) { self.response = response }
}

/// Counts and times every request by its route pattern (so `/v1/registry/{model}`, not each model).
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: ServiceMetrics

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        func record(_ status: Int) {
            let elapsed = ContinuousClock.now - started
            metrics.request(
                route: context.endpointPath ?? "unmatched",
                method: request.method.rawValue,
                status: status,
                seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            )
        }
        do {
            let response = try await next(request, context)
            record(response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            record(error.status.code)
            throw error
        }
    }
}
