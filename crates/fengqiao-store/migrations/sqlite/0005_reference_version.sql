-- The reference tables' version (see crates/fengqiao-store/src/reference.rs): every change to the tables each
-- request reads (regions, grids, departments, categories, role grants) bumps it, and the session query reads
-- it, so a server drops what it cached from them as soon as any server changes them.
CREATE TABLE reference_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO reference_version (id, version) VALUES (1, 0);

CREATE TRIGGER regions_reference_insert AFTER INSERT ON regions BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER regions_reference_update AFTER UPDATE ON regions BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER regions_reference_delete AFTER DELETE ON regions BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER grids_reference_insert AFTER INSERT ON grids BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER grids_reference_update AFTER UPDATE ON grids BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER grids_reference_delete AFTER DELETE ON grids BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER departments_reference_insert AFTER INSERT ON departments BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER departments_reference_update AFTER UPDATE ON departments BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER departments_reference_delete AFTER DELETE ON departments BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER categories_reference_insert AFTER INSERT ON categories BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER categories_reference_update AFTER UPDATE ON categories BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER categories_reference_delete AFTER DELETE ON categories BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER user_roles_reference_insert AFTER INSERT ON user_roles BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER user_roles_reference_update AFTER UPDATE ON user_roles BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER user_roles_reference_delete AFTER DELETE ON user_roles BEGIN UPDATE reference_version SET version = version + 1 WHERE id = 1; END;
