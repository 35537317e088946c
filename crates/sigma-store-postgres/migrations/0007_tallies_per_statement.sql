-- The running tallies (0003) are kept per statement instead of per row.
--
-- A row trigger updates the same few tally rows once per VPS: in one
-- transaction each update adds a version of the row that the next one has
-- to step over, so a 50,000-row import grew quadratic (about a millisecond
-- per row at 5,000 rows, and rising). A statement trigger sums the
-- statement's old and new rows (its transition tables) and applies each
-- tally row's net change once, still in key order so that concurrent
-- writers cannot deadlock on them.

DROP TRIGGER vps_tally_apply ON vps;
DROP FUNCTION vps_tally_apply();

CREATE FUNCTION vps_tally_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO vps_tally AS t (dim, key, n, cost)
        SELECT c.dim, c.key, SUM(c.n), SUM(c.cost)
        FROM new_rows r CROSS JOIN LATERAL vps_tally_rows(r, 1) c
        GROUP BY c.dim, c.key
        HAVING SUM(c.n) <> 0 OR SUM(c.cost) <> 0
        ORDER BY c.dim, c.key
        ON CONFLICT (dim, key) DO UPDATE SET n = t.n + excluded.n, cost = t.cost + excluded.cost;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO vps_tally AS t (dim, key, n, cost)
        SELECT c.dim, c.key, SUM(c.n), SUM(c.cost)
        FROM old_rows r CROSS JOIN LATERAL vps_tally_rows(r, -1) c
        GROUP BY c.dim, c.key
        HAVING SUM(c.n) <> 0 OR SUM(c.cost) <> 0
        ORDER BY c.dim, c.key
        ON CONFLICT (dim, key) DO UPDATE SET n = t.n + excluded.n, cost = t.cost + excluded.cost;
    ELSE
        INSERT INTO vps_tally AS t (dim, key, n, cost)
        SELECT c.dim, c.key, SUM(c.n), SUM(c.cost)
        FROM (
            SELECT c.* FROM old_rows r CROSS JOIN LATERAL vps_tally_rows(r, -1) c
            UNION ALL
            SELECT c.* FROM new_rows r CROSS JOIN LATERAL vps_tally_rows(r, 1) c
        ) c
        GROUP BY c.dim, c.key
        HAVING SUM(c.n) <> 0 OR SUM(c.cost) <> 0
        ORDER BY c.dim, c.key
        ON CONFLICT (dim, key) DO UPDATE SET n = t.n + excluded.n, cost = t.cost + excluded.cost;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER vps_tally_insert AFTER INSERT ON vps
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vps_tally_statement();
CREATE TRIGGER vps_tally_update AFTER UPDATE ON vps
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION vps_tally_statement();
CREATE TRIGGER vps_tally_delete AFTER DELETE ON vps
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION vps_tally_statement();
