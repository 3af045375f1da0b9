-- What the integration pages show of a sync: the rate limit it waits for, where the backfill
-- stood when this run took it up (to estimate the time left), and how the last run ended.
ALTER TABLE sync_states ADD COLUMN rate_limit_wait TEXT;
ALTER TABLE sync_states ADD COLUMN rate_limited_until INTEGER;
ALTER TABLE sync_states ADD COLUMN backfill_resumed_at INTEGER;
ALTER TABLE sync_states ADD COLUMN backfill_resumed_ppm INTEGER;
ALTER TABLE sync_states ADD COLUMN last_run_at INTEGER;
ALTER TABLE sync_states ADD COLUMN last_run_written INTEGER;

-- An OAuth connection the admin confirmed although its account is connected already.
ALTER TABLE oauth_flows ADD COLUMN allow_duplicate INTEGER NOT NULL DEFAULT 0;
