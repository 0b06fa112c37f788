-- Cases at a million rows: the indexer's poll, the work queues, the handler's inbox and the rates read from
-- indexes instead of scanning the table (SQLite).

-- The search indexer's poll: which cases changed after an (updated_at, id) position, and their versions.
CREATE INDEX cases_updated ON cases(updated_at, id, version);

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

-- Open cases by owner and by place: the work queues, which always name their statuses (an equality on the
-- first column, then a range on the path). SQLite uses a partial index only when the query repeats its
-- condition, so the store writes `status NOT IN ('closed', 'archived', 'rejected', 'merged')` verbatim.
CREATE INDEX cases_open_owner ON cases(status, owner_path, handling_due, accepted_at, response_open_due)
    WHERE status NOT IN ('closed', 'archived', 'rejected', 'merged');
CREATE INDEX cases_open_path ON cases(status, path, owner_path, handling_due, accepted_at, response_open_due)
    WHERE status NOT IN ('closed', 'archived', 'rejected', 'merged');

-- A unit's cases by status (a copy of the case's status, written with the units): the inbox without visiting
-- every case the unit ever held.
ALTER TABLE case_units ADD COLUMN status TEXT NOT NULL DEFAULT '';
UPDATE case_units SET status = (SELECT status FROM cases WHERE cases.id = case_units.case_id);
DROP INDEX case_units_unit;
CREATE INDEX case_units_status ON case_units(unit_key, status, case_id);

-- The rates: a territory's cases with every column the figures read, in one index.
CREATE INDEX cases_rates ON cases(owner_path, accepted_at, created_at, status, kind, category_code, handling_due,
    resolved_at, satisfaction, responses_on_time, responses_counted, response_open_due, grid_code, path);
CREATE INDEX cases_rates_place ON cases(path, owner_path, accepted_at, created_at, status, kind, category_code,
    handling_due, resolved_at, satisfaction, responses_on_time, responses_counted, response_open_due, grid_code);
DROP INDEX cases_path;
DROP INDEX cases_owner_path;

