-- Undo while unsent (issue #18): a suspend, unsuspend or terminate can be taken back until
-- its outbox entry has been sent. The entry keeps the resident's values from before the
-- change (a JSON before-image: {"suspended": false} or {"deactivation_utc": "..."|null});
-- undoing writes them back and withdraws the entry (state 'discarded'), in one
-- transaction. NULL: the change cannot be undone (every other operation, and every entry
-- written before this migration).
ALTER TABLE outbox ADD COLUMN undo TEXT;
