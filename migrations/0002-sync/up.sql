-- Sync with the remote Site Manager API: per-site pull state, the jobs an outbox entry was
-- sent in (crash safety), the conflict inbox and the sync status (last error, last pass).

-- One row per local site that has been pulled at least once (or failed to be).
CREATE TABLE sync_sites (
    site_id        INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    last_pull_at   TEXT,                     -- last successful pull (NULL: never)
    last_error     TEXT,                     -- last failure of a pull of this site
    last_error_at  TEXT
) STRICT;

-- A request or remote job that outbox entries were sent in. Written and committed BEFORE
-- the request leaves, so a crash leaves a record of what may have reached the remote.
CREATE TABLE sync_jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id        INTEGER NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('single', 'import', 'bulk')),
    action         TEXT NOT NULL,            -- create, update, ..., or the bulk action
    remote_job_id  TEXT,                     -- the remote's job id once the start was answered
    state          TEXT NOT NULL DEFAULT 'sending'
                   CHECK (state IN ('sending', 'started', 'finished', 'abandoned')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
) STRICT;
CREATE INDEX sync_jobs_state ON sync_jobs(state, id);

-- Which job an in-flight outbox entry was sent in.
CREATE TABLE sync_job_entries (
    entry_id       INTEGER PRIMARY KEY,      -- outbox.id
    job_id         INTEGER NOT NULL REFERENCES sync_jobs(id) ON DELETE CASCADE
) STRICT;
CREATE INDEX sync_job_entries_job ON sync_job_entries(job_id);

-- The conflict inbox: both values of every disputed field, until a person resolves it.
CREATE TABLE sync_conflicts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at     TEXT NOT NULL,
    site_id        INTEGER NOT NULL,
    resident_id    INTEGER,                  -- local id (kept even if the resident is gone)
    remote_id      TEXT,
    email          TEXT,
    kind           TEXT NOT NULL CHECK (kind IN ('field', 'remote_purge', 'unit_taken')),
    fields         TEXT NOT NULL DEFAULT '{}', -- JSON: field → {"base", "local", "remote"}
    entry_ids      TEXT NOT NULL DEFAULT '[]', -- JSON: the outbox entries held by it
    message        TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    resolution     TEXT,                     -- JSON: what the person chose
    resolved_by    INTEGER,
    resolved_at    TEXT
) STRICT;
CREATE INDEX sync_conflicts_open ON sync_conflicts(state, site_id);
CREATE INDEX sync_conflicts_resident ON sync_conflicts(resident_id);

-- Sync-wide status: one row per key (last_error, last_pass_at, last_pass_report...).
CREATE TABLE sync_status (
    key            TEXT PRIMARY KEY,
    value          TEXT NOT NULL,
    updated_at     TEXT NOT NULL
) STRICT;
