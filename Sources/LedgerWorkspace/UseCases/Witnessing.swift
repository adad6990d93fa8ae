import AsyncHTTPClient
public import LedgerCore
import LedgerStore
import LedgerTransparency
import NIOCore
import NIOHTTP1

// The log side of C2SP tlog-witness: `ledger checkpoint --witness URL|FILE`. The checkpoint is signed as
// `ledger checkpoint` signs it, each witness is asked for its cosignature with a consistency proof from the size it
// last cosigned, and the checkpoint with every cosignature obtained is kept.

/// One witness to ask: an HTTP submission prefix or, for a witness with no network, a file; and optionally its
/// verifier key, which the cosignatures it returns must verify with.
public struct WitnessTarget: Sendable, Hashable {
    /// Where the witness is.
    public enum Location: Sendable, Hashable {
        /// The submission prefix: the request goes to `<url>/add-checkpoint`.
        case url(String)
        /// A file: the request is written there when it does not exist; otherwise it is the witness's response.
        case file(String)
    }

    /// Where the witness is.
    public var location: Location
    /// The witness's cosigner key; required for a file.
    public var verifier: CosignatureVerifier?

    /// Creates a target.
    public init(location: Location, verifier: CosignatureVerifier?) {
        self.location = location
        self.verifier = verifier
    }

    /// Parses `URL[=VKEY]` or `FILE=VKEY`: an `http://` or `https://` URL is a witness's submission prefix; anything
    /// else is a file. The text after the last `=` is the witness's vkey if it parses as one (a vkey has no `=`).
    ///
    /// - Throws: `argument.invalid` for an empty location, a vkey that is not a cosigner vkey (type 0x04), or a file
    ///   without its vkey (the file flow relies on it to know the witness and check its response).
    public init(argument: String) throws(LedgerError) {
        var location = argument
        var verifier: CosignatureVerifier?
        if let equals = argument.lastIndex(of: "="), argument[equals...].count > 1 {
            let candidate = String(argument[argument.index(after: equals)...])
            if candidate.contains("+") {
                do {
                    verifier = try CosignatureVerifier(verifierKey: candidate)
                } catch {
                    throw LedgerError(
                        .invalidArgument,
                        "--witness \(argument): \(candidate) is not a witness's vkey (type 0x04): \(error.reason)"
                    )
                }
                location = String(argument[..<equals])
            }
        }
        guard !location.isEmpty else { throw LedgerError(.invalidArgument, "--witness needs a URL or a file") }
        let lowered = location.lowercased()
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            self.init(location: .url(location), verifier: verifier)
        } else {
            guard verifier != nil else {
                throw LedgerError(
                    .invalidArgument,
                    "--witness \(location): a file needs the witness's vkey, as FILE=VKEY (`ledger witness vkey DIR` prints it)"
                )
            }
            self.init(location: .file(location), verifier: verifier)
        }
    }

    /// The key under which the size this witness last cosigned is remembered: the URL, or the witness's name for a
    /// file (whose request and response files differ).
    var label: String {
        switch location {
        case .url(let url): url
        case .file: "witness:" + (verifier?.name ?? "")
        }
    }
}

/// What one witness did with the checkpoint.
public struct WitnessReport: Sendable, Hashable {
    /// What happened.
    public enum Outcome: String, Sendable, Hashable {
        /// The witness cosigned: its lines are in the note.
        case cosigned
        /// A file witness: the request was written, to be carried to the witness.
        case requestWritten
        /// The witness refused (a 4xx), or its answer could not be used.
        case refused
        /// The witness could not be reached or failed (a 5xx, a timeout).
        case unreachable
    }

    /// The witness's URL or file.
    public var witness: String
    public var outcome: Outcome
    /// The cosignature lines added to the note.
    public var cosignatures: Int
    /// Whether those were checked with the witness's vkey (false when none was given).
    public var verified: Bool
    /// The old size the request was made from.
    public var oldSize: UInt64
    /// Why, for anything but `cosigned`; the file written for `requestWritten`.
    public var detail: String?
}

/// The outcome of ``WorkspaceSession/witnessCheckpoint(signer:witnesses:transport:)``.
public struct WitnessingResult: Sendable {
    /// The checkpoint: origin, size and root.
    public var checkpoint: Checkpoint
    /// The signed note with the log's signature and every cosignature obtained.
    public var note: SignedNote
    /// One report per witness, in the order given.
    public var witnesses: [WitnessReport]
    /// Whether the note was kept in the log's store now. It is not when no witness cosigned (ask again, or run
    /// `ledger checkpoint` without witnesses), or when a checkpoint of the same size was already kept (the store
    /// keeps the first note of each size).
    public var kept: Bool
    /// Why it was not kept.
    public var notKeptReason: String?
}

/// Carries an add-checkpoint request to a witness over HTTP. The answer's body is read up to
/// ``CosignatureResponse/maximumBytes``.
public protocol WitnessTransport: Sendable {
    /// POSTs `body` to `url` and returns the status, the content type and the body.
    ///
    /// - Throws: `witness.request` when no answer came (connection refused, timeout) or the body is too large.
    func post(
        _ body: [UInt8],
        to url: String
    ) async throws(LedgerError) -> (status: Int, contentType: String?, body: [UInt8])
}

