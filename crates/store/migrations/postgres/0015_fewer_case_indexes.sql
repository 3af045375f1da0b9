-- Fewer indexes on `cases` (BENCHMARKS.md, "Lists, the cases page, scheduled lists and the
-- purge"): every index is written when a case is stored and, on PostgreSQL, again when the
-- purge marks it purged (that update cannot be HOT). These four overlap others or serve nothing:

-- (integration_id, agent_id) is the prefix of cases_by_agent_status, which serves a staff
-- member's cases and the count of an agent's cases; without a status, the page sorts that one
-- agent's index entries instead of reading them in order.
DROP INDEX cases_by_agent;
-- The purge reads cases_to_purge; the date filters and the sort read cases_by_updated_id, and
-- the newest update of an integration walks it from the end.
DROP INDEX cases_by_updated;
-- Dates of creation: cases_by_created_id.
DROP INDEX cases_by_integration_created;
-- The cases page sorts and filters by COALESCE(last_message_at, 0), which this index on the
-- bare column could never serve.
DROP INDEX cases_by_last_message_id;

-- A list's pool walks one status over a window of dates (the default date field, updated), and
-- needs each case's agent, silo and purge mark besides: with them in the index the walk reads
-- the index alone instead of one table row per case. Same leading columns as before, so the
-- cases page's status filters and counts read it as they did.
DROP INDEX cases_by_status;
CREATE INDEX cases_by_status ON cases (integration_id, status, updated_at, agent_id, silo, purged_at, id);
