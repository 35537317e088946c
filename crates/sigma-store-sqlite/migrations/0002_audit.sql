-- Who changed what, when and from where. Written in the same transaction
-- as the change it describes.
CREATE TABLE audit_log (
    id            TEXT PRIMARY KEY NOT NULL,   -- UUIDv7: sorts by time
    at            TEXT NOT NULL,
    actor_kind    TEXT NOT NULL,
    actor_id      TEXT,
    actor_name    TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT,
    before        TEXT,                        -- JSON
    after         TEXT,                        -- JSON
    ip            TEXT,
    request_id    TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_resource ON audit_log (resource_type, resource_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor_name, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
