// Writing a log into a folder as C2SP tlog-tiles: `checkpoint`, `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`.

public import LedgerCore
public import LedgerStore

/// What one ``TilePublisher/publish(store:checkpoint:progress:)`` did.
public struct TilePublication: Sendable, Hashable {
    /// The size of the published checkpoint.
    public var size: UInt64
    /// Its root.
    public var root: Hash256
    /// The size of the checkpoint the folder held before, nil if it held none.
    public var previousSize: UInt64?
    /// Hash tiles written, full and partial.
    public var tilesWritten: Int
    /// Entry bundles written, full and partial.
    public var bundlesWritten: Int
    /// Bytes written, the checkpoint included.
    public var bytesWritten: UInt64
    /// Tiles and bundles the folder already held with exactly the bytes they must have, so not written again.
    public var skipped: Int
    /// Whether the `checkpoint` file was written (false when it already held this checkpoint).
    public var checkpointWritten: Bool
}

/// Publishes a log as C2SP tlog-tiles into a folder that any static web server can serve as the log's prefix.
///
/// The contract:
/// - Incremental: the folder's own `checkpoint` says what it holds. Only tiles and bundles beyond it are computed
///   from the store (read in pages, so memory stays bounded whatever the log's size); the tiles at the old size are
///   first checked against the old checkpoint's root, and the entries between the old tiles and the new ones against
///   their leaf hashes.
/// - Nothing is rewritten: a tile or bundle that exists is compared with the one the log gives, and a difference is
///   an error (`tile.mismatch`, a fork) that leaves the folder as it was.
/// - Nothing wrong is published: every new file is written to a staging folder first, and moved into place only
///   once the tree computed from the log's entries has the checkpoint's root.
/// - A partial tile and bundle exist for every size that the store kept a checkpoint of (above the folder's old
///   size) and for the published one, as the spec requires.
/// - Files are written whole (temporary file, fsync, rename, folder fsync), the `checkpoint` last, so a reader never
///   sees a checkpoint whose tiles are missing. A crash leaves the old checkpoint and, at worst, some of the new
///   tiles, which the next publish finds identical and keeps.
/// - One publisher at a time per folder (an exclusive lock on `.publish.lock`).
public struct TilePublisher: Sendable {
    /// The published folder.
    public let folder: String
    /// Entries read from the store per page.
    public let pageSize: Int

    /// A publisher into `folder` (created if missing), reading `pageSize` entries at a time.
    public init(folder: String, pageSize: Int = 4096) {
        self.folder = folder
        self.pageSize = max(1, pageSize)
    }

