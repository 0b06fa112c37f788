-- Cases at a million rows: the indexer's poll, the work queues, the handler's inbox and the rates read from
-- indexes instead of scanning the table (PostgreSQL).

-- Territory paths compare byte by byte whatever the database's locale, so a subtree is a range
-- [prefix, prefix with its last byte raised) that a plain B-tree serves.
DROP INDEX cases_path;
DROP INDEX cases_owner_path;
ALTER TABLE cases ALTER COLUMN path TYPE TEXT COLLATE "C", ALTER COLUMN owner_path TYPE TEXT COLLATE "C";

-- The search indexer's poll: which cases changed after an (updated_at, id) position, and their versions.
CREATE INDEX cases_updated ON cases(updated_at, id) INCLUDE (version);

-- The response rate (响应率) per case, kept with its dispatch records.
ALTER TABLE cases ADD COLUMN responses_on_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN responses_counted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN response_open_due TIMESTAMPTZ;
UPDATE cases SET
    responses_on_time = (SELECT COUNT(*) FROM case_dispatches d WHERE d.case_id = cases.id
        AND d.responded_at IS NOT NULL AND d.response_due IS NOT NULL AND d.responded_at <= d.response_due),
    responses_counted = (SELECT COUNT(*) FROM case_dispatches d WHERE d.case_id = cases.id
        AND (d.responded_at IS NOT NULL OR (d.response_due IS NOT NULL AND d.ended_at IS NOT NULL AND d.ended_at > d.response_due))),
    response_open_due = (SELECT MIN(d.response_due) FROM case_dispatches d WHERE d.case_id = cases.id
        AND d.responded_at IS NULL AND d.ended_at IS NULL)
WHERE id IN (SELECT case_id FROM case_dispatches);

-- Open cases by owner and by place: the work queues, which always name their statuses.
CREATE INDEX cases_open_owner ON cases(status, owner_path, handling_due, accepted_at, response_open_due)
    WHERE status NOT IN ('closed', 'archived', 'rejected', 'merged');
CREATE INDEX cases_open_path ON cases(status, path, owner_path, handling_due, accepted_at, response_open_due)
    WHERE status NOT IN ('closed', 'archived', 'rejected', 'merged');

-- A unit's cases by status (a copy of the case's status, written with the units).
ALTER TABLE case_units ADD COLUMN status TEXT NOT NULL DEFAULT '';
UPDATE case_units u SET status = c.status FROM cases c WHERE c.id = u.case_id;
DROP INDEX case_units_unit;
CREATE INDEX case_units_status ON case_units(unit_key, status, case_id);

-- The rates: a territory's cases with every column the figures read, for index-only scans.
CREATE INDEX cases_rates ON cases(owner_path, accepted_at) INCLUDE (created_at, status, kind, category_code,
    handling_due, resolved_at, satisfaction, responses_on_time, responses_counted, response_open_due, grid_code, path);
CREATE INDEX cases_rates_place ON cases(path, owner_path) INCLUDE (accepted_at, created_at, status, kind,
    category_code, handling_due, resolved_at, satisfaction, responses_on_time, responses_counted, response_open_due,
    grid_code);
