-- A pull with a few residents changed per site merges only those (issue #17: 1 % changed of
-- a million residents < 10 s). With each resident's merge base the pull keeps a digest of
-- the remote object as last merged and the resident's `updated_at` after that merge; a
-- resident answered with the same digest, not changed here since (same `updated_at`), with
-- no unfinished outbox entry and no open conflict needs no base read, no merge, no write.
-- NULL: merge the resident in full next time (bases written before this migration).
ALTER TABLE remote_base ADD COLUMN remote_digest TEXT;
ALTER TABLE remote_base ADD COLUMN local_at TEXT;
