-- Indexes that let list pages and their totals be answered from indexes,
-- visiting the table only for the rows of the page.
--
-- A list page first finds the ids of its rows (the sort key and the
-- filtered columns come from one index, so PostgreSQL reads no table rows
-- for rows it skips) and then reads those rows. Its total is counted the
-- same way. Addresses, tags and search text are the exceptions: tags and
-- trigrams live in GIN indexes, which cannot return columns.

-- Country with status, in expiry order: the count of a country (and status)
-- is one index range, and its page sorted by expiry is read in order.
CREATE INDEX vps_list_country_status ON vps (country, status, expire_date, id) WHERE deleted_at IS NULL;

-- The expiry sort, and every list's page by id, carrying the columns that
-- filters compare (tags excepted: a VPS may carry more than an index entry holds).
CREATE INDEX vps_list_expire_cover ON vps (expire_date, id)
    INCLUDE (status, country, provider_id, purpose, monitoring_enabled) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_expire_desc_cover ON vps (expire_date DESC NULLS LAST, id DESC)
    INCLUDE (status, country, provider_id, purpose, monitoring_enabled) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_id_cover ON vps (id)
    INCLUDE (expire_date, status, country, provider_id, purpose, monitoring_enabled) WHERE deleted_at IS NULL;
DROP INDEX vps_list_expire;
DROP INDEX vps_list_expire_desc;
DROP INDEX vps_list_id;

-- Tags with status in one GIN index (btree_gin gives text a GIN operator
-- class), so "these tags, this status" is one exact bitmap.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX vps_list_tags_status ON vps USING gin (tags, status) WHERE deleted_at IS NULL;

-- A network is a range of keys; with the VPS id in the index, the
-- addresses of a network are read without visiting vps_ip.
CREATE INDEX vps_ip_key_vps ON vps_ip (ip_key, vps_id);
DROP INDEX vps_ip_key;
