-- PostgreSQL variant of 0002_blob_upload_sessions.sql: the id is listed in
-- order (BlobUploadSessionsBefore), so it sorts bytewise like SQLite's.
CREATE TABLE blob_upload_sessions (
	id         TEXT COLLATE "C" PRIMARY KEY,
	version    BIGINT NOT NULL,
	state      TEXT   NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX blob_upload_sessions_by_updated ON blob_upload_sessions (updated_at);
