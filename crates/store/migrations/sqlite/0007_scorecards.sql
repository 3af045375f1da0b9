-- Scorecards: a draft edited freely, and published versions that never change.
CREATE TABLE scorecards (
    id             BLOB PRIMARY KEY NOT NULL,
    -- The name of the draft, else of the latest version, for lists.
    name           TEXT NOT NULL,
    -- The definition being edited (JSON); NULL when nothing is pending since the latest version.
    draft          TEXT,
    latest_version INTEGER NOT NULL DEFAULT 0,
    archived_at    INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE scorecard_versions (
    id           BLOB PRIMARY KEY NOT NULL,
    scorecard_id BLOB NOT NULL REFERENCES scorecards (id),
    number       INTEGER NOT NULL,
    definition   TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    published_by BLOB REFERENCES users (id),
    UNIQUE (scorecard_id, number)
);

-- Evaluations name the case without a foreign key: they outlive the case's content and its row.
CREATE TABLE evaluations (
    id                   BLOB PRIMARY KEY NOT NULL,
    case_id              BLOB NOT NULL,
    scorecard_id         BLOB NOT NULL REFERENCES scorecards (id),
    scorecard_version_id BLOB NOT NULL REFERENCES scorecard_versions (id),
    version_number       INTEGER NOT NULL,
    evaluator_id         BLOB NOT NULL REFERENCES users (id),
    -- The staff member matched to the case's agent when the evaluation was started.
    agent_user_id        BLOB REFERENCES users (id),
    assignment_id        BLOB,
    -- 'evaluation', or 'self' for an agent's self-score (kept apart from evaluations).
    kind                 TEXT NOT NULL,
    -- 'draft' or 'submitted'.
    status               TEXT NOT NULL,
    answers              TEXT NOT NULL,
    comment              TEXT NOT NULL,
    -- In hundredths; NULL when every section is excluded (or the draft has no answer yet).
    score                INTEGER,
    passed               INTEGER,
    fail_all             INTEGER NOT NULL,
    sections             TEXT NOT NULL,
    revision             INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    submitted_at         INTEGER,
    acknowledged_at      INTEGER
);
CREATE INDEX evaluations_by_agent ON evaluations (agent_user_id);
CREATE INDEX evaluations_by_case ON evaluations (case_id);

-- Every submitted state of an evaluation: revision 1 at submit, one more per change.
CREATE TABLE evaluation_revisions (
    evaluation_id BLOB NOT NULL REFERENCES evaluations (id),
    revision      INTEGER NOT NULL,
    answers       TEXT NOT NULL,
    comment       TEXT NOT NULL,
    score         INTEGER,
    passed        INTEGER,
    fail_all      INTEGER NOT NULL,
    sections      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    revised_by    BLOB REFERENCES users (id),
    revised_at    INTEGER NOT NULL,
    PRIMARY KEY (evaluation_id, revision)
);

CREATE TABLE disputes (
    id            BLOB PRIMARY KEY NOT NULL,
    evaluation_id BLOB NOT NULL REFERENCES evaluations (id),
    -- The revision disputed.
    revision      INTEGER NOT NULL,
    opened_by     BLOB NOT NULL REFERENCES users (id),
    reason        TEXT NOT NULL,
    opened_at     INTEGER NOT NULL,
    -- 'open', 'upheld' or 'changed'.
    status        TEXT NOT NULL,
    resolved_by   BLOB REFERENCES users (id),
    resolution    TEXT,
    resolved_at   INTEGER
);
CREATE INDEX disputes_by_evaluation ON disputes (evaluation_id, status);
