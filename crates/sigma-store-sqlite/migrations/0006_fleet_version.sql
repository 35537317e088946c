-- The fleet's version: one number that every change of a VPS or a provider
-- moves on, inside the writing transaction. Answers that list the whole
-- fleet (Prometheus targets, the Ansible inventory) are cached under it.

CREATE TABLE fleet_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO fleet_version (id, n) VALUES (1, 0);

CREATE TRIGGER vps_fleet_version_insert AFTER INSERT ON vps
BEGIN UPDATE fleet_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER vps_fleet_version_update AFTER UPDATE ON vps
BEGIN UPDATE fleet_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER vps_fleet_version_delete AFTER DELETE ON vps
BEGIN UPDATE fleet_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER providers_fleet_version_insert AFTER INSERT ON providers
BEGIN UPDATE fleet_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER providers_fleet_version_update AFTER UPDATE ON providers
BEGIN UPDATE fleet_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER providers_fleet_version_delete AFTER DELETE ON providers
BEGIN UPDATE fleet_version SET n = n + 1 WHERE id = 1; END;