-- The rates' rollup (SQLite): per local day and per local month (Asia/Shanghai, UTC+8 all year) of acceptance
-- (the cohort's counts) and of registration (received, refused, merged), by owner and place, kept by triggers
-- in the same transaction as every change to a case. A county's rates over a period then add up whole months
-- and the odd days at its ends instead of reading every case; what depends on the moment of asking (open
-- cases past their deadline, unanswered dispatches past their limit) is counted live from the open cases.
-- Timestamps are stored as RFC 3339 UTC text; the fraction of a second is cut before date arithmetic, which
-- SQLite does in milliseconds and would otherwise round 23:59:59.9995 into the next day.
CREATE TABLE rate_days (
    day TEXT NOT NULL,
    owner_path TEXT NOT NULL,
    path TEXT NOT NULL,
    cohort INTEGER NOT NULL DEFAULT 0,
    completion INTEGER NOT NULL DEFAULT 0,
    on_time INTEGER NOT NULL DEFAULT 0,
    satisfied INTEGER NOT NULL DEFAULT 0,
    sat_answered INTEGER NOT NULL DEFAULT 0,
    dispute_resolved INTEGER NOT NULL DEFAULT 0,
    disputes INTEGER NOT NULL DEFAULT 0,
    unreachable INTEGER NOT NULL DEFAULT 0,
    declined INTEGER NOT NULL DEFAULT 0,
    resp_on_time INTEGER NOT NULL DEFAULT 0,
    resp_counted INTEGER NOT NULL DEFAULT 0,
    received INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    merged INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, owner_path, path)
) WITHOUT ROWID;
CREATE TABLE rate_months (
    month TEXT NOT NULL,
    owner_path TEXT NOT NULL,
    path TEXT NOT NULL,
    cohort INTEGER NOT NULL DEFAULT 0,
    completion INTEGER NOT NULL DEFAULT 0,
    on_time INTEGER NOT NULL DEFAULT 0,
    satisfied INTEGER NOT NULL DEFAULT 0,
    sat_answered INTEGER NOT NULL DEFAULT 0,
    dispute_resolved INTEGER NOT NULL DEFAULT 0,
    disputes INTEGER NOT NULL DEFAULT 0,
    unreachable INTEGER NOT NULL DEFAULT 0,
    declined INTEGER NOT NULL DEFAULT 0,
    resp_on_time INTEGER NOT NULL DEFAULT 0,
    resp_counted INTEGER NOT NULL DEFAULT 0,
    received INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    merged INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, owner_path, path)
) WITHOUT ROWID;
CREATE TRIGGER cases_rates_insert AFTER INSERT ON cases BEGIN
    INSERT INTO rate_days (day, owner_path, path, cohort, completion, on_time, satisfied, sat_answered, dispute_resolved, disputes, unreachable, declined, resp_on_time, resp_counted)
        SELECT date(substr(NEW.accepted_at, 1, 19), '+8 hours'), NEW.owner_path, NEW.path, 1, (NEW.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived')), (NEW.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived') AND NEW.handling_due IS NOT NULL AND NEW.resolved_at <= NEW.handling_due), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction IN ('satisfied', 'basically_satisfied')), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')), (NEW.kind = 'dispute' AND NEW.status IN ('closed', 'archived') AND NEW.satisfaction IS NOT NULL AND NEW.satisfaction IN ('satisfied', 'basically_satisfied')), (NEW.kind = 'dispute'), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction = 'unreachable'), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction = 'declined'), NEW.responses_on_time, NEW.responses_counted
        WHERE NEW.accepted_at IS NOT NULL AND NEW.status NOT IN ('merged', 'rejected')
        ON CONFLICT (day, owner_path, path) DO UPDATE SET cohort = cohort + excluded.cohort, completion = completion + excluded.completion, on_time = on_time + excluded.on_time, satisfied = satisfied + excluded.satisfied, sat_answered = sat_answered + excluded.sat_answered, dispute_resolved = dispute_resolved + excluded.dispute_resolved, disputes = disputes + excluded.disputes, unreachable = unreachable + excluded.unreachable, declined = declined + excluded.declined, resp_on_time = resp_on_time + excluded.resp_on_time, resp_counted = resp_counted + excluded.resp_counted;
    INSERT INTO rate_days (day, owner_path, path, received, rejected, merged)
        SELECT date(substr(NEW.created_at, 1, 19), '+8 hours'), NEW.owner_path, NEW.path, 1, (NEW.status = 'rejected'), (NEW.status = 'merged')
        WHERE true
        ON CONFLICT (day, owner_path, path) DO UPDATE SET received = received + excluded.received, rejected = rejected + excluded.rejected, merged = merged + excluded.merged;
    INSERT INTO rate_months (month, owner_path, path, cohort, completion, on_time, satisfied, sat_answered, dispute_resolved, disputes, unreachable, declined, resp_on_time, resp_counted)
        SELECT substr(date(substr(NEW.accepted_at, 1, 19), '+8 hours'), 1, 7), NEW.owner_path, NEW.path, 1, (NEW.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived')), (NEW.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived') AND NEW.handling_due IS NOT NULL AND NEW.resolved_at <= NEW.handling_due), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction IN ('satisfied', 'basically_satisfied')), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')), (NEW.kind = 'dispute' AND NEW.status IN ('closed', 'archived') AND NEW.satisfaction IS NOT NULL AND NEW.satisfaction IN ('satisfied', 'basically_satisfied')), (NEW.kind = 'dispute'), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction = 'unreachable'), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction = 'declined'), NEW.responses_on_time, NEW.responses_counted
        WHERE NEW.accepted_at IS NOT NULL AND NEW.status NOT IN ('merged', 'rejected')
        ON CONFLICT (month, owner_path, path) DO UPDATE SET cohort = cohort + excluded.cohort, completion = completion + excluded.completion, on_time = on_time + excluded.on_time, satisfied = satisfied + excluded.satisfied, sat_answered = sat_answered + excluded.sat_answered, dispute_resolved = dispute_resolved + excluded.dispute_resolved, disputes = disputes + excluded.disputes, unreachable = unreachable + excluded.unreachable, declined = declined + excluded.declined, resp_on_time = resp_on_time + excluded.resp_on_time, resp_counted = resp_counted + excluded.resp_counted;
    INSERT INTO rate_months (month, owner_path, path, received, rejected, merged)
        SELECT substr(date(substr(NEW.created_at, 1, 19), '+8 hours'), 1, 7), NEW.owner_path, NEW.path, 1, (NEW.status = 'rejected'), (NEW.status = 'merged')
        WHERE true
        ON CONFLICT (month, owner_path, path) DO UPDATE SET received = received + excluded.received, rejected = rejected + excluded.rejected, merged = merged + excluded.merged;
