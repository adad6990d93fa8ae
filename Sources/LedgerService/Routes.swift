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
    ///
    /// Every route checks its query with ``QueryParameters`` (an unknown, repeated or malformed parameter is 400
    /// naming it) and every JSON body member by name, so a typo is refused rather than silently ignored.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: MetricsMiddleware(metrics: metrics))

        router.get("/healthz") { request, _ in
            Self.checked(request) { _ throws(InvalidParameter) in Self.json(["status": "ok"]) }
        }
        router.get("/readyz") { request, _ in
            Self.checked(request) { _ throws(InvalidParameter) in
                guard let model = self.model else {
                    return Self.json(
                        ["status": "unready", "reason": "no verified model serves the target yet"],
                        status: .serviceUnavailable
                    )
                }
                return Self.json(["status": "ready", "model": model.reference])
            }
        }
        router.get("/metrics") { request, _ in
            Self.checked(request) { _ throws(InvalidParameter) in
                Response(
                    status: .ok,
                    headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: self.metrics.exposition()))
                )
            }
        }

        router.post("/v1/score") { request, _ in
            if let refusal = Self.refusal(request) { return refusal }
            return await self.score(request)
        }
        router.get("/v1/model") { request, _ in
            Self.checked(request) { _ throws(InvalidParameter) in
                guard let model = self.model else {
                    return Self.error(
                        .serviceUnavailable,
                        "model.unavailable",
                        "no verified model serves \(self.configuration.target) yet"
                    )
                }
                return Self.json([
                    "target": .string(self.configuration.target), "model": model.reference,
                    "features": .array(model.featureNames.map(JSONValue.string)),
                    "threshold": .number(model.threshold), "alertBudget": .number(model.alertBudget),
                    "lineage": model.lineage,
                ])
            }
        }

        router.get("/v1/registry") { request, _ in
            Self.checked(request) { _ throws(InvalidParameter) in Self.json(self.projections.registryJSON()) }
        }
        router.get("/v1/registry/:model") { request, context in
            Self.checked(request) { _ throws(InvalidParameter) in
                Self.json(self.projections.registryJSON(model: context.parameters.get("model")))
            }
        }
        router.get("/v1/registry/:model/:version") { request, context in
            Self.checked(request) { _ throws(InvalidParameter) in
                try Self.version(context) { self.projections.versionJSON($0, $1) }
            }
        }
        router.get("/v1/deployments") { request, _ in
            Self.checked(request, allowed: ["target", "at"]) { query throws(InvalidParameter) in
                var time: Timestamp?
                if let at = query.string("at") {
                    guard let parsed = Timestamp(userInput: at) else {
                        throw InvalidParameter("at must be a UTC time such as 2026-03-03T12:00:00Z")
                    }
                    time = parsed
                }
                return Self.json(self.projections.deploymentsJSON(target: query.string("target"), at: time))
            }
        }
        router.get("/v1/runs") { request, _ in
            Self.checked(request) { _ throws(InvalidParameter) in Self.json(self.projections.runsJSON()) }
        }
        router.get("/v1/runs/**") { request, context in
            Self.checked(request) { _ throws(InvalidParameter) in
                // Run ids hold '/', so the id is the rest of the path.
                let id = context.parameters.getCatchAll().joined(separator: "/")
                guard let record = self.projections.runs[id] else {
                    return Self.error(.notFound, "run.unknown", "no run \(id) in the log")
                }
                return Self.json(record.jsonValue)
            }
        }
        router.get("/v1/lineage/:model/:version") { request, context in
            Self.checked(request) { _ throws(InvalidParameter) in
                try Self.version(context) { self.projections.lineageJSON($0, $1) }
            }
        }
        router.get("/v1/drift") { request, _ in
            Self.checked(request, allowed: ["feature", "last"]) { query throws(InvalidParameter) in
                let last = try query.integer("last", in: 1...Int64(Int32.max)).map { Int($0) }
                return Self.json(self.projections.driftJSON(feature: query.string("feature"), last: last))
            }
        }
        router.get("/v1/events") { request, _ in
            do throws(InvalidParameter) {
                let query = try QueryParameters(request, allowed: ["after", "limit"])
                return await self.events(
                    after: try query.integer("after", in: -1...(Int64.max - 1)) ?? -1,
                    limit: Int(try query.integer("limit", in: 1...1000) ?? 100)
                )
            } catch {
                return error.response
            }
        }
        router.post("/v1/events") { request, _ in
            if let refusal = Self.refusal(request) { return refusal }
            return await self.submit(request)
        }
        router.get("/v1/checkpoint") { request, _ in
            if let refusal = Self.refusal(request) { return refusal }
            return await self.checkpoint()
        }
        router.get("/v1/proof/inclusion") { request, _ in
            do throws(InvalidParameter) {
                let query = try QueryParameters(request, allowed: ["seq", "size"])
                return await self.inclusionProof(
                    seq: UInt64(try query.required("seq", in: 0...Int64.max)),
                    size: try query.integer("size", in: 1...Int64.max).map(UInt64.init)
                )
            } catch {
                return error.response
            }
        }
        router.get("/v1/proof/consistency") { request, _ in
            do throws(InvalidParameter) {
                let query = try QueryParameters(request, allowed: ["from", "to"])
                return await self.consistencyProof(
                    from: UInt64(try query.required("from", in: 0...Int64.max)),
                    to: UInt64(try query.required("to", in: 0...Int64.max))
                )
            } catch {
                return error.response
            }
        }
        addTileRoutes(to: router)
        return router
    }

    /// `answer` for a request whose query `allowed` takes, or the 400 that names the parameter refused.
    static func checked(
        _ request: Request,
        allowed: [String] = [],
        _ answer: (QueryParameters) throws(InvalidParameter) -> Response
    ) -> Response {
        do throws(InvalidParameter) {
            return try answer(try QueryParameters(request, allowed: allowed))
        } catch {
            return error.response
        }
    }

    /// The 400 for a request that has query parameters where its route takes none, or nil.
    static func refusal(_ request: Request) -> Response? {
        do throws(InvalidParameter) {
            _ = try QueryParameters(request, allowed: [])
            return nil
        } catch {
            return error.response
        }
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
    ///
    /// - Throws: when the version is not a whole number of at least 1.
    static func version(
        _ context: BasicRequestContext,
        _ answer: (String, Int) -> JSONValue?
    ) throws(InvalidParameter) -> Response {
        guard let text = context.parameters.get("version"), let version = QueryParameters.decimal(text),
            (1...Int64(Int32.max)).contains(version)
        else { throw InvalidParameter(QueryParameters.describe("version", 1...Int64(Int32.max))) }
        guard let name = context.parameters.get("model"), let json = answer(name, Int(version)) else {
            return error(.notFound, "version.unknown", "no such registered version")
        }
        return Self.json(json)
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(["error": ["code": .string(code), "message": .string(message)]], status: status)
    }

    /// The status a refused append answers with: 409 for a seq that is no longer next, 403 for authority, 503 for
    /// the server's own failures (storage, or a log that disagrees with a signed checkpoint: a detected truncation
    /// or rewrite is no fault of the request), 400 for the rest.
    static func status(for error: LedgerError) -> HTTPResponse.Status {
        switch error.code {
        case .sequence, .conflict: .conflict
        case .badSignature, .unknownKey, .revokedKey, .roleNotAllowed, .policy: .forbidden
        case .storage, .checkpoint: .serviceUnavailable
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

    /// `GET /v1/events`: at most `limit` envelopes after the seq `after` (-1: from the start).
    func events(after: Int64, limit: Int) async -> Response {
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
        do throws(InvalidParameter) {
            // The envelope parser refuses unknown top-level members; a signature's are checked here, since
            // whatever is dropped from the body would otherwise be dropped silently.
            for (index, signature) in (json["signatures"]?.arrayValue ?? []).enumerated() {
                _ = try signature.members(allowed: ["keyid", "sig"], of: "signatures[\(index)]")
            }
        } catch {
            return error.response
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

    /// `GET /v1/proof/inclusion`: the proof that `seq` is in the tree of `size` (default: the current size).
    func inclusionProof(seq: UInt64, size: UInt64?) async -> Response {
        do {
            let proof = try await LogProofs.inclusion(
                store: ledger.store,
                seq: seq,
                size: size,
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

    /// `GET /v1/proof/consistency`: the proof that the tree of size `from` is a prefix of the tree of size `to`.
    func consistencyProof(from: UInt64, to: UInt64) async -> Response {
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
