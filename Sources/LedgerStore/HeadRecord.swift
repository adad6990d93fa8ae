import Foundation
public import LedgerCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The head of a log as a writer last committed it: its size, its RFC 9162 root, the leaf hash of its last entry and
/// the Merkle right edge (``MerkleFrontier``) that lets the next writer extend the root without reading the log.
///
/// The record is what makes a deleted tail visible. The log's own database can be edited (a dropped trigger, an older
/// backup put back), and so can anything kept inside it, such as the checkpoints; the head record lives in a file of
/// its own (``HeadRecordFile``), so a log that is shorter than the record, or whose first ``size`` entries do not
/// have its ``root``, is refused by `ledger verify` and by every append.
///
/// What it does not do: someone who can edit the log's database and this file both can rewrite them together. Only
/// a copy of the head held by someone else (an exported checkpoint, a witness) catches that.
public struct HeadRecord: Sendable, Hashable {
    /// The log id (origin), compared as bytes.
    public let logID: String
    public let size: UInt64
    public let root: Hash256
    /// The leaf hash of entry `size - 1`.
    public let lastLeafHash: Hash256
    public let frontier: MerkleFrontier

    public init(logID: String, frontier: MerkleFrontier, lastLeafHash: Hash256) {
        self.logID = logID
        self.size = UInt64(frontier.size)
        self.root = frontier.root
        self.lastLeafHash = lastLeafHash
        self.frontier = frontier
    }

    /// The record's file format: RFC 8785 JSON of
    /// `{"frontier":[hex…],"leaf":hex,"log":…,"root":hex,"size":n,"v":1}`, followed by one newline.
    public func encoded() -> [UInt8] {
        let object: JSONValue = [
            "v": 1, "log": .string(logID), "size": .int(Int64(clamping: size)), "root": .string(root.hex),
            "leaf": .string(lastLeafHash.hex), "frontier": .array(frontier.subtreeRoots.map { .string($0.hex) }),
        ]
        // Strings, hex and small integers always encode.
        return ((try? CanonicalJSON.encode(object)) ?? []) + [0x0a]
    }

    /// Reads a record written by ``encoded()``; refuses anything else, including a root that its frontier does not
    /// give.
    public init(decoding bytes: [UInt8]) throws(LedgerError) {
        var body = bytes
        if body.last == 0x0a { body.removeLast() }
        let json: JSONValue
        do {
            json = try CanonicalJSON.parse(body)
        } catch {
            throw LedgerError(.storage, "the head record is not JSON")
        }
        guard json["v"]?.integerValue == 1, let logID = json["log"]?.stringValue,
            let size = json["size"]?.integerValue, size >= 1,
            let root = json["root"]?.stringValue.flatMap(Hash256.init(hex:)),
            let leaf = json["leaf"]?.stringValue.flatMap(Hash256.init(hex:)),
            let hashes = json["frontier"]?.arrayValue?.compactMap({ $0.stringValue.flatMap(Hash256.init(hex:)) }),
            hashes.count == json["frontier"]?.arrayValue?.count,
            let frontier = MerkleFrontier(size: Int(size), subtrees: hashes)
        else {
            throw LedgerError(.storage, "the head record is not a version 1 head record")
        }
        guard frontier.root == root else {
            throw LedgerError(.storage, "the head record's root is not the root of its frontier: the file was edited")
        }
        self.init(logID: logID, frontier: frontier, lastLeafHash: leaf)
    }
}

/// Where a workspace keeps its ``HeadRecord``: one small file, replaced atomically (a temporary file, then `rename`).
///
/// Durability: the file is written after each commit and is not fsynced, so after a crash or power cut it may lag
/// the log (name an earlier head) but never lead it. A lagging record protects less, never wrongly: the next append
/// or `verify` that passes brings it up to date.
public struct HeadRecordFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The record, or nil when the file does not exist.
    public func load() throws(LedgerError) -> HeadRecord? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        // Read at most one byte past the limit: an oversized or endless file (a FIFO, a device) is refused, not read.
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LedgerError(.storage, "cannot read the head record \(path)")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: Self.maximumBytes + 1)) ?? Data()
        guard data.count <= Self.maximumBytes else {
            throw LedgerError(
                .storage,
                "the head record \(path) is larger than \(Self.maximumBytes) bytes: not a head record"
            )
        }
        do {
            return try HeadRecord(decoding: Array(data))
        } catch {
            throw LedgerError(.storage, "\(path): \(error.reason)")
        }
    }

    /// Replaces the file with `record`, unless it already holds a record at least as large (another writer of the
    /// same log may have committed more meanwhile). Two writers racing between that check and the rename may leave
    /// the smaller of their records: it lags, which is allowed, and the next commit brings it up to date.
    public func save(_ record: HeadRecord) throws(LedgerError) {
        if let current = try? load(), current.size >= record.size { return }
        let folder = (path as NSString).deletingLastPathComponent
        let temporary = (folder as NSString).appendingPathComponent(
            ".\((path as NSString).lastPathComponent).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        )
        let bytes = record.encoded()
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw LedgerError(
                .storage,
                "cannot write the head record beside \(path): \(String(cString: strerror(errno)))"
            )
        }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw LedgerError(.storage, "cannot write the head record \(path)")
        }
    }

    /// Far above any real record (a frontier holds at most 64 hashes).
    static let maximumBytes = 16 * 1024
}
