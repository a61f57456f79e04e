-- When a user joined a project (Unix microseconds; 0 for memberships older
-- than this column). A user's home project is the one they joined first,
-- so being added to someone else's project later never moves where their
-- requests land.
ALTER TABLE raclette__core_memberships ADD COLUMN joined_at BIGINT NOT NULL DEFAULT 0;
