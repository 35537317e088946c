-- Running tallies for the dashboard and a trigram index for `?q=`.
--
-- Counting 100,000 VPS once per dimension costs tens of milliseconds on
-- SQLite; the dashboard asks often and the fleet changes rarely. Triggers
-- keep one row per (dimension, key) in the writing transaction, so
-- `/api/stats` reads a few hundred rows and is never stale.
--   status   every status, retired included (trash excluded)
--   country, purpose, provider, currency   live VPS only
-- `cost_e4` is the summed monthly cost (x 10^4) of the currency rows.
CREATE TABLE vps_tally (
    dim     TEXT NOT NULL,
    key     TEXT NOT NULL,
    n       INTEGER NOT NULL,
    cost_e4 INTEGER NOT NULL,
    PRIMARY KEY (dim, key)
) WITHOUT ROWID;

CREATE TRIGGER vps_tally_insert AFTER INSERT ON vps WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO vps_tally VALUES ('status', NEW.status, 1, 0)
        ON CONFLICT (dim, key) DO UPDATE SET n = n + 1;
    INSERT INTO vps_tally
        SELECT d, k, 1, c FROM (
            SELECT 'country' AS d, NEW.country AS k, 0 AS c
            UNION ALL SELECT 'purpose', NEW.purpose, 0
            UNION ALL SELECT 'provider', NEW.provider_id, 0
            UNION ALL SELECT 'currency', NEW.currency, NEW.monthly_cost_e4)
        WHERE NEW.status <> 'retired'
        ON CONFLICT (dim, key) DO UPDATE SET n = n + 1, cost_e4 = cost_e4 + excluded.cost_e4;
END;

CREATE TRIGGER vps_tally_delete AFTER DELETE ON vps WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE vps_tally SET n = n - 1 WHERE dim = 'status' AND key = OLD.status;
    UPDATE vps_tally SET n = n - 1, cost_e4 = cost_e4 - CASE dim WHEN 'currency' THEN OLD.monthly_cost_e4 ELSE 0 END
        WHERE OLD.status <> 'retired' AND (dim, key) IN (VALUES ('country', OLD.country), ('purpose', OLD.purpose),
            ('provider', OLD.provider_id), ('currency', OLD.currency));
END;

CREATE TRIGGER vps_tally_update
AFTER UPDATE OF status, country, purpose, provider_id, currency, monthly_cost_e4, deleted_at ON vps
BEGIN
    -- Take the old row out...
    UPDATE vps_tally SET n = n - 1 WHERE OLD.deleted_at IS NULL AND dim = 'status' AND key = OLD.status;
    UPDATE vps_tally SET n = n - 1, cost_e4 = cost_e4 - CASE dim WHEN 'currency' THEN OLD.monthly_cost_e4 ELSE 0 END
        WHERE OLD.deleted_at IS NULL AND OLD.status <> 'retired'
          AND (dim, key) IN (VALUES ('country', OLD.country), ('purpose', OLD.purpose),
              ('provider', OLD.provider_id), ('currency', OLD.currency));
    -- ...and put the new one in.
    INSERT INTO vps_tally SELECT 'status', NEW.status, 1, 0 WHERE NEW.deleted_at IS NULL
        ON CONFLICT (dim, key) DO UPDATE SET n = n + 1;
    INSERT INTO vps_tally
        SELECT d, k, 1, c FROM (
            SELECT 'country' AS d, NEW.country AS k, 0 AS c
            UNION ALL SELECT 'purpose', NEW.purpose, 0
            UNION ALL SELECT 'provider', NEW.provider_id, 0
            UNION ALL SELECT 'currency', NEW.currency, NEW.monthly_cost_e4)
        WHERE NEW.deleted_at IS NULL AND NEW.status <> 'retired'
        ON CONFLICT (dim, key) DO UPDATE SET n = n + 1, cost_e4 = cost_e4 + excluded.cost_e4;
END;

INSERT INTO vps_tally SELECT 'status', status, COUNT(*), 0 FROM vps WHERE deleted_at IS NULL GROUP BY status;
INSERT INTO vps_tally SELECT 'country', country, COUNT(*), 0 FROM vps
    WHERE deleted_at IS NULL AND status <> 'retired' GROUP BY country;
INSERT INTO vps_tally SELECT 'purpose', purpose, COUNT(*), 0 FROM vps
    WHERE deleted_at IS NULL AND status <> 'retired' GROUP BY purpose;
INSERT INTO vps_tally SELECT 'provider', provider_id, COUNT(*), 0 FROM vps
    WHERE deleted_at IS NULL AND status <> 'retired' GROUP BY provider_id;
INSERT INTO vps_tally SELECT 'currency', currency, COUNT(*), SUM(monthly_cost_e4) FROM vps
    WHERE deleted_at IS NULL AND status <> 'retired' GROUP BY currency;

-- "Expiring within N days" is a range of this index.
CREATE INDEX vps_live_expire ON vps (expire_date) WHERE deleted_at IS NULL AND status <> 'retired';

-- `?q=` of three characters or more: a trigram index over the search text.
-- It keeps its own copy of the text and its own row numbers (the VPS table's
-- row numbers are not stable across VACUUM); `vps_search_row` finds a VPS's
-- entry when the VPS changes or goes.
CREATE VIRTUAL TABLE vps_search USING fts5 (vps_id UNINDEXED, search, tokenize = 'trigram');
CREATE TABLE vps_search_row (
    vps_id TEXT PRIMARY KEY NOT NULL,
    row    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER vps_search_insert AFTER INSERT ON vps
BEGIN
    INSERT INTO vps_search (vps_id, search) VALUES (NEW.id, NEW.search);
    INSERT INTO vps_search_row VALUES (NEW.id, last_insert_rowid());
END;

CREATE TRIGGER vps_search_update AFTER UPDATE OF search ON vps
BEGIN
    UPDATE vps_search SET search = NEW.search
        WHERE rowid = (SELECT row FROM vps_search_row WHERE vps_id = NEW.id);
END;

CREATE TRIGGER vps_search_delete AFTER DELETE ON vps
BEGIN
    DELETE FROM vps_search WHERE rowid = (SELECT row FROM vps_search_row WHERE vps_id = OLD.id);
    DELETE FROM vps_search_row WHERE vps_id = OLD.id;
END;

INSERT INTO vps_search (rowid, vps_id, search) SELECT rowid, id, search FROM vps;
INSERT INTO vps_search_row SELECT id, rowid FROM vps;
