-- The reference tables' version (see crates/fengqiao-store/src/reference.rs): every change to the tables each
-- request reads (regions, grids, departments, categories, role grants) bumps it, and the session query reads
-- it, so a server drops what it cached from them as soon as any server changes them.
CREATE TABLE reference_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO reference_version (id, version) VALUES (1, 0);

CREATE FUNCTION bump_reference_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reference_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER regions_reference AFTER INSERT OR UPDATE OR DELETE ON regions FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER grids_reference AFTER INSERT OR UPDATE OR DELETE ON grids FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER departments_reference AFTER INSERT OR UPDATE OR DELETE ON departments FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER categories_reference AFTER INSERT OR UPDATE OR DELETE ON categories FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER user_roles_reference AFTER INSERT OR UPDATE OR DELETE ON user_roles FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
