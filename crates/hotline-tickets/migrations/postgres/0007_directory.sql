-- Issue 5, directory: a token carries the display name of whoever logged in, so that agents defined in the
-- config file (who have no row in users) get a name too; expired tokens are purged by expiry.
ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
CREATE INDEX api_tokens_expires_at ON api_tokens (expires_at);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
