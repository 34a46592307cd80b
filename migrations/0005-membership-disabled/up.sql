-- Disabling is per team: a membership can be disabled by someone who may manage that member
-- in that team, without touching the person's other teams. `staff.disabled` stays as the
-- account-wide switch, which only the owner turns (account.disable).
ALTER TABLE team_members ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));
