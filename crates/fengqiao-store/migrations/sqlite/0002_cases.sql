-- Cases: the matter catalog, the working calendar, cases with their timeline, parties, units and attachments,
-- case numbers, idempotency keys, supervision orders and notifications (SQLite).

CREATE TABLE categories (
    code            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    parent_code     TEXT REFERENCES categories(code),
    case_kind       TEXT,
    -- JSON: {"response":{"unit":"working_hours","amount":4},"handling":…,"follow_up":…}
    limits          TEXT NOT NULL,
    -- JSON: {"town":"police_station","county":"public_security_bureau"}: the default department kind per level
    departments     TEXT NOT NULL DEFAULT '{}',
    grid_handles    BOOLEAN NOT NULL DEFAULT FALSE,
    auto_dispatch   BOOLEAN NOT NULL DEFAULT FALSE,
    pausable        BOOLEAN NOT NULL DEFAULT FALSE,
    keywords        TEXT NOT NULL DEFAULT '',
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE calendar_days (
    day     TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    name    TEXT NOT NULL DEFAULT '',
    year    INTEGER NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE calendar_years (
    year        INTEGER PRIMARY KEY,
    version     INTEGER NOT NULL,
    source      TEXT NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE case_numbers (
    prefix TEXT PRIMARY KEY,
    last   INTEGER NOT NULL
);

CREATE TABLE cases (
    id                INTEGER PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    tracking_hash     TEXT NOT NULL,
    kind              TEXT NOT NULL,
    channel           TEXT NOT NULL,
    urgency           TEXT NOT NULL,
    status            TEXT NOT NULL,
    category_code     TEXT REFERENCES categories(code),
    title             TEXT NOT NULL,
    description       TEXT NOT NULL,
    tags              TEXT NOT NULL DEFAULT '',
    address           TEXT NOT NULL DEFAULT '',
    lng               REAL,
    lat               REAL,
    placement         TEXT NOT NULL DEFAULT 'none',
    grid_code         TEXT,
    basic_grid_code   TEXT,
    region_code       TEXT NOT NULL REFERENCES regions(code),
    path              TEXT NOT NULL,
    owner_region      TEXT NOT NULL,
    owner_path        TEXT NOT NULL,
    lead_unit         TEXT,
    claimed_by        INTEGER,
    leader_owner      INTEGER,
    response_due      TEXT,
    handling_due      TEXT,
    follow_up_due     TEXT,
    feedback_due      TEXT,
    clock_paused      BOOLEAN NOT NULL DEFAULT FALSE,
    deadline_provisional BOOLEAN NOT NULL DEFAULT FALSE,
    warning           TEXT NOT NULL DEFAULT 'none',
    reopen_count      INTEGER NOT NULL DEFAULT 0,
    merged_into       TEXT,
    satisfaction      TEXT,
    state             TEXT NOT NULL,
    version           INTEGER NOT NULL,
    created_by        INTEGER,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    accepted_at       TEXT,
    resolved_at       TEXT,
    closed_at         TEXT
);
CREATE INDEX cases_path ON cases(path);
CREATE INDEX cases_owner_path ON cases(owner_path);
CREATE INDEX cases_status_due ON cases(status, handling_due);
CREATE INDEX cases_created ON cases(created_at);

CREATE TABLE case_units (
    case_id  INTEGER NOT NULL REFERENCES cases(id),
    unit_key TEXT NOT NULL,
    role     TEXT NOT NULL,
    part     TEXT,
    PRIMARY KEY (case_id, unit_key)
);
CREATE INDEX case_units_unit ON case_units(unit_key, case_id);

CREATE TABLE case_events (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    name        TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events(case_id, id);

CREATE TABLE case_parties (
    id             INTEGER PRIMARY KEY,
    case_id        INTEGER NOT NULL REFERENCES cases(id),
    role           TEXT NOT NULL,
    name           TEXT NOT NULL DEFAULT '',
    phone_enc      TEXT,
    phone_hash     TEXT,
    phone_mask     TEXT,
    id_number_enc  TEXT,
    id_number_hash TEXT,
    id_number_mask TEXT,
    resident_id    INTEGER REFERENCES residents(id)
);
CREATE INDEX case_parties_case ON case_parties(case_id);
CREATE INDEX case_parties_phone ON case_parties(phone_hash);
CREATE INDEX case_parties_id_number ON case_parties(id_number_hash);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases(id),
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    storage_key  TEXT NOT NULL,
    uploaded_by  TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX attachments_case ON attachments(case_id);

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    case_id      INTEGER REFERENCES cases(id),
    created_at   TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

CREATE TABLE supervision_orders (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases(id),
    due        TEXT NOT NULL,
    note       TEXT NOT NULL,
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    closed_at  TEXT
);
CREATE INDEX supervision_orders_case ON supervision_orders(case_id);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    recipient  TEXT NOT NULL,
    case_id    INTEGER REFERENCES cases(id),
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at    TEXT
);
CREATE INDEX notifications_recipient ON notifications(recipient, id);

CREATE TABLE sweep_ticks (
    name    TEXT PRIMARY KEY,
    last_at TEXT NOT NULL
);

CREATE TABLE verification_codes (
    phone_hash TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);

-- Every dispatch of a case to a unit, for the response rate (响应率): answered by a claim or a return.
CREATE TABLE case_dispatches (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases(id),
    unit_key      TEXT NOT NULL,
    dispatched_at TEXT NOT NULL,
    response_due  TEXT,
    responded_at  TEXT,
    ended_at      TEXT
);
CREATE INDEX case_dispatches_case ON case_dispatches(case_id, id);
CREATE INDEX cases_accepted ON cases(accepted_at);
