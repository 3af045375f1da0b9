-- Results read every counted evaluation of a period (BENCHMARKS.md, "Results"): with every column
-- they read in the index, the rows come off the index in order and the table, whose rows carry
-- the answers and run to kilobytes, is never visited.
DROP INDEX evaluations_for_results;
CREATE INDEX evaluations_for_results ON evaluations (
    kind, status, submitted_at, agent_user_id, scorecard_id, score, passed, fail_all,
    evaluator_id, scorecard_version_id, case_id, id
);
