-- Outbox and audit rows are never deleted (the audit log by its triggers, the outbox by
-- design: a finished entry keeps its row and state, and a new trigger now says so), so
-- without AUTOINCREMENT their ids are still never reused; dropping it spares every insert
-- a read and a write of sqlite_sequence (about 5 % of a 100,000-row import). Same
-- columns, indexes and triggers; every row and id is kept.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    created_at      TEXT NOT NULL,
    actor_id        INTEGER,
    site_id         INTEGER NOT NULL,
    resident_id     INTEGER,                 -- local id; NULL once purged locally
    remote_id       TEXT,                    -- remote id when known at write time
    email           TEXT,                    -- natural key, to look a create up after a crash
    op              TEXT NOT NULL,           -- create, update, terminate, purge, invite, psk_reset, suspend, unsuspend, onboard_now
    payload         TEXT NOT NULL,           -- JSON: the fields to send
    base            TEXT NOT NULL,           -- JSON: last-pulled values of the touched fields
    idempotency_key TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'in_flight', 'done', 'rejected', 'conflict', 'discarded')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    updated_at      TEXT NOT NULL
) STRICT;
INSERT INTO outbox_new SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_state ON outbox(state, id);
CREATE INDEX outbox_resident ON outbox(resident_id, id);
CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
BEGIN SELECT RAISE(ABORT, 'outbox entries are kept: finish them as done or discarded'); END;

CREATE TABLE audit_new (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    INTEGER,
    actor       TEXT NOT NULL,               -- email, token name or 'system'
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,               -- ok, denied, failed, no_op
    team_id     INTEGER,
    site_id     INTEGER,
    target      TEXT,
    details     TEXT NOT NULL DEFAULT '{}'   -- JSON: before/after, reason, counts
) STRICT;
INSERT INTO audit_new SELECT * FROM audit;
DROP TABLE audit;
ALTER TABLE audit_new RENAME TO audit;
CREATE INDEX audit_at ON audit(at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
DELETE FROM sqlite_sequence WHERE name IN ('outbox', 'audit');
