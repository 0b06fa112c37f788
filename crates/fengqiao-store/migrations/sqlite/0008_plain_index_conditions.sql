-- The conditions of the partial indexes on open cases and on owners, written without function calls and
-- without `NOT IN` (SQLite).
--
-- SQLite evaluates a partial index's condition for every row a statement inserts. `NOT IN (…)` over four
-- statuses built a temporary table for each row, and a function call (`substr`, `length`) marks the statement
-- as one that may fail halfway, so a multi-row insert into `cases` kept a statement journal: a copy of every
-- page it touched. Comparisons do neither. Every path holds only digits and `/`, so a case is owned where it
-- lies or above (its owner's path starts its path) exactly when `owner_path <= path < owner_path || '~'`.
-- Queries repeat both conditions verbatim (`OPEN_CONDITION`, `OWNED_ELSEWHERE` in the store).
DROP INDEX cases_open_owner;
CREATE INDEX cases_open_owner ON cases(status, owner_path, handling_due, accepted_at, response_open_due)
    WHERE status <> 'closed' AND status <> 'archived' AND status <> 'rejected' AND status <> 'merged'
        AND (path < owner_path OR path >= owner_path || '~');
DROP INDEX cases_open_path;
CREATE INDEX cases_open_path ON cases(status, path, owner_path, handling_due, accepted_at, response_open_due)
    WHERE status <> 'closed' AND status <> 'archived' AND status <> 'rejected' AND status <> 'merged';
DROP INDEX cases_rates;
CREATE INDEX cases_rates ON cases(owner_path, accepted_at, created_at, status, kind, category_code, handling_due,
    resolved_at, satisfaction, responses_on_time, responses_counted, response_open_due, grid_code, path)
    WHERE (path < owner_path OR path >= owner_path || '~');
