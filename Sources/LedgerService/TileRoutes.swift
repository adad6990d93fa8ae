import Hummingbird
import LedgerCore
import LedgerStore
import LedgerTransparency

// The log as C2SP tlog-tiles (https://c2sp.org/tlog-tiles), read-only: the same paths `ledger publish` writes, so
// a monitor or the Go checksum-database tools can follow the log from `ledger serve` as from any static server.

extension LedgerServer {
    /// The entries read from the store at a time while a tile is computed.
    static let tilePageSize: UInt64 = 4096

    /// `GET /checkpoint`, `GET /tile/<L>/<N>[.p/<W>]` and `GET /tile/entries/<N>[.p/<W>]`.
    func addTileRoutes(to router: Router<BasicRequestContext>) {
        router.get("/checkpoint") { request, _ in
            if let refusal = Self.refusal(request) { return refusal }
            return await self.publishedCheckpoint()
        }
        router.get("/tile/**") { request, context in
            if let refusal = Self.refusal(request) { return refusal }
            let text = "tile/" + context.parameters.getCatchAll().joined(separator: "/")
            guard let path = TilePath(text) else {
                return Self.error(
                    .badRequest,
                    "tile.path",
                    "not a tlog-tiles path: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]"
                )
            }
            return await self.tile(path)
        }
    }

    /// The latest checkpoint the log keeps whose signature verifies under a log key in force at its size, as a
    /// signed note. It changes as the log grows, so it may be cached for a few seconds only.
    func publishedCheckpoint() async -> Response {
        do {
            try await ledger.catchUp()
            let state = await ledger.state
            for kept in try await ledger.store.checkpoints().reversed()
            where (try? Verifier.authenticate(checkpoint: kept.note, state: state)) != nil {
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "max-age=5"],
                    body: .init(byteBuffer: ByteBuffer(string: kept.note))
                )
            }
            return Self.error(.notFound, "checkpoint.none", "the log keeps no checkpoint yet: run `ledger checkpoint`")
        } catch {
            return Self.error(.serviceUnavailable, error.code.rawValue, error.reason)
        }
    }

    /// One hash tile or entry bundle, computed from the stored leaves' bytes (never from a stored hash column) for a
    /// tree that holds it. A tile's bytes depend only on the entries it spans, which never change, so every tile is
    /// immutable; a client checks it against a checkpoint's root anyway.
    func tile(_ path: TilePath) async -> Response {
        let level = path.level ?? 0
        // The tile's hashes are MTHs of `span` leaves each; its first hash is number `first` of its level. A path
        // whose range does not fit in 64 bits names no tile of any log.
        let span: UInt64 = level < 8 ? UInt64(1) << UInt64(8 * level) : 0
        let (first, overflow1) = path.index.multipliedReportingOverflow(by: UInt64(TilePath.fullWidth))
        let (last, overflow2) = first.addingReportingOverflow(UInt64(path.width))
        let (end, overflow3) = last.multipliedReportingOverflow(by: span)
        do {
            let size = try await ledger.store.size()
            guard span > 0, !overflow1, !overflow2, !overflow3, end <= size else {
                return Self.error(.notFound, "tile.unknown", "the log of \(size) entries has no \(path)")
            }
            let bytes: [UInt8]
            if path.level == nil {
                let entries = try await ledger.store.entries(in: first..<end)
                bytes = try EntryBundle.encode(entries.map(\.leaf), firstSeq: first)
            } else {
                var hashes: [Hash256] = []
                hashes.reserveCapacity(path.width)
                for hash in 0..<UInt64(path.width) {
                    hashes.append(try await subtreeHash(from: (first + hash) * span, count: span))
                }
                bytes = try HashTile(path: path, bytes: hashes.flatMap(\.bytes)).bytes
            }
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/octet-stream", .cacheControl: "public, max-age=31536000, immutable",
                ],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes))
            )
        } catch  where error.code == .entryTooLarge {
            return Self.error(.unprocessableContent, error.code.rawValue, error.reason)
        } catch {
            return Self.error(.serviceUnavailable, error.code.rawValue, error.reason)
        }
    }

    /// MTH of the `count` leaves from `start`, read in pages: memory stays bounded for any level.
    private func subtreeHash(from start: UInt64, count: UInt64) async throws(LedgerError) -> Hash256 {
        var frontier = MerkleFrontier()
        var next = start
        while next < start + count {
            let page = next..<min(start + count, next + Self.tilePageSize)
            for entry in try await ledger.store.entries(in: page) { frontier.append(MerkleTree.leafHash(entry.leaf)) }
            next = page.upperBound
        }
        return frontier.root
    }
}
