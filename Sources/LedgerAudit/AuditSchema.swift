/// The Audit DB contract's data definitions, version 1.
public enum AuditSchema {
    /// The contract's version; `audit/features.v1.json` and `audit/extract.sql` belong to the same version.
    public static let version = 1

    /// The SQLite DDL: exactly the bytes of `audit/sqlite/schema.sql` (a test compares them).
    ///
    /// Creates `audit_events`, its `occurred_at` index and `audit_labels` in an empty database.
    public static let sqlite = """
        -- ModelLedger Audit DB contract, version 1: SQLite dialect.
        -- Every time is UTC text 'YYYY-MM-DDTHH:MM:SS.mmmZ' (24 characters), so text order is time order.
        -- See audit/README.md. LedgerAudit embeds this file byte for byte; a test keeps the two identical.

        CREATE TABLE audit_events (
            id          INTEGER PRIMARY KEY,
            occurred_at TEXT    NOT NULL CHECK (
                length(occurred_at) = 24
                AND strftime('%Y-%m-%dT%H:%M:%fZ', occurred_at, '+0 seconds') IS occurred_at
            ),
            actor_id    TEXT    NOT NULL CHECK (length(actor_id) > 0),
            actor_role  TEXT    NOT NULL CHECK (length(actor_role) > 0),
            action      TEXT    NOT NULL CHECK (length(action) > 0),
            resource    TEXT    NOT NULL,
            outcome     TEXT    NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
            source_ip   TEXT    NOT NULL,
            country     TEXT    NOT NULL CHECK (country GLOB '[A-Z][A-Z]'),
            bytes       INTEGER NOT NULL CHECK (typeof(bytes) = 'integer' AND bytes >= 0),
            session_id  TEXT
        );

        CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);

        CREATE TABLE audit_labels (
            event_id   INTEGER PRIMARY KEY REFERENCES audit_events (id),
            label      TEXT    NOT NULL CHECK (label IN ('anomalous', 'benign')),
            labeled_by TEXT    NOT NULL CHECK (length(labeled_by) > 0),
            labeled_at TEXT    NOT NULL CHECK (
                length(labeled_at) = 24
                AND strftime('%Y-%m-%dT%H:%M:%fZ', labeled_at, '+0 seconds') IS labeled_at
            )
        );

        """
}
