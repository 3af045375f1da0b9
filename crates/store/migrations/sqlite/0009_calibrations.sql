-- Calibration sessions: several evaluators score one case blind with one scorecard version;
-- once the facilitator closes the session their answers are compared and the agreed answers kept.
CREATE TABLE calibrations (
    id                   BLOB PRIMARY KEY NOT NULL,
    -- Named without a foreign key, like evaluations: the session outlives the case's content.
    case_id              BLOB NOT NULL,
    -- The staff member matched to the case's agent when the session was created.
    agent_user_id        BLOB NOT NULL REFERENCES users (id),
    scorecard_id         BLOB NOT NULL REFERENCES scorecards (id),
    scorecard_version_id BLOB NOT NULL REFERENCES scorecard_versions (id),
    version_number       INTEGER NOT NULL,
    facilitator_id       BLOB NOT NULL REFERENCES users (id),
    due_at               INTEGER,
    -- 'open' or 'closed'.
    status               TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    closed_at            INTEGER,
    -- The answers the facilitator recorded as agreed, and their score; NULL until recorded.
    agreed_answers       TEXT,
    agreed_outcome       TEXT,
    agreed_by            BLOB REFERENCES users (id),
    agreed_at            INTEGER
);
CREATE INDEX calibrations_by_case ON calibrations (case_id, status);
CREATE INDEX calibrations_by_closed ON calibrations (closed_at);

CREATE TABLE calibration_participants (
    calibration_id BLOB NOT NULL REFERENCES calibrations (id),
    user_id        BLOB NOT NULL REFERENCES users (id),
    PRIMARY KEY (calibration_id, user_id)
);
CREATE INDEX calibration_participants_by_user ON calibration_participants (user_id);

-- A participant's scoring is an evaluation of kind 'calibration' naming its session: one each.
ALTER TABLE evaluations ADD COLUMN calibration_id BLOB REFERENCES calibrations (id);
CREATE UNIQUE INDEX evaluations_one_per_participant ON evaluations (calibration_id, evaluator_id)
    WHERE calibration_id IS NOT NULL;
