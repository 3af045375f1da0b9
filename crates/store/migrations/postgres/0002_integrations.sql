-- HelpDesk integrations, their sealed credentials, and OAuth flows awaiting their callback.
CREATE TABLE integrations (
    id              UUID PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    label           TEXT NOT NULL,
    description     TEXT NOT NULL,
    auth_method     TEXT NOT NULL,
    account_id      TEXT,
    retention_value BIGINT NOT NULL,
    retention_unit  TEXT NOT NULL,
    backfill_days   BIGINT NOT NULL,
    state           TEXT NOT NULL,
    last_synced_at  BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Secrets are sealed (XChaCha20-Poly1305, bound to integration and column) before they get here.
CREATE TABLE integration_credentials (
    integration_id       UUID PRIMARY KEY NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    token_sealed         TEXT,
    token_last4          TEXT,
    access_token_sealed  TEXT,
    refresh_token_sealed TEXT,
    access_expires_at    BIGINT,
    version              BIGINT NOT NULL,
    refresh_lock_owner   TEXT,
    refresh_lock_until   BIGINT,
    updated_at           BIGINT NOT NULL
);

CREATE TABLE oauth_flows (
    state_digest    BYTEA PRIMARY KEY NOT NULL,
    user_id         UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id      UUID,
    integration_id  UUID NOT NULL,
    reconnect       BOOLEAN NOT NULL,
    settings        JSONB NOT NULL,
    verifier_sealed TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX oauth_flows_by_expiry ON oauth_flows (expires_at);
