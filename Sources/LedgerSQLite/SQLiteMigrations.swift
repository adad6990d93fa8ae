/// The SQLite log's schema, as frozen SQL.
///
/// A shipped migration is never edited: a change is a new migration appended to ``all``. The SQL
/// uses no application types, and the invariants live in the schema itself (NOT NULL, UNIQUE,
/// CHECK, and triggers that refuse UPDATE and DELETE and any insert that is not the next seq).
enum SQLiteMigrations {
    /// The schema version this build writes and reads.
    static let currentVersion = 1

    static let all: [(identifier: String, sql: String)] = [
        (
            "v1-log",
            """
            CREATE TABLE ledger_schema (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                version INTEGER NOT NULL CHECK (version >= 1)
            );
            INSERT INTO ledger_schema (id, version) VALUES (1, 1);
            CREATE TRIGGER ledger_schema_no_delete BEFORE DELETE ON ledger_schema
            BEGIN SELECT RAISE(ABORT, 'ledger: the schema version row cannot be deleted'); END;

            CREATE TABLE entries (
                seq INTEGER PRIMARY KEY CHECK (seq >= 0),
                leaf_hash BLOB NOT NULL UNIQUE CHECK (length(leaf_hash) = 32),
                envelope BLOB NOT NULL CHECK (length(envelope) > 0),
                type TEXT NOT NULL CHECK (length(type) > 0),
                time TEXT NOT NULL CHECK (length(time) = 24),
                actor TEXT NOT NULL CHECK (length(actor) = 64)
            );
            CREATE INDEX entries_by_type ON entries (type, seq);
            CREATE TRIGGER entries_next_seq_only BEFORE INSERT ON entries
            WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq) + 1, 0) FROM entries)
            BEGIN SELECT RAISE(ABORT, 'ledger: entries are appended at the next seq only'); END;
            CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
            BEGIN SELECT RAISE(ABORT, 'ledger: entries are append-only'); END;
            CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
            BEGIN SELECT RAISE(ABORT, 'ledger: entries are append-only'); END;

            CREATE TABLE checkpoints (
                tree_size INTEGER PRIMARY KEY CHECK (tree_size >= 0),
                note TEXT NOT NULL CHECK (length(note) > 0)
            );
            CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
            BEGIN SELECT RAISE(ABORT, 'ledger: checkpoints are append-only'); END;
            CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
            BEGIN SELECT RAISE(ABORT, 'ledger: checkpoints are append-only'); END;
            """
        )
    ]
}
