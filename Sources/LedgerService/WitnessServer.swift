public import Hummingbird
public import LedgerCore
public import LedgerTransparency
import Logging
import NIOCore

/// `ledger witness serve`: a C2SP tlog-witness over HTTP.
///
/// - `POST /add-checkpoint`: the request body of tlog-witness; 200 with the cosignature lines, 400, 403, 404, 409
///   (`text/x.tlog.size`, the latest cosigned size and a newline), 413 for a body over
///   ``AddCheckpointRequest/maximumBytes``, 422, or 500 when the witness's state cannot be read or written (a torn
///   or changed state is refused, never reset).
/// - `GET /<lowercase hex SHA-256 of an origin>/checkpoint`: the latest checkpoint cosigned for that log, with the
///   log's signature and the witness's cosignature; 404 if there is none.
///
/// Every other path is 404. Nothing else is served, and the witness holds no state in memory that is not on disk.
public struct WitnessServer: Sendable {
    /// The witness answering the requests.
    public let witness: Witness
    let log: @Sendable ([String: JSONValue]) -> Void

    /// A server for `witness`; `log` receives one record per cosignature, refusal and failure.
    public init(witness: Witness, log: @escaping @Sendable ([String: JSONValue]) -> Void) {
        self.witness = witness
        self.log = log
    }

    /// The router with the two routes.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/add-checkpoint") { request, _ in
            await addCheckpoint(request)
        }
        router.get("/:origin/checkpoint") { _, context in
            await checkpoint(originHash: context.parameters.get("origin") ?? "")
        }
        return router
    }

    func addCheckpoint(_ request: Request) async -> Response {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: AddCheckpointRequest.maximumBytes)
        } catch {
            return Self.text(.contentTooLarge, "the body is over \(AddCheckpointRequest.maximumBytes) bytes\n")
        }
        do {
            let outcome = try await witness.addCheckpoint(buffer.readableBytesView)
            var record: [String: JSONValue] = ["msg": "add-checkpoint", "outcome": .string(outcome.name)]
            if case .cosigned(_, let checkpoint) = outcome {
                record["origin"] = .string(checkpoint.origin)
                record["size"] = .int(checkpoint.size)
            } else {
                record["level"] = "warning"
                record["reason"] = .string(outcome.reason)
            }
            log(record)
            return Self.response(for: outcome)
        } catch {
            log([
                "level": "error", "msg": "add-checkpoint failed", "code": .string(error.code.rawValue),
                "error": .string(error.reason),
            ])
            return Self.text(.internalServerError, "the witness cannot serve this request now\n")
        }
    }

    func checkpoint(originHash: String) async -> Response {
        guard Hex.isLowercase(originHash, byteCount: 32) else {
            return Self.text(.notFound, "not a lowercase hex SHA-256 of an origin\n")
        }
        do {
            guard let note = try await witness.cosignedCheckpoint(originHash: originHash) else {
                return Self.text(.notFound, "this witness has not cosigned a checkpoint of that log\n")
            }
            return Self.text(.ok, note)
        } catch {
            log([
                "level": "error", "msg": "checkpoint failed", "code": .string(error.code.rawValue),
                "error": .string(error.reason),
            ])
            return Self.text(.internalServerError, "the witness cannot serve this request now\n")
        }
    }

    /// The status, content type and body tlog-witness gives each outcome.
    static func response(for outcome: AddCheckpointOutcome) -> Response {
        let status: HTTPResponse.Status =
            switch outcome {
            case .cosigned: .ok
            case .badRequest: .badRequest
            case .forbidden: .forbidden
            case .unknownOrigin: .notFound
            case .conflict: .conflict
            case .unprocessable: .unprocessableContent
            }
        let type = if case .conflict = outcome { "text/x.tlog.size" } else { "text/plain; charset=utf-8" }
        return Response(
            status: status,
            headers: [.contentType: type],
            body: .init(byteBuffer: ByteBuffer(bytes: outcome.body))
        )
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    /// Serves on `host:port` (0 picks a free port) until SIGTERM or SIGINT, then finishes the requests in flight and
    /// returns.
    ///
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    /// - Throws: `argument.invalid` when the address is in use or cannot be listened on; what the server throws.
    public func run(host: String, port: Int, onListening: @escaping @Sendable (Int) -> Void) async throws {
        var quiet = Logger(label: "ledger.witness")
        quiet.logLevel = .warning
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "ledger-witness"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: quiet
        )
        do {
            try await app.runService()
        } catch let error as IOError {
            throw LedgerServer.bindFailure(error, host: host, port: port) ?? error
        }
    }
}
