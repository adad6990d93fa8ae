-- ModelLedger default extraction query, contract version 1 (see audit/README.md).
--
-- Parameters: exactly two, named, each used once.
--   :from  the inclusive start of the window, a UTC instant
--   :to    the exclusive end of the window, a UTC instant (the window is half-open: from <= occurred_at < to)
-- Binding:
--   SQLite      both are bound as text 'YYYY-MM-DDTHH:MM:SS.mmmZ' (24 characters). The column holds the same
--               form, so text comparison is time comparison.
--   PostgreSQL  ModelLedger rewrites :from and :to to $1 and $2 and binds them as timestamptz.
-- Output: one row per event, in the column order and names below, ordered by (occurred_at, id) so that the
-- same window always gives the same rows in the same order. label is NULL for an event no analyst labelled.
-- A custom query configured instead of this one MUST keep these names, this order and these parameters.
-- ModelLedger records the SHA-256 of the query text it ran (this file's exact bytes) as the query digest.

SELECT
    e.id,
    e.occurred_at,
    e.actor_id,
    e.actor_role,
    e.action,
    e.resource,
    e.outcome,
    e.source_ip,
    e.country,
    e.bytes,
    e.session_id,
    l.label
FROM audit_events AS e
LEFT JOIN audit_labels AS l ON l.event_id = e.id
WHERE e.occurred_at >= :from
  AND e.occurred_at < :to
ORDER BY e.occurred_at, e.id
