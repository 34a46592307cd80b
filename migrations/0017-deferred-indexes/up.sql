-- The first pull of a large portfolio into an empty desk (issue #17: 1,000,000 residents
-- < 30 s) sets the search's indexes aside and builds them once at the end: inserting a
-- million rows into indexes in random key order reads and rewrites their pages over and
-- over once they outgrow the cache, where CREATE INDEX sorts once. Each index set aside is
-- kept here (its definition, in the same transaction as its DROP) until it is built again,
-- so a pull interrupted by a crash has them built at the next open.
CREATE TABLE deferred_indexes (
    name TEXT PRIMARY KEY,
    sql  TEXT NOT NULL
) STRICT;
