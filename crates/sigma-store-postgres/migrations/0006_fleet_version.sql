-- The fleet's version: one number that every committed change of a VPS or a
-- provider moves on. Answers that list the whole fleet (Prometheus targets,
-- the Ansible inventory) are cached under it, by every replica.
--
-- The counter is moved by deferred constraint triggers, so at commit and
-- once per transaction: its row lock is the last one a writer takes and is
-- held only while it commits, so writers never deadlock on it, and a
-- 50,000-row import moves it once.

CREATE TABLE fleet_version (
    id integer PRIMARY KEY CHECK (id = 1),
    n  bigint NOT NULL
);
INSERT INTO fleet_version (id, n) VALUES (1, 0);

CREATE FUNCTION fleet_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('sigma.fleet_version_bumped', true) IS DISTINCT FROM 'yes' THEN
        UPDATE fleet_version SET n = n + 1 WHERE id = 1;
        PERFORM set_config('sigma.fleet_version_bumped', 'yes', true);
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER vps_fleet_version AFTER INSERT OR UPDATE OR DELETE ON vps
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fleet_version_bump();
CREATE CONSTRAINT TRIGGER providers_fleet_version AFTER INSERT OR UPDATE OR DELETE ON providers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fleet_version_bump();
