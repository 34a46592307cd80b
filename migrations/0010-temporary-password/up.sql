-- A password reset (issue #18) gives a member a one-time temporary password: its hash is the
-- account's password_hash, and this column says until when it is valid. While it is set,
-- signing in with it asks for a new password first; the new password clears it.
ALTER TABLE staff ADD COLUMN password_temporary_until TEXT;
