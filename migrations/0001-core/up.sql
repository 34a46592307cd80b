-- The core model: teams → sites → residents, staff and their memberships, settings,
-- the durable outbox, the append-only audit log and the last-pulled remote values.
-- Instants are TEXT in one fixed-width UTC form (YYYY-MM-DDTHH:MM:SS.ffffffZ) so that they
-- compare and sort as strings.

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    remote_id   TEXT UNIQUE,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE UNIQUE INDEX teams_name ON teams(name COLLATE NOCASE);

CREATE TABLE sites (
    id          INTEGER PRIMARY KEY,
    team_id     INTEGER NOT NULL REFERENCES teams(id),
    remote_id   TEXT UNIQUE,
    name        TEXT NOT NULL,
    site_type   TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX sites_team ON sites(team_id, name);

CREATE TABLE mappings (
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    building    TEXT NOT NULL,
    floor       TEXT NOT NULL,
    unit        TEXT NOT NULL,
    passphrase  TEXT,
    ssid        TEXT,
    vlan        TEXT,
    PRIMARY KEY (site_id, building, floor, unit)
) STRICT, WITHOUT ROWID;

CREATE TABLE residents (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: outbox rows keep ids of purged residents
    site_id          INTEGER NOT NULL REFERENCES sites(id),
    remote_id        TEXT UNIQUE,
    first_name       TEXT NOT NULL,
    last_name        TEXT NOT NULL,
    email            TEXT NOT NULL UNIQUE,   -- normalised (lowercase); immutable
    phone            TEXT NOT NULL DEFAULT '',
    building         TEXT NOT NULL,
    floor            TEXT NOT NULL,
    unit             TEXT NOT NULL,
    activation_utc   TEXT NOT NULL,
    deactivation_utc TEXT,                   -- NULL: open-ended
    onboarded_at     TEXT,                   -- NULL: pending
    suspended        INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
    invited_at       TEXT,
    ssid             TEXT,
    service_area     TEXT,
    remote_status    TEXT,                   -- the remote Status array as last pulled (JSON)
    first_lc         TEXT NOT NULL,          -- lowercase copies for prefix search
    last_lc          TEXT NOT NULL,
    unit_lc          TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;
CREATE INDEX residents_site_name ON residents(site_id, last_lc, first_lc);
CREATE INDEX residents_unit ON residents(site_id, building, floor, unit);
CREATE INDEX residents_first ON residents(first_lc);
CREATE INDEX residents_last ON residents(last_lc);
CREATE INDEX residents_unit_lc ON residents(unit_lc);
CREATE INDEX residents_deactivation ON residents(deactivation_utc) WHERE deactivation_utc IS NOT NULL;

-- The remote values as last pulled, per resident: the base of the 3-way merge.
CREATE TABLE remote_base (
    resident_id INTEGER PRIMARY KEY REFERENCES residents(id) ON DELETE CASCADE,
    pulled_at   TEXT NOT NULL,
    fields      TEXT NOT NULL                -- JSON object of API field name → value
) STRICT;

CREATE TABLE staff (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    password_hash   TEXT,                    -- argon2id PHC string; NULL until a password is set
    is_owner        INTEGER NOT NULL DEFAULT 0 CHECK (is_owner IN (0, 1)),
    active_team_id  INTEGER REFERENCES teams(id),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at      TEXT NOT NULL
) STRICT;

-- A person's level in one team (Table-1): staff_user, staff_local_admin, team_user, team_admin.
CREATE TABLE team_members (
    staff_id  INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    team_id   INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    level     TEXT NOT NULL CHECK (level IN ('staff_user', 'staff_local_admin', 'team_user', 'team_admin')),
    PRIMARY KEY (staff_id, team_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX team_members_team ON team_members(team_id);

-- The sites a Staff-level person is a member of.
CREATE TABLE site_members (
    staff_id  INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    site_id   INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    PRIMARY KEY (staff_id, site_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX site_members_site ON site_members(site_id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- The durable outbox: every local change waiting for the remote, in order.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE INDEX outbox_state ON outbox(state, id);
CREATE INDEX outbox_resident ON outbox(resident_id, id);

-- The append-only audit log.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE INDEX audit_at ON audit(at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
