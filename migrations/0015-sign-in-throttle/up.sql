-- The sign-in lock of emails that have no account (issue #18: the lockout notice says until
-- when). A known account keeps its count and lock on its staff row; an email without one
-- keeps the same count and lock here, so that five wrong attempts lock every email alike and
-- the lock notice tells nothing about whether the account exists.
CREATE TABLE sign_in_throttle (
    email           TEXT PRIMARY KEY,
    failed_attempts INTEGER NOT NULL,
    locked_until    TEXT
) STRICT;
