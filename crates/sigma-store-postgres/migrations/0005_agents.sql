-- Agents: enrolment by claim or enrolment token, per-agent keys (stored as
-- SHA-256 hashes), the latest heartbeat and status transitions.

CREATE TABLE agents (
    id                UUID PRIMARY KEY,
    claim_hash        TEXT NOT NULL,                 -- hex SHA-256 of the claim token
    hostname          TEXT NOT NULL,
    agent_version     TEXT NOT NULL,
    os                TEXT NOT NULL,
    arch              TEXT NOT NULL,
    ip_addresses      JSONB NOT NULL DEFAULT '[]',   -- array of strings
    registered_at     TIMESTAMPTZ NOT NULL,
    claimed_at        TIMESTAMPTZ,
    enrolled_by       TEXT,                          -- 'claim' or 'enrollment-token'
    vps_id            UUID REFERENCES vps (id) ON DELETE SET NULL,
    key_hash          TEXT,                          -- hex SHA-256 of the delivered key
    key_pending       BOOLEAN NOT NULL DEFAULT false,
    status            TEXT NOT NULL DEFAULT 'pending',
    status_changed_at TIMESTAMPTZ NOT NULL,
    last_heartbeat_at TIMESTAMPTZ,
    offline_after     TIMESTAMPTZ,
    heartbeat         JSONB
);
-- Heartbeats rewrite the row in place: leave room for HOT updates.
ALTER TABLE agents SET (fillfactor = 70);
CREATE UNIQUE INDEX agents_key_hash ON agents (key_hash) WHERE key_hash IS NOT NULL;
CREATE UNIQUE INDEX agents_vps ON agents (vps_id) WHERE vps_id IS NOT NULL;
-- The offline sweep reads the online agents; heartbeats change no indexed column.
CREATE INDEX agents_status ON agents (status, id);

CREATE TABLE agent_transitions (
    id       UUID PRIMARY KEY,
    agent_id UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    status   TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX agent_transitions_agent ON agent_transitions (agent_id, at);

CREATE TABLE enrollment_tokens (
    id           UUID PRIMARY KEY,
    token_hash   TEXT NOT NULL,
    name         TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    max_uses     BIGINT NOT NULL,
    uses         BIGINT NOT NULL DEFAULT 0,
    revoked_at   TIMESTAMPTZ,
    new_vps      JSONB
);
CREATE UNIQUE INDEX enrollment_tokens_hash ON enrollment_tokens (token_hash);
