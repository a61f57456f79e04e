-- Users, projects, memberships, browser sessions and API tokens of the
-- built-in core plugin. Written to run on SQLite and PostgreSQL alike:
-- flags are integers (0/1), times are RFC 3339 text or Unix seconds.

CREATE TABLE raclette__core_users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_admin BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE raclette__core_projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE raclette__core_memberships (
    project_id TEXT NOT NULL REFERENCES raclette__core_projects (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES raclette__core_users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX raclette__core_memberships_user ON raclette__core_memberships (user_id);

-- The session id itself is never stored: `id_hash` is its SHA-256.
CREATE TABLE raclette__core_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT,
    data TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX raclette__core_sessions_user ON raclette__core_sessions (user_id);

-- Personal API tokens: only the SHA-256 of the secret is stored.
CREATE TABLE raclette__core_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES raclette__core_users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT
);
CREATE INDEX raclette__core_tokens_user ON raclette__core_tokens (user_id);

INSERT INTO raclette__core_projects (id, name, created_at) VALUES ('default', 'Default', '2026-01-01T00:00:00Z');
