-- HelpDesk integrations, their sealed credentials, and OAuth flows awaiting their callback.
CREATE TABLE integrations (
    id              BLOB PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    label           TEXT NOT NULL,
    description     TEXT NOT NULL,
    auth_method     TEXT NOT NULL,
    account_id      TEXT,
    retention_value INTEGER NOT NULL,
    retention_unit  TEXT NOT NULL,
    backfill_days   INTEGER NOT NULL,
    state           TEXT NOT NULL,
    last_synced_at  INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Secrets are sealed (XChaCha20-Poly1305, bound to integration and column) before they get here.
CREATE TABLE integration_credentials (
    integration_id       BLOB PRIMARY KEY NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    token_sealed         TEXT,
    token_last4          TEXT,
    access_token_sealed  TEXT,
    refresh_token_sealed TEXT,
    access_expires_at    INTEGER,
    version              INTEGER NOT NULL,
    refresh_lock_owner   TEXT,
    refresh_lock_until   INTEGER,
    updated_at           INTEGER NOT NULL
);

CREATE TABLE oauth_flows (
    state_digest    BLOB PRIMARY KEY NOT NULL,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id      BLOB,
    integration_id  BLOB NOT NULL,
    reconnect       INTEGER NOT NULL,
    settings        TEXT NOT NULL,
    verifier_sealed TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX oauth_flows_by_expiry ON oauth_flows (expires_at);