END;
CREATE TRIGGER cases_rates_update AFTER UPDATE ON cases
    WHEN OLD.status IS NOT NEW.status OR OLD.accepted_at IS NOT NEW.accepted_at OR OLD.created_at IS NOT NEW.created_at OR OLD.owner_path IS NOT NEW.owner_path OR OLD.path IS NOT NEW.path OR OLD.kind IS NOT NEW.kind OR OLD.satisfaction IS NOT NEW.satisfaction OR OLD.resolved_at IS NOT NEW.resolved_at OR OLD.handling_due IS NOT NEW.handling_due OR OLD.responses_on_time IS NOT NEW.responses_on_time OR OLD.responses_counted IS NOT NEW.responses_counted
BEGIN
    INSERT INTO rate_days (day, owner_path, path, cohort, completion, on_time, satisfied, sat_answered, dispute_resolved, disputes, unreachable, declined, resp_on_time, resp_counted)
        SELECT date(substr(OLD.accepted_at, 1, 19), '+8 hours'), OLD.owner_path, OLD.path, -1, -(OLD.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived')), -(OLD.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived') AND OLD.handling_due IS NOT NULL AND OLD.resolved_at <= OLD.handling_due), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction IN ('satisfied', 'basically_satisfied')), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')), -(OLD.kind = 'dispute' AND OLD.status IN ('closed', 'archived') AND OLD.satisfaction IS NOT NULL AND OLD.satisfaction IN ('satisfied', 'basically_satisfied')), -(OLD.kind = 'dispute'), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction = 'unreachable'), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction = 'declined'), -OLD.responses_on_time, -OLD.responses_counted
        WHERE OLD.accepted_at IS NOT NULL AND OLD.status NOT IN ('merged', 'rejected')
        ON CONFLICT (day, owner_path, path) DO UPDATE SET cohort = cohort + excluded.cohort, completion = completion + excluded.completion, on_time = on_time + excluded.on_time, satisfied = satisfied + excluded.satisfied, sat_answered = sat_answered + excluded.sat_answered, dispute_resolved = dispute_resolved + excluded.dispute_resolved, disputes = disputes + excluded.disputes, unreachable = unreachable + excluded.unreachable, declined = declined + excluded.declined, resp_on_time = resp_on_time + excluded.resp_on_time, resp_counted = resp_counted + excluded.resp_counted;
    INSERT INTO rate_days (day, owner_path, path, received, rejected, merged)
        SELECT date(substr(OLD.created_at, 1, 19), '+8 hours'), OLD.owner_path, OLD.path, -1, -(OLD.status = 'rejected'), -(OLD.status = 'merged')
        WHERE true
        ON CONFLICT (day, owner_path, path) DO UPDATE SET received = received + excluded.received, rejected = rejected + excluded.rejected, merged = merged + excluded.merged;
    INSERT INTO rate_months (month, owner_path, path, cohort, completion, on_time, satisfied, sat_answered, dispute_resolved, disputes, unreachable, declined, resp_on_time, resp_counted)
        SELECT substr(date(substr(OLD.accepted_at, 1, 19), '+8 hours'), 1, 7), OLD.owner_path, OLD.path, -1, -(OLD.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived')), -(OLD.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived') AND OLD.handling_due IS NOT NULL AND OLD.resolved_at <= OLD.handling_due), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction IN ('satisfied', 'basically_satisfied')), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')), -(OLD.kind = 'dispute' AND OLD.status IN ('closed', 'archived') AND OLD.satisfaction IS NOT NULL AND OLD.satisfaction IN ('satisfied', 'basically_satisfied')), -(OLD.kind = 'dispute'), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction = 'unreachable'), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction = 'declined'), -OLD.responses_on_time, -OLD.responses_counted
        WHERE OLD.accepted_at IS NOT NULL AND OLD.status NOT IN ('merged', 'rejected')
        ON CONFLICT (month, owner_path, path) DO UPDATE SET cohort = cohort + excluded.cohort, completion = completion + excluded.completion, on_time = on_time + excluded.on_time, satisfied = satisfied + excluded.satisfied, sat_answered = sat_answered + excluded.sat_answered, dispute_resolved = dispute_resolved + excluded.dispute_resolved, disputes = disputes + excluded.disputes, unreachable = unreachable + excluded.unreachable, declined = declined + excluded.declined, resp_on_time = resp_on_time + excluded.resp_on_time, resp_counted = resp_counted + excluded.resp_counted;
    INSERT INTO rate_months (month, owner_path, path, received, rejected, merged)
        SELECT substr(date(substr(OLD.created_at, 1, 19), '+8 hours'), 1, 7), OLD.owner_path, OLD.path, -1, -(OLD.status = 'rejected'), -(OLD.status = 'merged')
        WHERE true
        ON CONFLICT (month, owner_path, path) DO UPDATE SET received = received + excluded.received, rejected = rejected + excluded.rejected, merged = merged + excluded.merged;
    INSERT INTO rate_days (day, owner_path, path, cohort, completion, on_time, satisfied, sat_answered, dispute_resolved, disputes, unreachable, declined, resp_on_time, resp_counted)
        SELECT date(substr(NEW.accepted_at, 1, 19), '+8 hours'), NEW.owner_path, NEW.path, 1, (NEW.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived')), (NEW.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived') AND NEW.handling_due IS NOT NULL AND NEW.resolved_at <= NEW.handling_due), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction IN ('satisfied', 'basically_satisfied')), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')), (NEW.kind = 'dispute' AND NEW.status IN ('closed', 'archived') AND NEW.satisfaction IS NOT NULL AND NEW.satisfaction IN ('satisfied', 'basically_satisfied')), (NEW.kind = 'dispute'), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction = 'unreachable'), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction = 'declined'), NEW.responses_on_time, NEW.responses_counted
        WHERE NEW.accepted_at IS NOT NULL AND NEW.status NOT IN ('merged', 'rejected')
        ON CONFLICT (day, owner_path, path) DO UPDATE SET cohort = cohort + excluded.cohort, completion = completion + excluded.completion, on_time = on_time + excluded.on_time, satisfied = satisfied + excluded.satisfied, sat_answered = sat_answered + excluded.sat_answered, dispute_resolved = dispute_resolved + excluded.dispute_resolved, disputes = disputes + excluded.disputes, unreachable = unreachable + excluded.unreachable, declined = declined + excluded.declined, resp_on_time = resp_on_time + excluded.resp_on_time, resp_counted = resp_counted + excluded.resp_counted;
    INSERT INTO rate_days (day, owner_path, path, received, rejected, merged)
        SELECT date(substr(NEW.created_at, 1, 19), '+8 hours'), NEW.owner_path, NEW.path, 1, (NEW.status = 'rejected'), (NEW.status = 'merged')
        WHERE true
        ON CONFLICT (day, owner_path, path) DO UPDATE SET received = received + excluded.received, rejected = rejected + excluded.rejected, merged = merged + excluded.merged;
    INSERT INTO rate_months (month, owner_path, path, cohort, completion, on_time, satisfied, sat_answered, dispute_resolved, disputes, unreachable, declined, resp_on_time, resp_counted)
        SELECT substr(date(substr(NEW.accepted_at, 1, 19), '+8 hours'), 1, 7), NEW.owner_path, NEW.path, 1, (NEW.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived')), (NEW.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived') AND NEW.handling_due IS NOT NULL AND NEW.resolved_at <= NEW.handling_due), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction IN ('satisfied', 'basically_satisfied')), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')), (NEW.kind = 'dispute' AND NEW.status IN ('closed', 'archived') AND NEW.satisfaction IS NOT NULL AND NEW.satisfaction IN ('satisfied', 'basically_satisfied')), (NEW.kind = 'dispute'), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction = 'unreachable'), (NEW.satisfaction IS NOT NULL AND NEW.satisfaction = 'declined'), NEW.responses_on_time, NEW.responses_counted
        WHERE NEW.accepted_at IS NOT NULL AND NEW.status NOT IN ('merged', 'rejected')
        ON CONFLICT (month, owner_path, path) DO UPDATE SET cohort = cohort + excluded.cohort, completion = completion + excluded.completion, on_time = on_time + excluded.on_time, satisfied = satisfied + excluded.satisfied, sat_answered = sat_answered + excluded.sat_answered, dispute_resolved = dispute_resolved + excluded.dispute_resolved, disputes = disputes + excluded.disputes, unreachable = unreachable + excluded.unreachable, declined = declined + excluded.declined, resp_on_time = resp_on_time + excluded.resp_on_time, resp_counted = resp_counted + excluded.resp_counted;
    INSERT INTO rate_months (month, owner_path, path, received, rejected, merged)
        SELECT substr(date(substr(NEW.created_at, 1, 19), '+8 hours'), 1, 7), NEW.owner_path, NEW.path, 1, (NEW.status = 'rejected'), (NEW.status = 'merged')
        WHERE true
        ON CONFLICT (month, owner_path, path) DO UPDATE SET received = received + excluded.received, rejected = rejected + excluded.rejected, merged = merged + excluded.merged;
