-- Saved views (issue #16): a person's columns, sort and filters per screen, remembered per
-- staff account in the team where they were set; a named view can be shared with the team.
-- `name` '' is the screen's remembered (unnamed) state, one per person, team and screen.
CREATE TABLE saved_views (
    id          INTEGER PRIMARY KEY,
    team_id     INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    staff_id    INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    screen      TEXT NOT NULL,
    name        TEXT NOT NULL,
    shared      INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
    state       TEXT NOT NULL,                -- JSON: columns, sort, filters
    updated_at  TEXT NOT NULL,
    UNIQUE (team_id, staff_id, screen, name)
) STRICT;
CREATE INDEX saved_views_shared ON saved_views(team_id, screen) WHERE shared = 1;
