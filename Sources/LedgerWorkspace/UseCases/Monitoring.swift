import AsyncHTTPClient
import Foundation
public import LedgerCore
public import LedgerTransparency
import NIOCore
import NIOHTTP1

/// A log published as tlog-tiles at an HTTP(S) URL prefix (`ledger serve`, or any static file server over a
/// `ledger publish` folder). Every response is bounded by `TileSourceLimits`; redirects are not followed.
public struct HTTPTileSource: TileSource {
    /// The prefix, without a trailing slash.
    public let prefix: String

    private static let client: HTTPClient = {
        let configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(60)),
            decompression: .disabled
        )
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// The log published at `prefix` (`http://host:port/path`).
    public init(prefix: String) {
        var trimmed = prefix
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.prefix = trimmed
    }

    public func read(_ path: TilePath) async throws(LedgerError) -> [UInt8] {
        guard let bytes = try await fetch(path.description, limit: TileSourceLimits.maximumBytes(for: path)) else {
            throw LedgerError(.tileMalformed, "\(path) is missing from \(prefix)")
        }
        return bytes
    }

    public func checkpoint() async throws(LedgerError) -> String? {
        try await fetch("checkpoint", limit: TileSourceLimits.maximumCheckpointBytes).map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// The body at `prefix/path`, nil for 404, at most `limit` bytes.
    private func fetch(_ path: String, limit: Int) async throws(LedgerError) -> [UInt8]? {
        let url = prefix + "/" + path
        do {
            let response = try await Self.client.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
            if response.status == .notFound { return nil }
            guard response.status == .ok else {
                throw LedgerError(.storage, "GET \(url) answered \(response.status.code)")
            }
            let body = try await response.body.collect(upTo: limit)
            return Array(body.readableBytesView)
        } catch let error as LedgerError {
            throw error
        } catch let error as NIOTooManyBytesError {
            throw LedgerError(.tileMalformed, "\(url) is longer than the \(limit) bytes it may have: \(error)")
        } catch {
            throw LedgerError(.storage, "GET \(url) failed: \(error)")
        }
    }
}

/// Following a published log: `ledger monitor`.
public enum Monitoring {
    /// The source for a URL (`http://…`, `https://…`) or a folder.
    public static func source(_ location: String) -> any TileSource {
        location.hasPrefix("http://") || location.hasPrefix("https://")
            ? HTTPTileSource(prefix: location) : FolderTileSource(folder: location)
    }

    /// Polls once: loads the state from `statePath` (if given), polls, and saves the new state when the poll raised
    /// no alarm.
    ///
    /// - Throws: what `Monitor.poll` and `MonitorStateFile` throw.
    public static func pollOnce(
        monitor: Monitor,
        source: any TileSource,
        statePath: String?,
        state memory: inout MonitorState?
    ) async throws(LedgerError) -> MonitorPoll {
        if let statePath, memory == nil {
            memory = try MonitorStateFile.load(statePath)
        }
        let poll = try await monitor.poll(source: source, state: memory)
        if !poll.hasAlarm, let accepted = poll.state, accepted != memory {
            if let statePath { try MonitorStateFile.save(accepted, to: statePath) }
            memory = accepted
        }
        return poll
    }
}
