-- The conditions of the partial indexes on open cases and on owners, as SQLite now writes them (its migration
-- 0008 says why): the store's queries repeat them verbatim on both backends (`OPEN_CONDITION`,
-- `OWNED_ELSEWHERE`). Every path holds only digits and `/` and the paths compare as bytes (`COLLATE "C"`),
-- so a case is owned where it lies or above exactly when `owner_path <= path < owner_path || '~'`.
DROP INDEX cases_open_owner;
CREATE INDEX cases_open_owner ON cases(status, owner_path, handling_due, accepted_at, response_open_due)
    WHERE status <> 'closed' AND status <> 'archived' AND status <> 'rejected' AND status <> 'merged'
        AND (path < owner_path OR path >= owner_path || '~');
DROP INDEX cases_open_path;
CREATE INDEX cases_open_path ON cases(status, path, owner_path, handling_due, accepted_at, response_open_due)
    WHERE status <> 'closed' AND status <> 'archived' AND status <> 'rejected' AND status <> 'merged';
DROP INDEX cases_rates;
CREATE INDEX cases_rates ON cases(owner_path, accepted_at) INCLUDE (created_at, status, kind, category_code,
    handling_due, resolved_at, satisfaction, responses_on_time, responses_counted, response_open_due, grid_code, path)
    WHERE (path < owner_path OR path >= owner_path || '~');