/// The transport in use: one process-wide AsyncHTTPClient that follows no redirect and does not decompress.
public struct HTTPWitnessTransport: WitnessTransport {
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(30)),
            decompression: .disabled
        )
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// The transport.
    public init() {}

    public func post(
        _ body: [UInt8],
        to url: String
    ) async throws(LedgerError) -> (status: Int, contentType: String?, body: [UInt8]) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await Self.client.execute(request, timeout: .seconds(30))
            let buffer = try await response.body.collect(upTo: CosignatureResponse.maximumBytes)
            return (
                Int(response.status.code), response.headers.first(name: "Content-Type"), Array(buffer.readableBytesView)
            )
        } catch {
            throw LedgerError(.witnessRequest, "no answer from \(url): \(String(describing: error).prefix(200))")
        }
    }
}

extension WorkspaceSession {
    /// The file in the workspace that remembers, per witness, the size it last cosigned.
    public static let witnessSizesFile = "witnesses.json"

    /// Signs a checkpoint of the whole log with `signer` (an active log key, as `ledger checkpoint`), asks every
    /// witness to cosign it, and keeps it with the cosignatures obtained.
    ///
    /// For a URL the request's old size is the size that witness last cosigned, as remembered in
    /// `witnesses.json` (0 at first); on a 409 the request is made once more from the size the witness names, if the
    /// log holds it. For a file: if it does not exist the request is written there (to carry to an air-gapped
    /// `ledger witness cosign`); if it exists it is that witness's response, and its cosignatures must verify on this
    /// very checkpoint (so the log must not have grown since the request).
    ///
    /// Cosignatures from a witness given with its vkey are kept only if they verify; without a vkey they are kept
    /// unchecked, and the report says so.
    ///
    /// - Throws: `authority.role` if `signer` is not an active log key; `checkpoint` if it cannot sign; `file.io` when
    ///   a request file cannot be written or a response file read; a store failure. A witness that refuses or fails is
    ///   reported, not thrown.
    public func witnessCheckpoint(
        signer: SigningKey,
        witnesses: [WitnessTarget],
        transport: any WitnessTransport = HTTPWitnessTransport()
    ) async throws(LedgerError) -> WitnessingResult {
        let state = await ledger.state
        let leafHashes = try await store.leaves(upTo: state.size).map { MerkleTree.leafHash($0) }
        let (checkpoint, signed) = try LogProofs.signedCheckpoint(leafHashes: leafHashes, state: state, signer: signer)
        var note = signed
        let logSigned = note
        var sizes = try rememberedWitnessSizes()
        var reports: [WitnessReport] = []
        for target in witnesses {
            let old = sizes[target.label] ?? 0
            var report = WitnessReport(
                witness: target.locationText,
                outcome: .refused,
                cosignatures: 0,
                verified: target.verifier != nil,
                oldSize: old
            )
            let lines: [NoteSignature]
            switch target.location {
            case .url(let url):
                (lines, report) = await ask(
                    url,
                    target: target,
                    old: old,
                    logSigned: logSigned,
                    leafHashes: leafHashes,
                    report: report,
                    transport: transport
                )
            case .file(let path):
                (lines, report) = try askFile(
                    path,
                    target: target,
                    old: old,
                    logSigned: logSigned,
                    leafHashes: leafHashes,
                    report: report
                )
            }
            if !lines.isEmpty {
                sizes[target.label] = checkpoint.size
                for line in lines where !note.signatures.contains(line) { note.signatures.append(line) }
            }
            reports.append(report)
        }
        try rememberWitnessSizes(sizes)
        var kept = false
        var reason: String?
        if note.signatures.count == logSigned.signatures.count {
            reason = "no witness cosigned; nothing was kept"
        } else if let existing = try await store.checkpoints().first(where: { $0.size == checkpoint.size }) {
            kept = existing.note == note.serialized
            if !kept {
                reason =
                    "a checkpoint of size \(checkpoint.size) was already kept, and the store keeps the first note of each size; the cosigned note is printed (and written with --out)"
            }
        } else {
            try await store.keepCheckpoint(note.serialized, size: checkpoint.size)
            kept = true
        }
        return WitnessingResult(
            checkpoint: checkpoint,
            note: note,
            witnesses: reports,
            kept: kept,
            notKeptReason: reason
        )
    }

