-- The adaptive pull schedule (issue #17): the desktop's background sync pulls a site when it is
-- due, not every site every pass. A site whose pulls keep finding nothing new waits longer
-- (doubling, up to a cap); a change brings it back to every pass. `quiet_pulls`: pulls in a
-- row that found the site unchanged. `next_pull_at`: when it is due again (NULL: at once —
-- never pulled, or pulled before this schedule existed).
ALTER TABLE sync_sites ADD COLUMN quiet_pulls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_sites ADD COLUMN next_pull_at TEXT;
