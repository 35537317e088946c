-- Running tallies for the dashboard and for the total of unfiltered lists.
--
-- Counting 100,000 VPS once per dimension takes hundreds of milliseconds;
-- the dashboard asks often and the fleet changes rarely. A trigger keeps one
-- row per (dimension, key) in the writing transaction, so `/api/stats` reads
-- a few hundred rows and is never stale.
--   status   every status, retired included (trash excluded)
--   country, purpose, provider, currency   live VPS only
-- `cost` is the summed monthly cost of the currency rows.
CREATE TABLE vps_tally (
    dim  TEXT COLLATE "C" NOT NULL,
    key  TEXT COLLATE "C" NOT NULL,
    n    BIGINT NOT NULL,
    cost NUMERIC NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, key)
);

-- The tally rows one VPS row stands for, each with count `sign`.
CREATE FUNCTION vps_tally_rows(r vps, sign INTEGER)
RETURNS TABLE (dim TEXT, key TEXT, n BIGINT, cost NUMERIC)
LANGUAGE sql IMMUTABLE AS $$
    SELECT 'status', r.status, sign::BIGINT, 0::NUMERIC WHERE r.deleted_at IS NULL
    UNION ALL
    SELECT d.dim, d.key, sign::BIGINT, d.cost * sign
    FROM (VALUES ('country', r.country, 0::NUMERIC), ('purpose', r.purpose, 0),
                 ('provider', r.provider_id::TEXT, 0), ('currency', r.currency, r.monthly_cost)) AS d (dim, key, cost)
    WHERE r.deleted_at IS NULL AND r.status <> 'retired'
$$;

-- Old row out, new row in, as one statement that touches the tally rows in
-- key order: concurrent writers lock them in the same order and cannot
-- deadlock on them.
CREATE FUNCTION vps_tally_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO vps_tally AS t (dim, key, n, cost)
    SELECT c.dim, c.key, SUM(c.n), SUM(c.cost)
    FROM (
        SELECT * FROM vps_tally_rows(OLD, -1) WHERE TG_OP <> 'INSERT'
        UNION ALL
        SELECT * FROM vps_tally_rows(NEW, 1) WHERE TG_OP <> 'DELETE'
    ) c
    GROUP BY c.dim, c.key
    HAVING SUM(c.n) <> 0 OR SUM(c.cost) <> 0
    ORDER BY c.dim, c.key
    ON CONFLICT (dim, key) DO UPDATE SET n = t.n + excluded.n, cost = t.cost + excluded.cost;
    RETURN NULL;
END
$$;

CREATE TRIGGER vps_tally_apply
AFTER INSERT OR DELETE OR UPDATE OF status, country, purpose, provider_id, currency, monthly_cost, deleted_at ON vps
FOR EACH ROW EXECUTE FUNCTION vps_tally_apply();

INSERT INTO vps_tally
SELECT 'status', status, COUNT(*), 0 FROM vps WHERE deleted_at IS NULL GROUP BY status;
INSERT INTO vps_tally
SELECT 'country', country, COUNT(*), 0 FROM vps WHERE deleted_at IS NULL AND status <> 'retired' GROUP BY country;
INSERT INTO vps_tally
SELECT 'purpose', purpose, COUNT(*), 0 FROM vps WHERE deleted_at IS NULL AND status <> 'retired' GROUP BY purpose;
INSERT INTO vps_tally
SELECT 'provider', provider_id::TEXT, COUNT(*), 0 FROM vps
WHERE deleted_at IS NULL AND status <> 'retired' GROUP BY provider_id;
INSERT INTO vps_tally
SELECT 'currency', currency, COUNT(*), SUM(monthly_cost) FROM vps
WHERE deleted_at IS NULL AND status <> 'retired' GROUP BY currency;

-- "Expiring within N days" is a range of this index.
CREATE INDEX vps_live_expire ON vps (expire_date) WHERE deleted_at IS NULL AND status <> 'retired';
