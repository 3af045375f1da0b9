-- Synced HelpDesk data: agents, cases with their content, and the sync's own state.
CREATE TABLE helpdesk_agents (
    integration_id  UUID NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    agent_id        TEXT NOT NULL,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL,
    roles           TEXT NOT NULL,
    status          TEXT NOT NULL,
    listed          BOOLEAN NOT NULL,
    matched_user_id UUID REFERENCES users (id) ON DELETE SET NULL,
    match_source    TEXT,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (integration_id, agent_id)
);

CREATE TABLE cases (
    id              UUID PRIMARY KEY NOT NULL,
    integration_id  UUID NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    source_id       TEXT NOT NULL,
    short_id        TEXT,
    status          TEXT NOT NULL,
    priority        BIGINT,
    silo            TEXT NOT NULL,
    team_id         TEXT,
    team_name       TEXT,
    agent_id        TEXT,
    agent_name      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    last_message_at BIGINT,
    message_count   BIGINT NOT NULL,
    event_count     BIGINT NOT NULL,
    purged_at       BIGINT,
    synced_at       BIGINT NOT NULL,
    UNIQUE (integration_id, source_id)
);
CREATE INDEX cases_by_updated ON cases (integration_id, updated_at);
CREATE INDEX cases_by_agent ON cases (integration_id, agent_id, updated_at);

-- What retention removes. A purged case keeps its row in `cases` as a tombstone.
CREATE TABLE case_contents (
    case_id       UUID PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    subject       TEXT,
    requester     JSONB,
    tags          JSONB NOT NULL,
    custom_fields JSONB NOT NULL,
    events        JSONB NOT NULL
);

CREATE TABLE sync_states (
    integration_id    UUID PRIMARY KEY NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    phase             TEXT NOT NULL,
    cursor_updated_at BIGINT,
    tickets_stored    BIGINT NOT NULL,
    pages_fetched     BIGINT NOT NULL,
    windows_total     BIGINT NOT NULL,
    windows_done      BIGINT NOT NULL,
    last_success_at   BIGINT,
    last_error        TEXT,
    lease_owner       TEXT,
    lease_until       BIGINT,
    requested_at      BIGINT,
    updated_at        BIGINT NOT NULL
);

-- Backfill windows and where each one's paging stopped.
CREATE TABLE sync_windows (
    integration_id UUID NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    silo           TEXT NOT NULL,
    window_start   BIGINT NOT NULL,
    window_end     BIGINT NOT NULL,
    after_value    BIGINT,
    after_id       TEXT,
    done           BOOLEAN NOT NULL,
    PRIMARY KEY (integration_id, silo, window_start)
);
