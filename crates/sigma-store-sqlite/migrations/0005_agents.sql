-- Agents: enrolment by claim or enrolment token, per-agent keys (stored as
-- SHA-256 hashes), the latest heartbeat and status transitions.

CREATE TABLE agents (
    id                TEXT PRIMARY KEY NOT NULL,
    claim_hash        TEXT NOT NULL,                 -- hex SHA-256 of the claim token
    hostname          TEXT NOT NULL,
    agent_version     TEXT NOT NULL,
    os                TEXT NOT NULL,
    arch              TEXT NOT NULL,
    ip_addresses      TEXT NOT NULL DEFAULT '[]',    -- JSON array of strings
    registered_at     TEXT NOT NULL,
    claimed_at        TEXT,
    enrolled_by       TEXT,                          -- 'claim' or 'enrollment-token'
    vps_id            TEXT REFERENCES vps (id) ON DELETE SET NULL,
    key_hash          TEXT,                          -- hex SHA-256 of the delivered key
    key_pending       INTEGER NOT NULL DEFAULT 0,    -- 1: a key waits to be fetched
    status            TEXT NOT NULL DEFAULT 'pending',
    status_changed_at TEXT NOT NULL,
    last_heartbeat_at TEXT,
    offline_after     TEXT,                          -- offline without a heartbeat by then
    heartbeat         TEXT                           -- JSON of the latest heartbeat
);
CREATE UNIQUE INDEX agents_key_hash ON agents (key_hash) WHERE key_hash IS NOT NULL;
-- One agent per VPS.
CREATE UNIQUE INDEX agents_vps ON agents (vps_id) WHERE vps_id IS NOT NULL;
-- The offline sweep reads the online agents; heartbeats change no indexed column.
CREATE INDEX agents_status ON agents (status, id);

CREATE TABLE agent_transitions (
    id       TEXT PRIMARY KEY NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    status   TEXT NOT NULL,
    at       TEXT NOT NULL
);
CREATE INDEX agent_transitions_agent ON agent_transitions (agent_id, at);

CREATE TABLE enrollment_tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    token_hash   TEXT NOT NULL,
    name         TEXT,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    max_uses     INTEGER NOT NULL,
    uses         INTEGER NOT NULL DEFAULT 0,
    revoked_at   TEXT,
    new_vps      TEXT                                -- JSON {provider_id, country, purpose}
);
CREATE UNIQUE INDEX enrollment_tokens_hash ON enrollment_tokens (token_hash);