    private func ask(
        _ url: String,
        target: WitnessTarget,
        old: UInt64,
        logSigned: SignedNote,
        leafHashes: [Hash256],
        report: WitnessReport,
        transport: any WitnessTransport
    ) async -> ([NoteSignature], WitnessReport) {
        var report = report
        var old = old
        let endpoint = (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/add-checkpoint"
        for attempt in 0..<2 {
            guard old <= UInt64(leafHashes.count) else {
                report.detail =
                    "the witness has cosigned size \(old) of this log, more than its \(leafHashes.count) entries: this log lost entries or forked"
                return ([], report)
            }
            report.oldSize = old
            let request: AddCheckpointRequest
            do {
                request = AddCheckpointRequest(
                    oldSize: old,
                    proof: try MerkleTree.consistencyProof(oldSize: Int(old), leafHashes: leafHashes),
                    checkpoint: logSigned
                )
            } catch {
                report.detail = "cannot make the consistency proof: \(error.reason)"
                return ([], report)
            }
            let answer: (status: Int, contentType: String?, body: [UInt8])
            do { answer = try await transport.post(request.body, to: endpoint) } catch {
                report.outcome = .unreachable
                report.detail = error.reason
                return ([], report)
            }
            switch answer.status {
            case 200:
                return accept(answer.body, target: target, logSigned: logSigned, report: report)
            case 409 where attempt == 0:
                let text = answer.body.last == 0x0a ? answer.body.dropLast() : answer.body[...]
                guard let size = AddCheckpointRequest.decimal(text) else {
                    report.detail = "409 without a size in its body"
                    return ([], report)
                }
                old = size
            default:
                report.outcome = answer.status >= 500 ? .unreachable : .refused
                report.detail = "HTTP \(answer.status): \(Self.printable(answer.body))"
                return ([], report)
            }
        }
        report.detail = "the witness answered 409 twice"
        return ([], report)
    }

    private func askFile(
        _ path: String,
        target: WitnessTarget,
        old: UInt64,
        logSigned: SignedNote,
        leafHashes: [Hash256],
        report: WitnessReport
    ) throws(LedgerError) -> ([NoteSignature], WitnessReport) {
        var report = report
        if Files.exists(path) {
            let bytes = try Files.read(path, Files.Input.checkpoint)
            return accept(bytes, target: target, logSigned: logSigned, report: report)
        }
        guard old <= UInt64(leafHashes.count) else {
            report.detail =
                "the witness has cosigned size \(old) of this log, more than its \(leafHashes.count) entries: this log lost entries or forked"
            return ([], report)
        }
        let proof: [Hash256]
        do { proof = try MerkleTree.consistencyProof(oldSize: Int(old), leafHashes: leafHashes) } catch {
            throw LedgerError(.invalidArgument, "cannot make the consistency proof: \(error.reason)")
        }
        let request = AddCheckpointRequest(oldSize: old, proof: proof, checkpoint: logSigned)
        try Files.writeAtomically(request.body, to: path)
        report.outcome = .requestWritten
        report.detail = path
        return ([], report)
    }

    /// The cosignature lines of a 200 answer or a response file that this witness may add: with a vkey, those of
    /// that witness that verify on the checkpoint (at least one, or the answer is refused); without, every line.
    private func accept(
        _ body: [UInt8],
        target: WitnessTarget,
        logSigned: SignedNote,
        report: WitnessReport
    ) -> ([NoteSignature], WitnessReport) {
        var report = report
        let lines: [NoteSignature]
        do { lines = try CosignatureResponse.parse(body, for: logSigned) } catch {
            report.detail = error.reason
            return ([], report)
        }
        var accepted = lines
        if let verifier = target.verifier {
            accepted = lines.filter { verifier.timestamp(of: $0, on: logSigned.text) != nil }
            guard !accepted.isEmpty else {
                report.detail =
                    "no cosignature of \(verifier.name) in the answer verifies on this checkpoint (size \(logSigned.text.split(separator: "\n").dropFirst().first ?? ""))"
                return ([], report)
            }
        }
        report.outcome = .cosigned
        report.cosignatures = accepted.count
        return (accepted, report)
    }

    /// A refusal's body as one printable line, at most 300 characters.
    static func printable(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        let line = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : Character($0) })
        return String(line.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }

    private func rememberedWitnessSizes() throws(LedgerError) -> [String: UInt64] {
        let path = workspace.path(Self.witnessSizesFile)
        guard Files.exists(path) else { return [:] }
        let document: JSONValue
        do { document = try CanonicalJSON.parse(try Files.read(path, .workspaceConfig)) } catch {
            throw LedgerError(.file, "\(path) is not JSON: \(error)")
        }
        var sizes: [String: UInt64] = [:]
        for (label, value) in document["witnesses"]?.objectValue?.sortedByKey() ?? [] {
            guard let size = value.integerValue, size >= 0 else {
                throw LedgerError(.file, "\(path) holds a size that is not a whole number")
            }
            sizes[label] = UInt64(size)
        }
        return sizes
    }

    private func rememberWitnessSizes(_ sizes: [String: UInt64]) throws(LedgerError) {
        let document: JSONValue = [
            "version": 1, "witnesses": .object(sizes.mapValues { JSONValue.int($0) }),
        ]
        let bytes = ((try? CanonicalJSON.encode(document)) ?? []) + [0x0a]
        try Files.writeAtomically(bytes, to: workspace.path(Self.witnessSizesFile))
    }
}

extension WitnessTarget {
    /// The URL or the file, as given.
    var locationText: String {
        switch location {
        case .url(let url): url
        case .file(let path): path
        }
    }
}
