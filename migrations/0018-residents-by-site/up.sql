-- A site's residents in the table's own order (rowid), for the reads that visit every
-- resident of a site and need no order of their own: a pull's marks and the site's stamp.
-- Through `residents_site_name` they came in name order, one random table page (and, under
-- SQLCipher, one page decrypted) a resident once a site outgrows the page cache: a pull of
-- an unchanged 200,000-resident site spent ~10 s there. In rowid order each page is read
-- once.
CREATE INDEX residents_site ON residents(site_id);