    /// Publishes the tree of `note`, a checkpoint of the log in `store` (C2SP signed note text, kept as is).
    ///
    /// The caller verifies the checkpoint's signature; the publisher checks that the log's entries hash to its root.
    /// `progress` is called after each page with the entries published so far and the checkpoint's size.
    ///
    /// - Throws: `chain.checkpoint` if `note` is not a checkpoint or signs more entries than the store holds;
    ///   `tile.entryTooLarge` naming the seq of a leaf over 65,535 bytes; `tile.mismatch` if the log's entries do not
    ///   hash to the checkpoint's root, or the folder holds a larger checkpoint, another log, or a tile that differs
    ///   from the log's (a fork); `tile.malformed` if the folder's checkpoint or tiles are damaged; `store.conflict`
    ///   if another publish holds the folder; `store.failure` for file system errors.
    public func publish(
        store: any EventStore,
        checkpoint note: String,
        progress: (@Sendable (_ published: UInt64, _ total: UInt64) -> Void)? = nil
    ) async throws(LedgerError) -> TilePublication {
        let checkpoint = try Self.parse(note, what: "the checkpoint to publish", code: .checkpoint)
        let logSize = try await store.size()
        guard checkpoint.size <= logSize else {
            throw LedgerError(
                .checkpoint,
                "the checkpoint signs \(checkpoint.size) entries but the log holds \(logSize)"
            )
        }
        _ = try TileFiles.createDirectories(folder)
        let lock = try TileFiles.lock(folder + "/.publish.lock")
        defer { TileFiles.unlock(lock) }
        var run = try PublishRun(folder: folder)
        defer { try? TileFiles.removeTree(run.staging) }

        // Resume from what the folder holds.
        let source = FolderTileSource(folder: folder)
        var builder = TileBuilder()
        var bundle: [[UInt8]] = []
        let previousNote = try await source.checkpoint()
        var previousSize: UInt64?
        if let previousNote {
            let previous = try Self.parse(previousNote, what: "\(folder)/checkpoint", code: .tileMalformed)
            guard previous.origin.hasSameBytes(as: checkpoint.origin) else {
                throw LedgerError(
                    .tileMismatch,
                    "\(folder) holds the log \"\(previous.origin)\", not \"\(checkpoint.origin)\": publish to another folder"
                )
            }
            guard previous.size <= checkpoint.size else {
                throw LedgerError(
                    .tileMismatch,
                    "\(folder) holds a checkpoint of \(previous.size) entries but the log's latest has "
                        + "\(checkpoint.size): the log lost entries since it was published"
                )
            }
            let tree = try await TiledTree.open(source: source, size: previous.size, root: previous.root)
            builder = try TileBuilder(size: previous.size, partialTiles: tree.partialTiles)
            bundle = try await Self.partialBundle(of: tree, store: store)
            previousSize = previous.size
        }

        // Stream the new entries.
        let start = builder.size
        let checkpointed = Set(try await store.checkpoints().map(\.size).filter { $0 > start && $0 < checkpoint.size })
        var cursor = start
        while cursor < checkpoint.size {
            let page = try await store.entries(in: cursor..<min(checkpoint.size, cursor + UInt64(pageSize)))
            guard !page.isEmpty else {
                throw LedgerError(.storage, "the log returned no entries at seq \(cursor)")
            }
            for entry in page {
                guard entry.seq == builder.size else {
                    throw LedgerError(.storage, "the log returned seq \(entry.seq) where \(builder.size) was expected")
                }
                try EntryBundle.checkFits(entry.leaf, seq: entry.seq)
                for tile in builder.append(MerkleTree.leafHash(entry.leaf)) {
                    try run.stage(tile.path, tile.bytes)
                }
                bundle.append(entry.leaf)
                if bundle.count == TilePath.fullWidth {
                    let index = entry.seq / UInt64(TilePath.fullWidth)
                    try run.stage(
                        .entries(index: index),
                        try EntryBundle.encode(bundle, firstSeq: index * UInt64(TilePath.fullWidth))
                    )
                    bundle.removeAll(keepingCapacity: true)
                }
                if checkpointed.contains(builder.size) {
                    try run.stagePartials(builder, bundle)
                }
            }
            cursor += UInt64(page.count)
            progress?(cursor, checkpoint.size)
        }
        try run.stagePartials(builder, bundle)

        guard builder.root == checkpoint.root else {
            throw LedgerError(
                .tileMismatch,
                previousSize.map {
                    "the tiles published at size \($0) extended with the log's entries do not hash to the root of "
                        + "the checkpoint of size \(checkpoint.size): the log forked from what \(folder) holds"
                }
                    ?? "the log's first \(checkpoint.size) entries do not hash to the checkpoint's root: the log was "
                    + "rewritten after it was signed"
            )
        }
        try run.commit()
        var written = false
        if previousNote != note {
            try run.replaceCheckpoint(Array(note.utf8))
            written = true
        }
        return TilePublication(
            size: checkpoint.size,
            root: checkpoint.root,
            previousSize: previousSize,
            tilesWritten: run.tilesWritten,
            bundlesWritten: run.bundlesWritten,
            bytesWritten: run.bytesWritten,
            skipped: run.skipped,
            checkpointWritten: written
        )
    }

    /// The entries of the partial bundle at `tree`'s size, read from the store and checked against the tree's
    /// authenticated level-0 tile.
    private static func partialBundle(of tree: TiledTree, store: any EventStore) async throws(LedgerError) -> [[UInt8]]
    {
        let width = TileLayout.partialWidth(level: 0, treeSize: tree.size)
        guard width > 0, let tile = tree.partialTiles.first, tile.path.level == 0 else { return [] }
        let first = tree.size - UInt64(width)
        let entries = try await store.entries(in: first..<tree.size)
        guard entries.count == width else {
            throw LedgerError(.storage, "the log returned \(entries.count) entries of \(first)..<\(tree.size)")
        }
        for (offset, entry) in entries.enumerated() where MerkleTree.leafHash(entry.leaf) != tile.hashes[offset] {
            throw LedgerError(
                .tileMismatch,
                "entry \(first + UInt64(offset)) of the log differs from the one published: the log forked"
            )
        }
        return entries.map(\.leaf)
    }

