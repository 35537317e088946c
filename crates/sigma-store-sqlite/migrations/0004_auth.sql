-- Users, their second factor and recovery codes, API keys, and the
-- failed-login counters that lock an address for a while.
CREATE TABLE users (
    id               TEXT PRIMARY KEY NOT NULL,
    email            TEXT NOT NULL,
    email_key        TEXT NOT NULL UNIQUE,       -- lower-case e-mail
    password_hash    TEXT NOT NULL,              -- Argon2id, PHC string
    role             TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'readonly')),
    disabled         INTEGER NOT NULL DEFAULT 0,
    token_generation INTEGER NOT NULL DEFAULT 0, -- login tokens of older generations are refused
    totp_secret      TEXT,                       -- base32; set up but unproven while totp_enabled = 0
    totp_enabled     INTEGER NOT NULL DEFAULT 0,
    totp_last_step   INTEGER,                    -- the last accepted time step: no replay
    last_login_at    TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,                     -- SHA-256, hex
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,           -- SHA-256 of the key, hex
    role         TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'readonly')),
    owner_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    expires_at   TEXT,
    last_used_at TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX api_keys_owner ON api_keys (owner_id, id);

-- Kept per e-mail address whether or not a user has it, so that a lock
-- says nothing about which addresses exist.
CREATE TABLE login_failures (
    email_key       TEXT PRIMARY KEY NOT NULL,
    failures        INTEGER NOT NULL,
    first_failed_at TEXT NOT NULL,
    locked_until    TEXT
);
