-- Resumable state of blob uploads kept by stores that cannot keep it next to
-- the data (S3: parts, hash state, buffered tail), so any node can continue
-- an upload another node started. state is an opaque JSON document owned by
-- the blob store; version is bumped by every update (compare-and-swap).
-- Portable SQL (SQLite and PostgreSQL): TEXT and BIGINT only.
CREATE TABLE blob_upload_sessions (
	id         TEXT   PRIMARY KEY,
	version    BIGINT NOT NULL,
	state      TEXT   NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX blob_upload_sessions_by_updated ON blob_upload_sessions (updated_at);
