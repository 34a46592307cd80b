-- An unchanged pull writes nothing and merges nothing (issue #17: an unchanged pull of a
-- million residents < 5 s). After a site's merge the pull keeps a digest of what the remote
-- answered with a stamp of the site's local state (its residents, open outbox entries, open
-- conflicts, units); the next pull merges the site again only when either has changed.
-- NULL: merge the site next time (never pulled, or its last merge left a remote resident
-- unsettled, e.g. one held at another local site).
ALTER TABLE sync_sites ADD COLUMN pulled_digest TEXT;

-- A site's open outbox entries, read by every site's merge (and its stamp): by site, not by
-- a scan of every open entry of the desk once per site.
CREATE INDEX outbox_site_state ON outbox(site_id, state, id);
