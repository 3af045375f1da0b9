-- Indexes the list benchmark showed missing (BENCHMARKS.md, "Lists and the cases page").

-- One staff member's cases in one status, newest first by update: the page comes straight off
-- the index instead of checking the status of every case of the agent.
CREATE INDEX cases_by_agent_status ON cases (integration_id, agent_id, status, updated_at, id);

-- The retention purge takes the oldest unpurged cases first; without the condition each batch
-- would walk past every tombstone the batches before it left.
CREATE INDEX cases_to_purge ON cases (integration_id, updated_at) WHERE purged_at IS NULL;

-- A run's page reads each pick with its assignment: by (run, case) instead of every
-- assignment of the run for every pick.
CREATE INDEX assignments_by_run_case ON assignments (run_id, case_id);
DROP INDEX assignments_by_run;
