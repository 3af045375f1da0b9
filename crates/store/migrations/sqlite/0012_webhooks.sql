-- HelpDesk webhooks of an integration: where HelpDesk sends its deliveries. Only the digest of
-- the URL's secret token is kept; the token itself lives only in the URL HelpDesk holds.
CREATE TABLE webhook_endpoints (
    integration_id   BLOB PRIMARY KEY NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    token_digest     BLOB NOT NULL UNIQUE,
    -- The event types HelpDesk listed for this URL at the last check, comma-separated.
    event_types      TEXT NOT NULL,
    checked_at       INTEGER NOT NULL,
    last_error       TEXT,
    last_delivery_at INTEGER,
    created_at       INTEGER NOT NULL
);
