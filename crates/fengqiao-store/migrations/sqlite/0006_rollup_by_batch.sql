-- The rates' rollup written once per group commit (SQLite): the writer's batch of registrations adds its
-- cases to `rate_days` and `rate_months` with four grouped statements instead of four statements per case from
-- the insert trigger. While the batch's transaction holds the row of `rollup_by_batch` (its cases are the ones
-- with an id above `after_id`), the insert trigger leaves the rollup to it; the batch deletes the row again
-- before it commits, so every other insert, and every update and delete, still goes through the triggers.
CREATE TABLE rollup_by_batch (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    after_id INTEGER NOT NULL
);
DROP TRIGGER cases_rates_insert;
CREATE TRIGGER cases_rates_insert AFTER INSERT ON cases
    WHEN NOT EXISTS (SELECT 1 FROM rollup_by_batch)
BEGIN
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
