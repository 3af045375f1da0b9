-- Scorecards: a draft edited freely, and published versions that never change.
CREATE TABLE scorecards (
    id             UUID PRIMARY KEY NOT NULL,
    -- The name of the draft, else of the latest version, for lists.
    name           TEXT NOT NULL,
    -- The definition being edited (JSON); NULL when nothing is pending since the latest version.
    draft          JSONB,
    latest_version BIGINT NOT NULL DEFAULT 0,
    archived_at    BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE scorecard_versions (
    id           UUID PRIMARY KEY NOT NULL,
    scorecard_id UUID NOT NULL REFERENCES scorecards (id),
    number       BIGINT NOT NULL,
    definition   JSONB NOT NULL,
    published_at BIGINT NOT NULL,
    published_by UUID REFERENCES users (id),
    UNIQUE (scorecard_id, number)
);

-- Evaluations name the case without a foreign key: they outlive the case's content and its row.
CREATE TABLE evaluations (
    id                   UUID PRIMARY KEY NOT NULL,
    case_id              UUID NOT NULL,
    scorecard_id         UUID NOT NULL REFERENCES scorecards (id),
    scorecard_version_id UUID NOT NULL REFERENCES scorecard_versions (id),
    version_number       BIGINT NOT NULL,
    evaluator_id         UUID NOT NULL REFERENCES users (id),
    -- The staff member matched to the case's agent when the evaluation was started.
    agent_user_id        UUID REFERENCES users (id),
    assignment_id        UUID,
    -- 'evaluation', or 'self' for an agent's self-score (kept apart from evaluations).
    kind                 TEXT NOT NULL,
    -- 'draft' or 'submitted'.
    status               TEXT NOT NULL,
    answers              JSONB NOT NULL,
    comment              TEXT NOT NULL,
    -- In hundredths; NULL when every section is excluded (or the draft has no answer yet).
    score                BIGINT,
    passed               BOOLEAN,
    fail_all             BOOLEAN NOT NULL,
    sections             JSONB NOT NULL,
    revision             BIGINT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    submitted_at         BIGINT,
    acknowledged_at      BIGINT
);
CREATE INDEX evaluations_by_agent ON evaluations (agent_user_id);
CREATE INDEX evaluations_by_case ON evaluations (case_id);

-- Every submitted state of an evaluation: revision 1 at submit, one more per change.
CREATE TABLE evaluation_revisions (
    evaluation_id UUID NOT NULL REFERENCES evaluations (id),
    revision      BIGINT NOT NULL,
    answers       JSONB NOT NULL,
    comment       TEXT NOT NULL,
    score         BIGINT,
    passed        BOOLEAN,
    fail_all      BOOLEAN NOT NULL,
    sections      JSONB NOT NULL,
    reason        TEXT NOT NULL,
    revised_by    UUID REFERENCES users (id),
    revised_at    BIGINT NOT NULL,
    PRIMARY KEY (evaluation_id, revision)
);

CREATE TABLE disputes (
    id            UUID PRIMARY KEY NOT NULL,
    evaluation_id UUID NOT NULL REFERENCES evaluations (id),
    -- The revision disputed.
    revision      BIGINT NOT NULL,
    opened_by     UUID NOT NULL REFERENCES users (id),
    reason        TEXT NOT NULL,
    opened_at     BIGINT NOT NULL,
    -- 'open', 'upheld' or 'changed'.
    status        TEXT NOT NULL,
    resolved_by   UUID REFERENCES users (id),
    resolution    TEXT,
    resolved_at   BIGINT
);
CREATE INDEX disputes_by_evaluation ON disputes (evaluation_id, status);