END;
CREATE TRIGGER cases_rates_delete AFTER DELETE ON cases BEGIN
    INSERT INTO rate_days (day, owner_path, path, cohort, completion, on_time, satisfied, sat_answered, dispute_resolved, disputes, unreachable, declined, resp_on_time, resp_counted)
        SELECT date(substr(OLD.accepted_at, 1, 19), '+8 hours'), OLD.owner_path, OLD.path, -1, -(OLD.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived')), -(OLD.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived') AND OLD.handling_due IS NOT NULL AND OLD.resolved_at <= OLD.handling_due), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction IN ('satisfied', 'basically_satisfied')), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')), -(OLD.kind = 'dispute' AND OLD.status IN ('closed', 'archived') AND OLD.satisfaction IS NOT NULL AND OLD.satisfaction IN ('satisfied', 'basically_satisfied')), -(OLD.kind = 'dispute'), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction = 'unreachable'), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction = 'declined'), -OLD.responses_on_time, -OLD.responses_counted
        WHERE OLD.accepted_at IS NOT NULL AND OLD.status NOT IN ('merged', 'rejected')
        ON CONFLICT (day, owner_path, path) DO UPDATE SET cohort = cohort + excluded.cohort, completion = completion + excluded.completion, on_time = on_time + excluded.on_time, satisfied = satisfied + excluded.satisfied, sat_answered = sat_answered + excluded.sat_answered, dispute_resolved = dispute_resolved + excluded.dispute_resolved, disputes = disputes + excluded.disputes, unreachable = unreachable + excluded.unreachable, declined = declined + excluded.declined, resp_on_time = resp_on_time + excluded.resp_on_time, resp_counted = resp_counted + excluded.resp_counted;
    INSERT INTO rate_days (day, owner_path, path, received, rejected, merged)
        SELECT date(substr(OLD.created_at, 1, 19), '+8 hours'), OLD.owner_path, OLD.path, -1, -(OLD.status = 'rejected'), -(OLD.status = 'merged')
        WHERE true
        ON CONFLICT (day, owner_path, path) DO UPDATE SET received = received + excluded.received, rejected = rejected + excluded.rejected, merged = merged + excluded.merged;
    INSERT INTO rate_months (month, owner_path, path, cohort, completion, on_time, satisfied, sat_answered, dispute_resolved, disputes, unreachable, declined, resp_on_time, resp_counted)
        SELECT substr(date(substr(OLD.accepted_at, 1, 19), '+8 hours'), 1, 7), OLD.owner_path, OLD.path, -1, -(OLD.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived')), -(OLD.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived') AND OLD.handling_due IS NOT NULL AND OLD.resolved_at <= OLD.handling_due), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction IN ('satisfied', 'basically_satisfied')), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')), -(OLD.kind = 'dispute' AND OLD.status IN ('closed', 'archived') AND OLD.satisfaction IS NOT NULL AND OLD.satisfaction IN ('satisfied', 'basically_satisfied')), -(OLD.kind = 'dispute'), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction = 'unreachable'), -(OLD.satisfaction IS NOT NULL AND OLD.satisfaction = 'declined'), -OLD.responses_on_time, -OLD.responses_counted
        WHERE OLD.accepted_at IS NOT NULL AND OLD.status NOT IN ('merged', 'rejected')
        ON CONFLICT (month, owner_path, path) DO UPDATE SET cohort = cohort + excluded.cohort, completion = completion + excluded.completion, on_time = on_time + excluded.on_time, satisfied = satisfied + excluded.satisfied, sat_answered = sat_answered + excluded.sat_answered, dispute_resolved = dispute_resolved + excluded.dispute_resolved, disputes = disputes + excluded.disputes, unreachable = unreachable + excluded.unreachable, declined = declined + excluded.declined, resp_on_time = resp_on_time + excluded.resp_on_time, resp_counted = resp_counted + excluded.resp_counted;
    INSERT INTO rate_months (month, owner_path, path, received, rejected, merged)
        SELECT substr(date(substr(OLD.created_at, 1, 19), '+8 hours'), 1, 7), OLD.owner_path, OLD.path, -1, -(OLD.status = 'rejected'), -(OLD.status = 'merged')
        WHERE true
        ON CONFLICT (month, owner_path, path) DO UPDATE SET received = received + excluded.received, rejected = rejected + excluded.rejected, merged = merged + excluded.merged;
