-- The indexes on owners hold only the cases owned away from their place (PostgreSQL).
--
-- A case is owned by its town or county, or by a grid or village above its place, nearly always: its owner's
-- path is the start of its own path. Such a case lies in every territory its owner is in, so a territory's
-- cases are those located in it plus those owned in it but located elsewhere, and only the latter need an
-- index on the owner. Queries repeat the condition (`OWNED_ELSEWHERE` in the store) so the planner can prove
-- the partial indexes apply. A registration then writes two index entries fewer.
DROP INDEX cases_open_owner;
CREATE INDEX cases_open_owner ON cases(status, owner_path, handling_due, accepted_at, response_open_due)
    WHERE status NOT IN ('closed', 'archived', 'rejected', 'merged')
        AND substr(path, 1, length(owner_path)) <> owner_path;
DROP INDEX cases_rates;
CREATE INDEX cases_rates ON cases(owner_path, accepted_at) INCLUDE (created_at, status, kind, category_code,
    handling_due, resolved_at, satisfaction, responses_on_time, responses_counted, response_open_due, grid_code, path)
    WHERE substr(path, 1, length(owner_path)) <> owner_path;

-- Parties by phone and by ID number (the duplicate hints): only parties that have one. A respondent often
-- has neither, and every party without one wrote an entry under NULL. The lookups compare with `IN (…)`,
-- which implies the value is not NULL, so the partial indexes serve them.
DROP INDEX case_parties_phone;
CREATE INDEX case_parties_phone ON case_parties(phone_hash) WHERE phone_hash IS NOT NULL;
DROP INDEX case_parties_id_number;
CREATE INDEX case_parties_id_number ON case_parties(id_number_hash) WHERE id_number_hash IS NOT NULL;
