-- Credentials that can be rotated: tokens expire and are revoked for good, passwords are changed
-- or reset with a one-time link; sign-in attempts are reserved before the password is checked.

ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, created_at);

CREATE TABLE password_resets (
    id          BLOB PRIMARY KEY NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE,
    user_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);

-- One row per attempt not known to have succeeded (a reservation, then a failure); a success
-- removes its row and the failures of its email and address.
DROP TABLE sign_in_failures;
CREATE TABLE sign_in_attempts (
    id         BLOB PRIMARY KEY NOT NULL,
    email_key  TEXT NOT NULL,
    client_key TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX sign_in_attempts_by_email ON sign_in_attempts (email_key, at);
CREATE INDEX sign_in_attempts_by_client ON sign_in_attempts (client_key, at);

-- Rows locked (by an upsert) for the length of a reservation, so that concurrent attempts on
-- the same email or address are counted one after another.
CREATE TABLE sign_in_locks (
    throttle_key TEXT PRIMARY KEY NOT NULL,
    touched_at   INTEGER NOT NULL
);