END;
INSERT INTO rate_days (day, owner_path, path, cohort, completion, on_time, satisfied, sat_answered, dispute_resolved, disputes, unreachable, declined, resp_on_time, resp_counted)
    SELECT date(substr(c.accepted_at, 1, 19), '+8 hours'), c.owner_path, c.path, SUM(1), SUM((c.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived'))), SUM((c.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived') AND c.handling_due IS NOT NULL AND c.resolved_at <= c.handling_due)), SUM((c.satisfaction IS NOT NULL AND c.satisfaction IN ('satisfied', 'basically_satisfied'))), SUM((c.satisfaction IS NOT NULL AND c.satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied'))), SUM((c.kind = 'dispute' AND c.status IN ('closed', 'archived') AND c.satisfaction IS NOT NULL AND c.satisfaction IN ('satisfied', 'basically_satisfied'))), SUM((c.kind = 'dispute')), SUM((c.satisfaction IS NOT NULL AND c.satisfaction = 'unreachable')), SUM((c.satisfaction IS NOT NULL AND c.satisfaction = 'declined')), SUM(c.responses_on_time), SUM(c.responses_counted)
    FROM cases c WHERE c.accepted_at IS NOT NULL AND c.status NOT IN ('merged', 'rejected') GROUP BY 1, 2, 3;
INSERT INTO rate_days (day, owner_path, path, received, rejected, merged)
    SELECT date(substr(c.created_at, 1, 19), '+8 hours'), c.owner_path, c.path, SUM(1), SUM((c.status = 'rejected')), SUM((c.status = 'merged'))
    FROM cases c WHERE true GROUP BY 1, 2, 3
    ON CONFLICT (day, owner_path, path) DO UPDATE SET received = received + excluded.received, rejected = rejected + excluded.rejected, merged = merged + excluded.merged;
INSERT INTO rate_months (month, owner_path, path, cohort, completion, on_time, satisfied, sat_answered, dispute_resolved, disputes, unreachable, declined, resp_on_time, resp_counted)
    SELECT substr(date(substr(c.accepted_at, 1, 19), '+8 hours'), 1, 7), c.owner_path, c.path, SUM(1), SUM((c.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived'))), SUM((c.status IN ('resolved', 'awaiting_follow_up', 'closed', 'archived') AND c.handling_due IS NOT NULL AND c.resolved_at <= c.handling_due)), SUM((c.satisfaction IS NOT NULL AND c.satisfaction IN ('satisfied', 'basically_satisfied'))), SUM((c.satisfaction IS NOT NULL AND c.satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied'))), SUM((c.kind = 'dispute' AND c.status IN ('closed', 'archived') AND c.satisfaction IS NOT NULL AND c.satisfaction IN ('satisfied', 'basically_satisfied'))), SUM((c.kind = 'dispute')), SUM((c.satisfaction IS NOT NULL AND c.satisfaction = 'unreachable')), SUM((c.satisfaction IS NOT NULL AND c.satisfaction = 'declined')), SUM(c.responses_on_time), SUM(c.responses_counted)
    FROM cases c WHERE c.accepted_at IS NOT NULL AND c.status NOT IN ('merged', 'rejected') GROUP BY 1, 2, 3;
INSERT INTO rate_months (month, owner_path, path, received, rejected, merged)
    SELECT substr(date(substr(c.created_at, 1, 19), '+8 hours'), 1, 7), c.owner_path, c.path, SUM(1), SUM((c.status = 'rejected')), SUM((c.status = 'merged'))
    FROM cases c WHERE true GROUP BY 1, 2, 3
    ON CONFLICT (month, owner_path, path) DO UPDATE SET received = received + excluded.received, rejected = rejected + excluded.rejected, merged = merged + excluded.merged;

