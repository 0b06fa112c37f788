-- Foundation: the organisation, accounts, sessions, residents and the audit trail (SQLite).
-- `path` columns hold the region path (`/37/3708/370883/370883101/`), so a data scope is a path prefix.

CREATE TABLE regions (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    parent_code TEXT REFERENCES regions(code),
    level       TEXT NOT NULL,
    path        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX regions_parent ON regions(parent_code);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    can_unmask    BOOLEAN NOT NULL DEFAULT FALSE,
    department_id INTEGER,
    grid_code     TEXT,
    home_path     TEXT NOT NULL,
    phone_enc     TEXT,
    phone_hash    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX users_home_path ON users(home_path);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    scope   TEXT NOT NULL,
    PRIMARY KEY (user_id, role, scope)
);

CREATE TABLE grids (
    code           TEXT PRIMARY KEY,
    village_code   TEXT NOT NULL REFERENCES regions(code),
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    geometry       TEXT NOT NULL,
    path           TEXT NOT NULL,
    worker_user_id INTEGER REFERENCES users(id),
    leader_user_id INTEGER REFERENCES users(id),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX grids_path ON grids(path);

CREATE TABLE departments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions(code),
    path        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (region_code, name)
);
CREATE INDEX departments_path ON departments(path);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    source       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_failures (
    id         INTEGER PRIMARY KEY,
    throttle_key TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(throttle_key, at);

CREATE TABLE residents (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    id_number_enc  TEXT,
    id_number_hash TEXT,
    id_number_mask TEXT,
    phone_enc      TEXT,
    phone_hash     TEXT,
    phone_mask     TEXT,
    region_code    TEXT NOT NULL REFERENCES regions(code),
    path           TEXT NOT NULL,
    address        TEXT NOT NULL DEFAULT '',
    created_by     INTEGER REFERENCES users(id),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX residents_path ON residents(path);
CREATE INDEX residents_id_number_hash ON residents(id_number_hash);
CREATE INDEX residents_phone_hash ON residents(phone_hash);

-- Append-only. Rows arrive without chain_seq/hash inside their use case's transaction; the sealer fills them.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    object    TEXT NOT NULL,
    result    TEXT NOT NULL,
    source    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    chain_seq INTEGER UNIQUE,
    hash      TEXT
);
CREATE INDEX audit_log_unsealed ON audit_log(id) WHERE chain_seq IS NULL;
CREATE INDEX audit_log_action ON audit_log(action, at);

-- The audit trail is append-only at the database too: rows may be sealed once, never changed or deleted.
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_seal_once BEFORE UPDATE ON audit_log
WHEN OLD.chain_seq IS NOT NULL OR NEW.id <> OLD.id OR NEW.at <> OLD.at OR NEW.actor <> OLD.actor
    OR NEW.action <> OLD.action OR NEW.object <> OLD.object OR NEW.result <> OLD.result
    OR NEW.source <> OLD.source OR NEW.detail <> OLD.detail
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
