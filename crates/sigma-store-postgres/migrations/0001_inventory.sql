-- Providers and the VPS inventory.
-- Ids are UUIDv7, times TIMESTAMPTZ (microseconds), money exact NUMERIC.
-- Text that lists sort or group by uses the "C" collation: byte order,
-- whatever the database's locale, as in the SQLite backend.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE providers (
    id            UUID PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT COLLATE "C" NOT NULL,   -- lower-cased name, for uniqueness
    country       TEXT,
    website       TEXT,
    panel_url     TEXT,
    api_supported BOOLEAN NOT NULL DEFAULT false,
    notes         TEXT,
    rating        INTEGER,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX providers_name_key ON providers (name_key);

CREATE TABLE vps (
    id                 UUID PRIMARY KEY,
    hostname           TEXT COLLATE "C" NOT NULL,
    alias              TEXT,
    provider_id        UUID NOT NULL REFERENCES providers (id),
    country            TEXT COLLATE "C" NOT NULL,
    city               TEXT,
    dc_name            TEXT,
    ip_addresses       JSONB NOT NULL DEFAULT '[]',  -- [{ip, label}], also in vps_ip
    ssh_port           INTEGER NOT NULL,
    ssh_user           TEXT,
    status             TEXT COLLATE "C" NOT NULL,
    purpose            TEXT COLLATE "C" NOT NULL,
    vpn_protocol       TEXT,
    tags               TEXT[] NOT NULL DEFAULT '{}',
    cpu_cores          INTEGER,
    ram_mb             INTEGER,
    disk_gb            INTEGER,
    bandwidth_tb       NUMERIC,
    price              NUMERIC,
    currency           TEXT COLLATE "C" NOT NULL,
    billing_cycle      TEXT NOT NULL,
    monthly_cost       NUMERIC NOT NULL,
    purchase_date      DATE,
    expire_date        DATE,
    auto_renew         BOOLEAN NOT NULL,
    monitoring_enabled BOOLEAN NOT NULL,
    node_exporter_port INTEGER NOT NULL,
    extra              JSONB NOT NULL DEFAULT '{}',
    notes              TEXT,
    source             TEXT NOT NULL,
    search             TEXT NOT NULL,                -- lower-cased text that ?q= searches
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    retired_at         TIMESTAMPTZ,
    deleted_at         TIMESTAMPTZ,
    version            BIGINT NOT NULL DEFAULT 1
);
-- A host name belongs to one live VPS (neither retired nor trashed).
CREATE UNIQUE INDEX vps_live_hostname ON vps (hostname) WHERE status <> 'retired' AND deleted_at IS NULL;

-- Lists leave the trash out; each sort column with `id` as tie-breaker, so a
-- page is read in index order. `created_at` sorts by `id` (UUIDv7).
CREATE INDEX vps_list_id ON vps (id) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_hostname ON vps (hostname, id) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_country ON vps (country, id) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_status ON vps (status, id) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_purpose ON vps (purpose, id) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_cost ON vps (monthly_cost, id) WHERE deleted_at IS NULL;
-- expire_date may be null and sorts NULLS LAST both ways: one index per direction.
CREATE INDEX vps_list_expire ON vps (expire_date, id) WHERE deleted_at IS NULL;
CREATE INDEX vps_list_expire_desc ON vps (expire_date DESC NULLS LAST, id DESC) WHERE deleted_at IS NULL;
-- Provider filter and per-provider counts; the plain one for "is it referenced at all".
CREATE INDEX vps_list_provider ON vps (provider_id, status) WHERE deleted_at IS NULL;
CREATE INDEX vps_provider ON vps (provider_id);
CREATE INDEX vps_trash ON vps (id) WHERE deleted_at IS NOT NULL;
CREATE INDEX vps_tags ON vps USING gin (tags);
CREATE INDEX vps_search ON vps USING gin (search gin_trgm_ops);

-- Every address of every VPS; `live` mirrors the VPS so that an address
-- belongs to at most one live VPS, even when two transactions race.
CREATE TABLE vps_ip (
    vps_id UUID NOT NULL REFERENCES vps (id) ON DELETE CASCADE,
    ip     INET NOT NULL,
    ip_key BYTEA NOT NULL,    -- 16 bytes, IPv4 mapped into IPv6: networks are ranges
    live   BOOLEAN NOT NULL,
    PRIMARY KEY (vps_id, ip)
);
CREATE UNIQUE INDEX vps_ip_live ON vps_ip (ip) WHERE live;
CREATE INDEX vps_ip_key ON vps_ip (ip_key);

-- Which VPS held which address, and when.
CREATE TABLE ip_history (
    id          UUID PRIMARY KEY,
    ip          INET NOT NULL,
    vps_id      UUID NOT NULL REFERENCES vps (id) ON DELETE CASCADE,
    hostname    TEXT NOT NULL,
    assigned_at TIMESTAMPTZ NOT NULL,
    released_at TIMESTAMPTZ
);
CREATE INDEX ip_history_ip ON ip_history (ip, assigned_at, id);
CREATE INDEX ip_history_vps ON ip_history (vps_id, assigned_at, id);
