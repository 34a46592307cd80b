-- One sync pass at a time per database. A pass takes this lease (in an IMMEDIATE
-- transaction) before it pushes or pulls anything, renews it while it runs and deletes it
-- when it ends; a second pass (the desktop's worker beside `residentdesk sync`, or two
-- windows) waits briefly and then gives up with a clear message instead of sending the same
-- changes again. A lease whose expires_at has passed (its process was killed) may be taken
-- over; so may one whose process is known to be gone (same host, pid no longer running).
CREATE TABLE sync_lease (
    id             INTEGER PRIMARY KEY CHECK (id = 1),  -- at most one lease per database
    holder_id      TEXT NOT NULL,            -- random id of the holding pass
    holder         TEXT NOT NULL,            -- who, for people: "residentdesk sync (pid 4242 on desk-7)"
    pid            INTEGER,                  -- the holder's process id, when known
    host           TEXT,                     -- the holder's host name, when known
    taken_at       TEXT NOT NULL,
    renewed_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL             -- judged by the passes' clock; renewed while the pass runs
) STRICT;
