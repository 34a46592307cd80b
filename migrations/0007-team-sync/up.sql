-- The sync service account is per team (issue #15): each team's administrator points its
-- own team at a remote URL and account, and one team's settings (or a change to them) no
-- longer reach another team. Until now they were two desk-wide keys of `settings`; every
-- existing team takes their current values, so nothing changes for a desk that syncs today,
-- and the desk-wide keys go (nothing reads them any more).
CREATE TABLE team_sync (
    team_id     INTEGER PRIMARY KEY REFERENCES teams(id) ON DELETE CASCADE,
    remote_url  TEXT,                -- NULL: the vendor's production URL
    remote_user TEXT                 -- the service account's email; its password is never here
) STRICT;

INSERT INTO team_sync(team_id, remote_url, remote_user)
SELECT t.id,
       (SELECT value FROM settings WHERE key = 'sync.remote_url'),
       (SELECT value FROM settings WHERE key = 'sync.remote_user')
FROM teams t
WHERE EXISTS (SELECT 1 FROM settings WHERE key IN ('sync.remote_url', 'sync.remote_user'));

DELETE FROM settings WHERE key IN ('sync.remote_url', 'sync.remote_user');
