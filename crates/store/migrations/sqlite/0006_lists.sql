-- Cases and lists (issue 11): what the cases page filters on, list definitions with their
-- versions, immutable runs, assignments, and one row per scheduled slot.

-- Public replies by agents, for the lists' "minimum agent messages" filter; counted at sync.
ALTER TABLE cases ADD COLUMN agent_message_count INTEGER NOT NULL DEFAULT 0;
-- The cases page sorts newest first by a date field and pages by (date, id).
CREATE INDEX cases_by_created_id ON cases (created_at, id);
CREATE INDEX cases_by_updated_id ON cases (updated_at, id);
CREATE INDEX cases_by_last_message_id ON cases (last_message_at, id);
CREATE INDEX cases_by_status ON cases (integration_id, status, updated_at);
CREATE INDEX cases_by_integration_created ON cases (integration_id, created_at);

CREATE TABLE lists (
    id           BLOB PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    -- A reference to a scorecard; no foreign key until scorecards exist.
    scorecard_id BLOB,
    -- Whether the list's scope is the whole organisation (only global admins see it then).
    whole_scope  INTEGER NOT NULL,
    created_by   BLOB NOT NULL REFERENCES users (id),
    archived_at  INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- The teams a list's scope covers; who sees a list follows from them.
CREATE TABLE list_teams (
    list_id BLOB NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    team_id BLOB NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, team_id)
);
CREATE INDEX list_teams_by_team ON list_teams (team_id);

-- Every version of a definition, as JSON; runs name the version they used.
CREATE TABLE list_versions (
    list_id    BLOB NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_by BLOB NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (list_id, version)
);

-- One run of a list. A scheduled run carries its slot; the unique (list, slot) makes each slot
-- run once across every server. Manual runs have no slot (NULLs are distinct).
CREATE TABLE list_runs (
    id           BLOB PRIMARY KEY NOT NULL,
    list_id      BLOB NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    list_version INTEGER NOT NULL,
    seed         INTEGER NOT NULL,
    slot_at      INTEGER,
    window_from  INTEGER,
    window_to    INTEGER,
    pool_total   INTEGER NOT NULL,
    held_back    INTEGER NOT NULL,
    unassigned   INTEGER NOT NULL,
    started_by   BLOB REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    UNIQUE (list_id, slot_at)
);
CREATE INDEX list_runs_by_list ON list_runs (list_id, created_at);

-- Pool size and picks per staff member, as the run found them.
CREATE TABLE run_agents (
    run_id  BLOB NOT NULL REFERENCES list_runs (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users (id),
    pool    INTEGER NOT NULL,
    picked  INTEGER NOT NULL,
    PRIMARY KEY (run_id, user_id)
);

-- Each picked case: its rank in its agent's pool order (or the whole pool's for a total count)
-- and the evaluator it went to (none when only its own agent could take it).
CREATE TABLE run_picks (
    run_id        BLOB NOT NULL REFERENCES list_runs (id) ON DELETE CASCADE,
    list_id       BLOB NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    case_id       BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    agent_user_id BLOB NOT NULL REFERENCES users (id),
    position      INTEGER NOT NULL,
    rank          INTEGER NOT NULL,
    pool          INTEGER NOT NULL,
    evaluator_id  BLOB REFERENCES users (id),
    PRIMARY KEY (run_id, case_id)
);
CREATE INDEX run_picks_by_list ON run_picks (list_id, case_id);

-- Work for an evaluator: from a run's pick, a replacement after a skip, or given by hand.
CREATE TABLE assignments (
    id            BLOB PRIMARY KEY NOT NULL,
    list_id       BLOB REFERENCES lists (id) ON DELETE CASCADE,
    run_id        BLOB REFERENCES list_runs (id) ON DELETE CASCADE,
    case_id       BLOB NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    evaluator_id  BLOB NOT NULL REFERENCES users (id),
    agent_user_id BLOB NOT NULL REFERENCES users (id),
    status        TEXT NOT NULL,
    skip_reason   TEXT,
    replaces      BLOB REFERENCES assignments (id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX assignments_by_evaluator ON assignments (evaluator_id, status, created_at);
CREATE INDEX assignments_by_case ON assignments (case_id, status);
CREATE INDEX assignments_by_list ON assignments (list_id, case_id);
CREATE INDEX assignments_by_run ON assignments (run_id);
