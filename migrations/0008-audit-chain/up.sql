-- Tamper-evident audit log (issue #15). Each row gets:
--   commitment  SHA-256 over its personal part (target and details), so a scrub can
--               replace that part while the chain still verifies;
--   prev_hash   the hash of the row before it (32 zero bytes for the first row);
--   hash        SHA-256 over prev_hash and every other column, the commitment standing in
--               for target and details (computed in Rust: store/audit_chain.rs);
--   scrubbed_at when the personal part was replaced (store/scrub.rs), NULL before.
-- Rows written before this version are hashed by the first open of this version
-- (store::audit_chain::backfill); `audit.chain_from` marks the last of them, and after
-- that a row without a hash is a finding of `audit verify`.
ALTER TABLE audit ADD COLUMN commitment BLOB;
ALTER TABLE audit ADD COLUMN prev_hash BLOB;
ALTER TABLE audit ADD COLUMN hash BLOB;
ALTER TABLE audit ADD COLUMN scrubbed_at TEXT;
INSERT INTO settings(key, value) SELECT 'audit.chain_from', CAST(max(id) AS TEXT) FROM audit HAVING max(id) IS NOT NULL;
-- No new index: a scrub reads the log once per purge transaction (details may name the
-- resident under any target), the retention scrub reads a range of audit_at.
-- The one update the log allows: a scrub, which sets scrubbed_at once, replaces details by
-- a scrub marker and the target by its keyed hash (or keeps it), and changes nothing else.
DROP TRIGGER audit_no_update;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
WHEN NOT (OLD.scrubbed_at IS NULL AND NEW.scrubbed_at IS NOT NULL
    AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor_id IS OLD.actor_id AND NEW.actor IS OLD.actor
    AND NEW.action IS OLD.action AND NEW.outcome IS OLD.outcome AND NEW.team_id IS OLD.team_id
    AND NEW.site_id IS OLD.site_id AND NEW.commitment IS OLD.commitment AND NEW.prev_hash IS OLD.prev_hash
    AND NEW.hash IS OLD.hash AND NEW.details LIKE '{"scrubbed":%'
    AND (NEW.target IS OLD.target OR NEW.target LIKE 'hmac:%'))
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
