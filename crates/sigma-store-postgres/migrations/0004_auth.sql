-- Users, their second factor and recovery codes, API keys, and the
-- failed-login counters that lock an address for a while.
CREATE TABLE users (
    id               UUID PRIMARY KEY,
    email            TEXT NOT NULL,
    email_key        TEXT NOT NULL UNIQUE,       -- lower-case e-mail
    password_hash    TEXT NOT NULL,              -- Argon2id, PHC string
    role             TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'readonly')),
    disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    token_generation BIGINT NOT NULL DEFAULT 0,  -- login tokens of older generations are refused
    totp_secret      TEXT,                       -- base32; set up but unproven while totp_enabled is false
    totp_enabled     BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step   BIGINT,                     -- the last accepted time step: no replay
    last_login_at    TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE recovery_codes (
    user_id   UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,                     -- SHA-256, hex
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE api_keys (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,           -- SHA-256 of the key, hex
    role         TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'readonly')),
    owner_id     UUID REFERENCES users (id) ON DELETE CASCADE,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX api_keys_owner ON api_keys (owner_id, id);

-- Kept per e-mail address whether or not a user has it, so that a lock
-- says nothing about which addresses exist.
CREATE TABLE login_failures (
    email_key       TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    first_failed_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ
);
