-- Synced HelpDesk data: agents, cases with their content, and the sync's own state.
CREATE TABLE helpdesk_agents (
    integration_id  BLOB NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    agent_id        TEXT NOT NULL,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL,
    roles           TEXT NOT NULL,
    status          TEXT NOT NULL,
    listed          INTEGER NOT NULL,
    matched_user_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    match_source    TEXT,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (integration_id, agent_id)
);

CREATE TABLE cases (
    id              BLOB PRIMARY KEY NOT NULL,
    integration_id  BLOB NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    source_id       TEXT NOT NULL,
    short_id        TEXT,
    status          TEXT NOT NULL,
    priority        INTEGER,
    silo            TEXT NOT NULL,
    team_id         TEXT,
    team_name       TEXT,
    agent_id        TEXT,
    agent_name      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_message_at INTEGER,
    message_count   INTEGER NOT NULL,
    event_count     INTEGER NOT NULL,
    purged_at       INTEGER,
    synced_at       INTEGER NOT NULL,
    UNIQUE (integration_id, source_id)
);
CREATE INDEX cases_by_updated ON cases (integration_id, updated_at);
CREATE INDEX cases_by_agent ON cases (integration_id, agent_id, updated_at);

-- What retention removes. A purged case keeps its row in `cases` as a tombstone.
CREATE TABLE case_contents (
    case_id       BLOB PRIMARY KEY NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    subject       TEXT,
    requester     TEXT,
    tags          TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    events        TEXT NOT NULL
);

CREATE TABLE sync_states (
    integration_id    BLOB PRIMARY KEY NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    phase             TEXT NOT NULL,
    cursor_updated_at INTEGER,
    tickets_stored    INTEGER NOT NULL,
    pages_fetched     INTEGER NOT NULL,
    windows_total     INTEGER NOT NULL,
    windows_done      INTEGER NOT NULL,
    last_success_at   INTEGER,
    last_error        TEXT,
    lease_owner       TEXT,
    lease_until       INTEGER,
    requested_at      INTEGER,
    updated_at        INTEGER NOT NULL
);

-- Backfill windows and where each one's paging stopped.
CREATE TABLE sync_windows (
    integration_id BLOB NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    silo           TEXT NOT NULL,
    window_start   INTEGER NOT NULL,
    window_end     INTEGER NOT NULL,
    after_value    INTEGER,
    after_id       TEXT,
    done           INTEGER NOT NULL,
    PRIMARY KEY (integration_id, silo, window_start)
);
