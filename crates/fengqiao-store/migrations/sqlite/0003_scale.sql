-- Cases at a million rows: the indexer's poll, the work queues, the handler's inbox and the rates read from
-- indexes instead of scanning the table (SQLite).

-- The search indexer's poll: which cases changed after an (updated_at, id) position, and their versions.
CREATE INDEX cases_updated ON cases(updated_at, id, version);

-- Open cases by owner and by place: the work queues, which always name their statuses (an equality on the
-- first column, then a range on the path). SQLite uses a partial index only when the query repeats its
-- condition, so the store writes `status NOT IN ('closed', 'archived', 'rejected', 'merged')` verbatim.
CREATE INDEX cases_open_owner ON cases(status, owner_path, handling_due)
    WHERE status NOT IN ('closed', 'archived', 'rejected', 'merged');
CREATE INDEX cases_open_path ON cases(status, path, owner_path, handling_due)
    WHERE status NOT IN ('closed', 'archived', 'rejected', 'merged');

-- A unit's cases by status (a copy of the case's status, written with the units): the inbox without visiting
-- every case the unit ever held.
ALTER TABLE case_units ADD COLUMN status TEXT NOT NULL DEFAULT '';
UPDATE case_units SET status = (SELECT status FROM cases WHERE cases.id = case_units.case_id);
DROP INDEX case_units_unit;
CREATE INDEX case_units_status ON case_units(unit_key, status, case_id);

-- The response rate (响应率) per case, kept with its dispatch records: dispatches answered in time, dispatches
-- that count (answered, or ended unanswered after their limit), and the limit of the open unanswered one.
ALTER TABLE cases ADD COLUMN responses_on_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN responses_counted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN response_open_due TEXT;
UPDATE cases SET
    responses_on_time = (SELECT COUNT(*) FROM case_dispatches d WHERE d.case_id = cases.id
        AND d.responded_at IS NOT NULL AND d.response_due IS NOT NULL AND d.responded_at <= d.response_due),
    responses_counted = (SELECT COUNT(*) FROM case_dispatches d WHERE d.case_id = cases.id
        AND (d.responded_at IS NOT NULL OR (d.response_due IS NOT NULL AND d.ended_at IS NOT NULL AND d.ended_at > d.response_due))),
    response_open_due = (SELECT MIN(d.response_due) FROM case_dispatches d WHERE d.case_id = cases.id
        AND d.responded_at IS NULL AND d.ended_at IS NULL)
WHERE id IN (SELECT case_id FROM case_dispatches);

-- The rates: a territory's cases with every column the figures read, in one index.
CREATE INDEX cases_rates ON cases(owner_path, accepted_at, created_at, status, kind, category_code, handling_due,
    resolved_at, satisfaction, responses_on_time, responses_counted, response_open_due, grid_code, path);
CREATE INDEX cases_rates_place ON cases(path, owner_path, accepted_at, created_at, status, kind, category_code,
    handling_due, resolved_at, satisfaction, responses_on_time, responses_counted, response_open_due, grid_code);
DROP INDEX cases_path;
DROP INDEX cases_owner_path;
