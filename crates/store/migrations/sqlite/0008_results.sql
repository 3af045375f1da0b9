-- Results read submitted evaluations by submission time, and an agent's in the agent page.
CREATE INDEX evaluations_for_results ON evaluations (kind, status, submitted_at);
CREATE INDEX evaluations_for_agent_results ON evaluations (agent_user_id, kind, status, submitted_at);
