-- Staff access management: site access mode per membership, add-on roles defined by teams
-- and their assignments, job functions, invitations and API tokens.

-- Site access per membership: 1 = every site of the team automatically (sites added later
-- included); 0 = the sites listed in site_members (at least one for Staff-level members).
-- Team-level members always reach every site, whatever this says.
ALTER TABLE team_members ADD COLUMN all_sites INTEGER NOT NULL DEFAULT 0 CHECK (all_sites IN (0, 1));

-- Add-on roles defined by a team (the built-in roles live in code).
CREATE TABLE roles (
    id          INTEGER PRIMARY KEY,
    team_id     INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '[]',   -- JSON array of permission names
    assignable  INTEGER NOT NULL DEFAULT 1 CHECK (assignable IN (0, 1)),
    description TEXT NOT NULL DEFAULT '',
    created_by  INTEGER REFERENCES staff(id),
    created_at  TEXT NOT NULL,
    UNIQUE (team_id, key)
) STRICT;

-- Add-on roles held by a member in a team (built-in or team-defined, by key).
CREATE TABLE member_roles (
    staff_id  INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    team_id   INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    role_key  TEXT NOT NULL,
    granted_by INTEGER REFERENCES staff(id),
    granted_at TEXT NOT NULL,
    PRIMARY KEY (staff_id, team_id, role_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX member_roles_team ON member_roles(team_id, role_key);

-- Job functions defined by a team: the initial roles and site access of a new member.
CREATE TABLE job_functions (
    id         INTEGER PRIMARY KEY,
    team_id    INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    name       TEXT NOT NULL,
    base_level TEXT NOT NULL CHECK (base_level IN ('staff_user', 'staff_local_admin', 'team_user', 'team_admin')),
    addons     TEXT NOT NULL DEFAULT '[]',  -- JSON array of role keys
    all_sites  INTEGER NOT NULL DEFAULT 0 CHECK (all_sites IN (0, 1)),
    UNIQUE (team_id, key)
) STRICT;

-- Invitations by email: one-time token (argon2id hash, looked up by its prefix).
CREATE TABLE invitations (
    id           INTEGER PRIMARY KEY,
    team_id      INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    base_level   TEXT NOT NULL CHECK (base_level IN ('staff_user', 'staff_local_admin', 'team_user', 'team_admin')),
    addons       TEXT NOT NULL DEFAULT '[]',
    all_sites    INTEGER NOT NULL DEFAULT 0 CHECK (all_sites IN (0, 1)),
    sites        TEXT NOT NULL DEFAULT '[]',  -- JSON array of site ids
    token_prefix TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'accepted', 'rejected', 'expired')),
    invited_by   INTEGER NOT NULL REFERENCES staff(id),
    created_at   TEXT NOT NULL,
    sent_at      TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    decided_at   TEXT,
    decided_by   TEXT                        -- 'invitee' or the email of the team-side person
) STRICT;
CREATE INDEX invitations_team ON invitations(team_id, state);

-- API tokens: a subset of the creator's permissions and sites, in one team.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    team_id      INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    created_by   INTEGER NOT NULL REFERENCES staff(id),
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL,              -- argon2id PHC string of the whole token
    permissions  TEXT NOT NULL,              -- JSON array of permission names
    all_sites    INTEGER NOT NULL DEFAULT 0 CHECK (all_sites IN (0, 1)),
    sites        TEXT NOT NULL DEFAULT '[]',
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT,
    revoked_at   TEXT,
    revoked_by   INTEGER REFERENCES staff(id)
) STRICT;
CREATE INDEX api_tokens_team ON api_tokens(team_id);
