-- Mediation and petitions (SQLite): committees and mediators, mediations of dispute cases, petitions with their
-- flags and statutory clocks, leaders' reception schedules, appointments and records, backlog cases, the
-- timeline of these records, and idempotency keys for their creation. Dates (YYYY-MM-DD, local) are TEXT.
-- Independent of 0003 (indexes): nothing here refers to it.

CREATE TABLE committees (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    field       TEXT NOT NULL DEFAULT '',
    region_code TEXT NOT NULL REFERENCES regions(code),
    path        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (region_code, name)
);
CREATE INDEX committees_path ON committees(path);

CREATE TABLE mediators (
    id           INTEGER PRIMARY KEY,
    committee_id INTEGER NOT NULL REFERENCES committees(id),
    user_id      INTEGER REFERENCES users(id),
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    -- days of the month the mediator sits, comma-separated ('' = every day)
    rota_days    TEXT NOT NULL DEFAULT '',
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TEXT NOT NULL
);
CREATE INDEX mediators_committee ON mediators(committee_id);

CREATE TABLE mediations (
    id               INTEGER PRIMARY KEY,
    case_id          INTEGER NOT NULL REFERENCES cases(id),
    committee_id     INTEGER NOT NULL REFERENCES committees(id),
    mediator_user_id INTEGER,
    previous_id      INTEGER REFERENCES mediations(id),
    kind             TEXT NOT NULL,
    step             TEXT NOT NULL,
    status           TEXT NOT NULL,
    category_code    TEXT,
    region_code      TEXT NOT NULL,
    -- the case's region path (territorial scope)
    path             TEXT NOT NULL,
    accepted_at      TEXT NOT NULL,
    concluded_at     TEXT,
    follow_up_due    TEXT,
    performed        BOOLEAN,
    state            TEXT NOT NULL,
    version          INTEGER NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX mediations_case ON mediations(case_id);
CREATE INDEX mediations_committee ON mediations(committee_id, accepted_at);
CREATE INDEX mediations_path ON mediations(path, accepted_at);

CREATE TABLE reception_schedules (
    id             INTEGER PRIMARY KEY,
    leader_user_id INTEGER NOT NULL REFERENCES users(id),
    region_code    TEXT NOT NULL REFERENCES regions(code),
    path           TEXT NOT NULL,
    place          TEXT NOT NULL,
    -- JSON: {"every":"monthly","day":15} | {"every":"weekly","weekday":1} | {"every":"daily"}
    cadence        TEXT NOT NULL,
    valid_from     TEXT NOT NULL,
    valid_to       TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX reception_schedules_leader ON reception_schedules(leader_user_id);

CREATE TABLE reception_appointments (
    id             INTEGER PRIMARY KEY,
    schedule_id    INTEGER NOT NULL REFERENCES reception_schedules(id),
    day            TEXT NOT NULL,
    petitioner     TEXT NOT NULL,
    matter         TEXT NOT NULL,
    created_by     INTEGER,
    created_at     TEXT NOT NULL
);
CREATE INDEX reception_appointments_schedule ON reception_appointments(schedule_id, day);

CREATE TABLE receptions (
    id             INTEGER PRIMARY KEY,
    schedule_id    INTEGER NOT NULL REFERENCES reception_schedules(id),
    leader_user_id INTEGER NOT NULL,
    day            TEXT NOT NULL,
    path           TEXT NOT NULL,
    notes          TEXT NOT NULL DEFAULT '',
    created_by     INTEGER,
    created_at     TEXT NOT NULL
);
CREATE INDEX receptions_schedule ON receptions(schedule_id, day);

CREATE TABLE petitions (
    id                INTEGER PRIMARY KEY,
    case_id           INTEGER REFERENCES cases(id),
    reception_id      INTEGER REFERENCES receptions(id),
    channel           TEXT NOT NULL,
    head_count        INTEGER NOT NULL,
    petitioner_name   TEXT NOT NULL,
    resident_id       INTEGER,
    phone_enc         TEXT,
    phone_hash        TEXT,
    phone_mask        TEXT,
    id_number_enc     TEXT,
    id_number_hash    TEXT,
    id_number_mask    TEXT,
    sensitive         BOOLEAN NOT NULL DEFAULT FALSE,
    petitioner_key    TEXT,
    matter_key        TEXT,
    category_code     TEXT,
    subject           TEXT NOT NULL,
    content           TEXT NOT NULL,
    region_code       TEXT NOT NULL REFERENCES regions(code),
    path              TEXT NOT NULL,
    received_region   TEXT NOT NULL REFERENCES regions(code),
    received_path     TEXT NOT NULL,
    repeat_flag       BOOLEAN NOT NULL,
    skip_level        BOOLEAN NOT NULL,
    group_flag        BOOLEAN NOT NULL,
    status            TEXT NOT NULL,
    current_due       TEXT,
    state             TEXT NOT NULL,
    version           INTEGER NOT NULL,
    created_by        INTEGER,
    registered_at     TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX petitions_path ON petitions(path, registered_at);
CREATE INDEX petitions_received_path ON petitions(received_path, registered_at);
CREATE INDEX petitions_petitioner ON petitions(petitioner_key, registered_at);
CREATE INDEX petitions_matter ON petitions(matter_key, registered_at);

CREATE TABLE backlog_cases (
    id             INTEGER PRIMARY KEY,
    petition_id    INTEGER NOT NULL UNIQUE REFERENCES petitions(id),
    leader_user_id INTEGER NOT NULL REFERENCES users(id),
    path           TEXT NOT NULL,
    status         TEXT NOT NULL,
    state          TEXT NOT NULL,
    version        INTEGER NOT NULL,
    opened_at      TEXT NOT NULL,
    closed_at      TEXT,
    updated_at     TEXT NOT NULL
);
CREATE INDEX backlog_cases_leader ON backlog_cases(leader_user_id);
CREATE INDEX backlog_cases_path ON backlog_cases(path);

-- The history of petitions and backlog cases (mediation steps go to the case's own timeline too).
CREATE TABLE record_events (
    id          INTEGER PRIMARY KEY,
    object      TEXT NOT NULL,
    name        TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX record_events_object ON record_events(object, id);

CREATE TABLE record_idempotency (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    object       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
