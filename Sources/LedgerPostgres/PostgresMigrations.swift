import Foundation

/// The PostgreSQL log's schema, as frozen SQL: the SQLite log's tables and invariants in PostgreSQL's dialect.
///
/// A shipped migration is never edited: a change is a new migration appended to ``all``. The invariants live in
/// the database, so raw SQL cannot break them either: triggers refuse UPDATE, DELETE and TRUNCATE of entries and
/// checkpoints, and any insert that is not the next seq. Appends go through `ledger_append`, one statement that
/// locks out other appenders, checks the expected size, inserts the batch and notifies followers on commit.
enum PostgresMigrations {
    /// The schema version this build writes and reads.
    static let currentVersion = 1

    /// The `NOTIFY` channel `ledger_append` signals, with the schema and the new size as payload.
    static let channel = "ledger_appended"

    static let all: [(version: Int, sql: String)] = [
        (
            1,
            """
            CREATE TABLE ledger_schema (
                id integer PRIMARY KEY CHECK (id = 1),
                version integer NOT NULL CHECK (version >= 1)
            );
            INSERT INTO ledger_schema (id, version) VALUES (1, 1);

            CREATE TABLE entries (
                seq bigint PRIMARY KEY CHECK (seq >= 0),
                leaf_hash bytea NOT NULL UNIQUE CHECK (length(leaf_hash) = 32),
                envelope bytea NOT NULL CHECK (length(envelope) > 0),
                type text NOT NULL CHECK (length(type) > 0),
                time text NOT NULL CHECK (length(time) = 24),
                actor text NOT NULL CHECK (length(actor) = 64)
            );
            CREATE INDEX entries_by_type ON entries (type, seq);

            CREATE TABLE checkpoints (
                tree_size bigint PRIMARY KEY CHECK (tree_size >= 0),
                note text NOT NULL CHECK (length(note) > 0)
            );

            CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ledger: % is append-only', TG_TABLE_NAME USING ERRCODE = 'LG002';
            END $$;
            CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
                FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
            CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
                FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
            CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
                FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
            CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
                FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
            CREATE TRIGGER ledger_schema_kept BEFORE DELETE ON ledger_schema
                FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
            CREATE TRIGGER ledger_schema_no_truncate BEFORE TRUNCATE ON ledger_schema
                FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

            -- A row-level BEFORE trigger sees the rows its statement inserted before this one, so a batch must be
            -- contiguous too; two racing inserts of one seq are stopped by the primary key.
            CREATE FUNCTION ledger_next_seq_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.seq IS DISTINCT FROM (SELECT COALESCE(MAX(seq) + 1, 0) FROM entries) THEN
                    RAISE EXCEPTION 'ledger: entries are appended at the next seq only (got %)', NEW.seq
                        USING ERRCODE = 'LG003';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER entries_next_seq_only BEFORE INSERT ON entries
                FOR EACH ROW EXECUTE FUNCTION ledger_next_seq_only();

            -- The append path: EXCLUSIVE mode lets readers in and keeps other appenders out until commit, so the
            -- size checked is the size written after.
            CREATE FUNCTION ledger_append(
                expected bigint, seqs bigint[], hashes bytea[], envelopes bytea[], types text[], times text[],
                actors text[]
            ) RETURNS bigint LANGUAGE plpgsql AS $$
            DECLARE
                current_size bigint;
            BEGIN
                LOCK TABLE entries IN EXCLUSIVE MODE;
                SELECT COALESCE(MAX(seq) + 1, 0) INTO current_size FROM entries;
                IF current_size <> expected THEN
                    RAISE EXCEPTION 'expected the log to have % entries, it has %', expected, current_size
                        USING ERRCODE = 'LG001';
                END IF;
                INSERT INTO entries (seq, leaf_hash, envelope, type, time, actor)
                    SELECT * FROM unnest(seqs, hashes, envelopes, types, times, actors) ORDER BY 1;
                PERFORM pg_notify('ledger_appended', current_schema() || ' ' || (expected + cardinality(seqs)));
                RETURN expected + cardinality(seqs);
            END $$;
            """
        )
    ]

    /// `sql` split into its statements at the semicolons that end a line outside a `$$` body: the extended query
    /// protocol takes one statement at a time.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inBody = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            current += line + "\n"
            if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
            if !inBody, line.trimmingCharacters(in: .whitespaces).hasSuffix(";") {
                statements.append(current)
                current = ""
            }
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { statements.append(current) }
        return statements
    }
}
