-- Providers and the VPS inventory.
-- Ids are UUIDv7 text, timestamps RFC 3339 UTC text with microseconds
-- (so they sort as text), dates YYYY-MM-DD, money exact decimal text.

CREATE TABLE providers (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,          -- lower-cased name, for uniqueness
    country       TEXT,
    website       TEXT,
    panel_url     TEXT,
    api_supported INTEGER NOT NULL DEFAULT 0,
    notes         TEXT,
    rating        INTEGER,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX providers_name_key ON providers (name_key);

CREATE TABLE vps (
    id                 TEXT PRIMARY KEY NOT NULL,
    hostname           TEXT NOT NULL,
    alias              TEXT,
    provider_id        TEXT NOT NULL REFERENCES providers (id),
    country            TEXT NOT NULL,
    city               TEXT,
    dc_name            TEXT,
    ip_addresses       TEXT NOT NULL DEFAULT '[]',   -- JSON [{ip, label}]
    ssh_port           INTEGER NOT NULL,
    ssh_user           TEXT,
    status             TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    vpn_protocol       TEXT,
    tags               TEXT NOT NULL DEFAULT '[]',   -- JSON array, also in vps_tag
    cpu_cores          INTEGER,
    ram_mb             INTEGER,
    disk_gb            INTEGER,
    bandwidth_tb       TEXT,
    price              TEXT,
    currency           TEXT NOT NULL,
    billing_cycle      TEXT NOT NULL,
    monthly_cost_e4    INTEGER NOT NULL,             -- monthly cost x 10^4, exact
    purchase_date      TEXT,
    expire_date        TEXT,
    auto_renew         INTEGER NOT NULL,
    monitoring_enabled INTEGER NOT NULL,
    node_exporter_port INTEGER NOT NULL,
    extra              TEXT NOT NULL DEFAULT '{}',
    notes              TEXT,
    source             TEXT NOT NULL,
    search             TEXT NOT NULL,                -- lower-cased text that ?q= searches
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    retired_at         TEXT,
    deleted_at         TEXT,
    version            INTEGER NOT NULL DEFAULT 1
);
-- A host name belongs to one live VPS (neither retired nor trashed).
CREATE UNIQUE INDEX vps_live_hostname ON vps (hostname) WHERE status <> 'retired' AND deleted_at IS NULL;
CREATE INDEX vps_hostname ON vps (hostname);
-- "Is the provider referenced at all", trash included.
CREATE INDEX vps_provider ON vps (provider_id);
CREATE INDEX vps_deleted ON vps (deleted_at) WHERE deleted_at IS NOT NULL;

-- Lists, counts and stats leave the trash out, and SQLite has no statistics
-- (nothing runs ANALYZE), so these partial indexes carry every column their
-- queries read: a count, a GROUP BY or a sorted page is answered from the
-- index alone instead of visiting 100,000 wide rows (docs/BENCHMARKS.md).
-- `?q=` scans this narrow copy of the search text (named in vps.rs).
CREATE INDEX vps_list_search ON vps (search, status) WHERE deleted_at IS NULL;
-- Status filter in created order; with `id`, tag and address filters probe it.
CREATE INDEX vps_list_status ON vps (status, id) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_status_expire ON vps (status, expire_date, id) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_country ON vps (country, status, expire_date, id) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_expire ON vps (expire_date, id, status) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_cost ON vps (monthly_cost_e4, id) WHERE deleted_at IS NULL;
CREATE INDEX vps_stats_cost ON vps (currency, status, monthly_cost_e4) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_provider ON vps (provider_id, status) WHERE deleted_at IS NULL;
-- Narrowest last: SQLite counts all live VPS with the last-made of equally
-- good indexes.
CREATE INDEX vps_list_purpose ON vps (purpose, status) WHERE deleted_at IS NULL;

-- Every address of every VPS; `live` mirrors the VPS so that an address
-- belongs to at most one live VPS.
CREATE TABLE vps_ip (
    vps_id TEXT NOT NULL REFERENCES vps (id) ON DELETE CASCADE,
    ip     TEXT NOT NULL,
    ip_key BLOB NOT NULL,      -- 16 bytes, IPv4 mapped into IPv6: networks are ranges
    live   INTEGER NOT NULL,
    PRIMARY KEY (vps_id, ip)
);
CREATE UNIQUE INDEX vps_ip_live ON vps_ip (ip) WHERE live = 1;
CREATE INDEX vps_ip_key ON vps_ip (ip_key);

CREATE TABLE vps_tag (
    vps_id TEXT NOT NULL REFERENCES vps (id) ON DELETE CASCADE,
    tag    TEXT NOT NULL,
    PRIMARY KEY (tag, vps_id)
);
CREATE INDEX vps_tag_vps ON vps_tag (vps_id);

-- Which VPS held which address, and when.
CREATE TABLE ip_history (
    id          TEXT PRIMARY KEY NOT NULL,
    ip          TEXT NOT NULL,
    vps_id      TEXT NOT NULL REFERENCES vps (id) ON DELETE CASCADE,
    hostname    TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    released_at TEXT
);
CREATE INDEX ip_history_ip ON ip_history (ip, assigned_at);
CREATE INDEX ip_history_vps ON ip_history (vps_id, assigned_at);
