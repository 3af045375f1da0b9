-- Results read every counted evaluation of a period (BENCHMARKS.md, "Results"): with every column
-- they read in the index, a vacuumed table answers them from the index alone.
DROP INDEX evaluations_for_results;
CREATE INDEX evaluations_for_results ON evaluations (kind, status, submitted_at)
    INCLUDE (agent_user_id, scorecard_id, score, passed, fail_all, evaluator_id, scorecard_version_id, case_id, id);