    static func parse(_ note: String, what: String, code: LedgerError.Code) throws(LedgerError) -> Checkpoint {
        do {
            return try Checkpoint(text: try SignedNote.parse(note).text)
        } catch {
            throw LedgerError(code, "\(what) is not a checkpoint: \(error.reason)")
        }
    }
}

/// The files of one publish: staged, then moved into place.
private struct PublishRun {
    let folder: String
    let staging: String
    /// Staged files: (staging path, path relative to the folder).
    private var staged: [(file: String, path: String)] = []
    /// The paths staged, since two checkpointed sizes can share a partial tile of an upper level.
    private var stagedPaths: Set<String> = []
    private(set) var tilesWritten = 0
    private(set) var bundlesWritten = 0
    private(set) var bytesWritten: UInt64 = 0
    private(set) var skipped = 0

    init(folder: String) throws(LedgerError) {
        self.folder = folder
        // The lock is held: a staging folder left here is a crashed run's.
        staging = folder + "/.publish-staging"
        try TileFiles.removeTree(staging)
        _ = try TileFiles.createDirectories(staging)
    }

    /// Stages `bytes` for `path`, or checks the published file when there is one already.
    mutating func stage(_ path: TilePath, _ bytes: [UInt8]) throws(LedgerError) {
        let name = path.description
        guard !stagedPaths.contains(name) else { return }
        if let existing = try TileFiles.readFile(folder + "/" + name, limit: TileSourceLimits.maximumBytes(for: path)) {
            guard existing == bytes else {
                throw LedgerError(
                    .tileMismatch,
                    "\(folder)/\(name) is already published with other bytes: the log forked from what the folder "
                        + "holds, or the folder was changed; nothing was written"
                )
            }
            skipped += 1
            return
        }
        let file = staging + "/\(staged.count)"
        try TileFiles.writeNew(bytes, to: file)
        staged.append((file, name))
        stagedPaths.insert(name)
        bytesWritten += UInt64(bytes.count)
        if path.level == nil { bundlesWritten += 1 } else { tilesWritten += 1 }
    }

    /// Stages the partial tiles and the partial bundle of the builder's size.
    mutating func stagePartials(_ builder: TileBuilder, _ bundle: [[UInt8]]) throws(LedgerError) {
        for tile in builder.partialTiles {
            try stage(tile.path, tile.bytes)
        }
        if !bundle.isEmpty {
            let index = builder.size / UInt64(TilePath.fullWidth)
            try stage(
                .entries(index: index, width: bundle.count),
                try EntryBundle.encode(bundle, firstSeq: index * UInt64(TilePath.fullWidth))
            )
        }
    }

    /// Moves every staged file into place and makes it durable.
    func commit() throws(LedgerError) {
        var folders: Set<String> = []
        for (file, path) in staged {
            let target = folder + "/" + path
            let parent = String(target[..<(target.lastIndex(of: "/") ?? target.endIndex)])
            if !folders.contains(parent) {
                for created in try TileFiles.createDirectories(parent) {
                    folders.insert(String(created[..<(created.lastIndex(of: "/") ?? created.endIndex)]))
                }
                folders.insert(parent)
            }
            try TileFiles.renameFile(file, to: target)
        }
        // Deepest first, so that a folder's entry in its parent is durable after its own contents.
        for path in folders.sorted(by: { $0.count > $1.count }) {
            try TileFiles.syncDirectory(path)
        }
    }

    /// Replaces the folder's `checkpoint` with `bytes`, durably.
    mutating func replaceCheckpoint(_ bytes: [UInt8]) throws(LedgerError) {
        let file = staging + "/checkpoint"
        try TileFiles.writeNew(bytes, to: file)
        try TileFiles.renameFile(file, to: folder + "/checkpoint")
        try TileFiles.syncDirectory(folder)
        bytesWritten += UInt64(bytes.count)
    }
}
