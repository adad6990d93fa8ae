import Crypto
public import LedgerCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An ``ArtifactStore`` in a folder: the workspace's `artifacts = "file:…"`.
///
/// Layout: each artifact is the file `<root>/sha256/<first two hex digits>/<64 hex digits>`, mode 0644,
/// holding exactly its bytes, so `sha256sum` checks it. Names starting with `.` are temporary files and never
/// artifacts: `put` writes `.tmp-<random>` in the artifact's own folder, a writer writes it in
/// `<root>/sha256/`.
///
/// Durability: the bytes go to a new temporary file, which is fsynced, renamed over the final name and
/// then its folder is fsynced, so after a crash an artifact is either absent or complete. A failed call
/// removes its temporary file; only a killed process can leave one behind, and it is ignored (nothing
/// removes it yet).
///
/// Reads verify the SHA-256 every time. A `put` of the right bytes over a damaged artifact repairs it.
/// Several stores and processes may share one root.
///
/// The calls block their thread on file I/O and fsync.
public final class FileArtifactStore: ArtifactStore {
    /// The folder given at creation, without trailing slashes.
    public let root: String
    /// `<root>/sha256`, the parent of the fan-out folders.
    private let objectsFolder: String

    /// Opens the store at `root`, creating the folder and `<root>/sha256` if needed.
    public init(root: String) throws(LedgerError) {
        guard !root.isEmpty, !root.utf8.contains(0) else {
            throw LedgerError(.invalidArgument, "an artifact store needs a folder path")
        }
        var trimmed = Substring(root)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = String(trimmed)
        self.objectsFolder = self.root == "/" ? "/sha256" : self.root + "/sha256"
        try FileSystem.createDirectories(objectsFolder)
    }

    /// Opens the store that a workspace setting names: `file:<path>`, the path taken relative to `workspace`
    /// unless it is absolute. `file:///abs/path` is accepted as `/abs/path`. The path is used literally,
    /// without percent-decoding.
    public static func url(_ text: String, relativeTo workspace: String) throws(LedgerError) -> FileArtifactStore {
        guard text.hasPrefix("file:") else {
            throw LedgerError(.invalidArgument, "artifact store \"\(text)\" is not a file:<path> URL")
        }
        var path = Substring(text.dropFirst("file:".count))
        if path.hasPrefix("//") {
            path = path.dropFirst(2)
            guard path.hasPrefix("/") else {
                throw LedgerError(.invalidArgument, "artifact store \"\(text)\" names a host; use file:<path>")
            }
        }
        guard !path.isEmpty else {
            throw LedgerError(.invalidArgument, "artifact store \"\(text)\" has no path")
        }
        if path.hasPrefix("/") { return try FileArtifactStore(root: String(path)) }
        let base = workspace.hasSuffix("/") ? String(workspace.dropLast()) : workspace
        return try FileArtifactStore(root: (base.isEmpty ? "." : base) + "/" + path)
    }

    /// Where the artifact with `digest` is, or would be, stored.
    public func path(for digest: ArtifactDigest) -> String {
        folder(for: digest) + "/" + digest.sha256.hex
    }

    private func folder(for digest: ArtifactDigest) -> String {
        objectsFolder + "/" + digest.sha256.hex.prefix(2)
    }

    public func put(_ bytes: [UInt8]) throws(LedgerError) -> ArtifactDigest {
        let digest = ArtifactDigest.of(bytes)
        if try isIntact(digest) {
            // Another call may have renamed it in and not yet synced the folder.
            try FileSystem.syncDirectory(folder(for: digest))
            return digest
        }
        let folder = folder(for: digest)
        try FileSystem.createDirectories(folder)
        let temporary = folder + "/" + FileSystem.temporaryName()
        let descriptor = try FileSystem.createNewFile(temporary, mode: 0o644)
        do {
            try FileSystem.writeAll(bytes, to: descriptor, path: temporary)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        do {
            try FileSystem.syncAndClose(descriptor, path: temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        try install(temporary, as: digest)
        return digest
    }

    public func makeWriter() throws(LedgerError) -> any ArtifactWriter {
        let temporary = objectsFolder + "/" + FileSystem.temporaryName()
        let descriptor = try FileSystem.createNewFile(temporary, mode: 0o644)
        return FileArtifactWriter(store: self, temporary: temporary, descriptor: descriptor)
    }

    public func get(_ digest: ArtifactDigest) throws(LedgerError) -> [UInt8] {
        guard let bytes = try FileSystem.readFile(path(for: digest)) else { throw .artifactMissing(digest) }
        guard ArtifactDigest.of(bytes) == digest else {
            throw .artifactCorrupt(digest, detail: "its \(bytes.count) stored bytes do not hash to its digest")
        }
        return bytes
    }

    public func contains(_ digest: ArtifactDigest) throws(LedgerError) -> Bool {
        try FileSystem.kind(of: path(for: digest)) == .regularFile
    }

    /// Whether an undamaged artifact with `digest` is already stored.
    private func isIntact(_ digest: ArtifactDigest) throws(LedgerError) -> Bool {
        try FileSystem.sha256(ofFileAt: path(for: digest)) == digest.sha256
    }

    /// Moves the complete, fsynced file `temporary` into place as `digest`, durably, and removes it on any
    /// failure. If an intact copy is already there, only removes it.
    fileprivate func install(_ temporary: String, as digest: ArtifactDigest) throws(LedgerError) {
        let folder = folder(for: digest)
        do {
            if try isIntact(digest) {
                unlink(temporary)
                try FileSystem.syncDirectory(folder)
                return
            }
            try FileSystem.createDirectories(folder)
        } catch {
            unlink(temporary)
            throw error
        }
        try FileSystem.replace(path(for: digest), with: temporary)
        try FileSystem.syncDirectory(folder)
    }
}

/// Streams into a temporary file in `<root>/sha256/`, hashing as it goes, and installs it on `commit()`.
private final class FileArtifactWriter: ArtifactWriter {
    private struct State {
        /// The open temporary file, or `nil` once the writer is finished.
        var descriptor: Int32?
        var hasher = SHA256()
    }

    private let store: FileArtifactStore
    private let temporary: String
    private let state: Mutex<State>

    init(store: FileArtifactStore, temporary: String, descriptor: Int32) {
        self.store = store
        self.temporary = temporary
        self.state = Mutex(State(descriptor: descriptor))
    }

    deinit {
        abandon()
    }

    func write(_ chunk: [UInt8]) throws(LedgerError) {
        try state.withLock { state throws(LedgerError) in
            guard let descriptor = state.descriptor else { throw .writerFinished }
            do throws(LedgerError) {
                try FileSystem.writeAll(chunk, to: descriptor, path: temporary)
            } catch {
                state.descriptor = nil
                close(descriptor)
                unlink(temporary)
                throw error
            }
            chunk.withUnsafeBytes { state.hasher.update(bufferPointer: $0) }
        }
    }

    func commit() throws(LedgerError) -> ArtifactDigest {
        try state.withLock { state throws(LedgerError) in
            guard let descriptor = state.descriptor else { throw .writerFinished }
            state.descriptor = nil
            do throws(LedgerError) {
                try FileSystem.syncAndClose(descriptor, path: temporary)
            } catch {
                unlink(temporary)
                throw error
            }
            let digest = ArtifactDigest(sha256: FileSystem.hash(state.hasher.finalize()))
            try store.install(temporary, as: digest)
            return digest
        }
    }

    func abandon() {
        state.withLock { state in
            guard let descriptor = state.descriptor else { return }
            state.descriptor = nil
            close(descriptor)
            unlink(temporary)
        }
    }
}
