-- Cases of a staff member are found through the agents matched to them.
CREATE INDEX helpdesk_agents_by_user ON helpdesk_agents (matched_user_id);
