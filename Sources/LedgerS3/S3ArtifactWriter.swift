import Crypto
import Foundation
import LedgerArtifacts
import LedgerCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Spools into a temporary file while hashing, and uploads it on `commit()`, blocking until S3 has it.
///
/// The spool is created mode 0600 in the temporary folder (`TMPDIR`) and unlinked as soon as it is open, so it
/// disappears with the writer, or the process, whatever happens. Memory stays bounded: `commit()` reads the
/// spool back one part at a time.
final class S3ArtifactWriter: ArtifactWriter {
    private struct State {
        /// The open spool, or `nil` once the writer is finished.
        var spool: FileHandle?
        var hasher = SHA256()
        var size = 0
    }

    private let store: S3ArtifactStore
    private let state: Mutex<State>

    /// A writer for `store` with an empty spool.
    init(store: S3ArtifactStore) throws(LedgerError) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-s3-\(UUID().uuidString)").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.spoolFailure(String(cString: strerror(errno))) }
        unlink(path)
        self.store = store
        self.state = Mutex(State(spool: FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)))
    }

    deinit {
        abandon()
    }

    func write(_ chunk: [UInt8]) throws(LedgerError) {
        try state.withLock { state throws(LedgerError) in
            guard let spool = state.spool else { throw S3ArtifactStore.writerFinished }
            do {
                try spool.write(contentsOf: chunk)
            } catch {
                state.spool = nil
                try? spool.close()
                throw Self.spoolFailure("\(error)")
            }
            chunk.withUnsafeBytes { state.hasher.update(bufferPointer: $0) }
            state.size += chunk.count
        }
    }

    func commit() throws(LedgerError) -> ArtifactDigest {
        try state.withLock { state throws(LedgerError) in
            guard let spool = state.spool else { throw S3ArtifactStore.writerFinished }
            state.spool = nil
            defer { try? spool.close() }
            guard let hash = Hash256(bytes: Array(state.hasher.finalize())) else {
                preconditionFailure("a SHA-256 digest is 32 bytes")
            }
            let digest = ArtifactDigest(sha256: hash)
            var upload = store.upload(of: digest, size: state.size) { offset, count throws(LedgerError) in
                let bytes: [UInt8]
                do {
                    try spool.seek(toOffset: UInt64(offset))
                    bytes = Array(try spool.read(upToCount: count) ?? Data())
                } catch {
                    throw Self.spoolFailure("\(error)")
                }
                guard bytes.count == count else { throw Self.spoolFailure("it is shorter than was written") }
                return bytes
            }
            try store.runBlocking(&upload)
            return digest
        }
    }

    func abandon() {
        state.withLock { state in
            try? state.spool?.close()
            state.spool = nil
        }
    }

    private static func spoolFailure(_ reason: String) -> LedgerError {
        LedgerError(
            .storage,
            "the temporary file that an S3 artifact writer spools to failed (\(reason)): check free space and "
                + "permissions in the temporary folder \(FileManager.default.temporaryDirectory.path) (TMPDIR)"
        )
    }
}
