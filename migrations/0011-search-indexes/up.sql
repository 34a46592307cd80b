-- Search as you type at a million residents (issue #17). The prefix indexes held the key
-- alone, so every match cost a table lookup (for its site and its name order) and the sort
-- took them all: a common prefix ("wil") read ~40,000 rows at 1M. Each prefix index now
-- carries what the search orders and filters by (name order and site), so the candidates
-- are read from the index alone, and `residents_order` is the list order itself with the
-- site and every searched key: a common prefix is answered by walking it in order until the
-- page is full, without reading the table.
DROP INDEX residents_first;
DROP INDEX residents_last;
DROP INDEX residents_unit_lc;
CREATE INDEX residents_order ON residents(last_lc, first_lc, id, site_id, email, unit_lc);
CREATE INDEX residents_first ON residents(first_lc, last_lc, site_id);
CREATE INDEX residents_unit_lc ON residents(unit_lc, last_lc, first_lc, site_id);
CREATE INDEX residents_email_order ON residents(email, last_lc, first_lc, site_id);
