-- Portable DDL (SQLite and PostgreSQL): BIGINT times in Unix nanoseconds,
-- manifest payloads base64 in TEXT.

-- When each cached tag was last confirmed against the upstream, and the
-- digest it had then.
CREATE TABLE pullthrough_tags (
	account      TEXT   NOT NULL,
	region       TEXT   NOT NULL,
	repo         TEXT   NOT NULL,
	tag          TEXT   NOT NULL,
	digest       TEXT   NOT NULL,
	validated_at BIGINT NOT NULL,
	PRIMARY KEY (account, region, repo, tag)
);

-- Manifests fetched from an upstream whose references are not all stored
-- yet (an index whose children are fetched on demand, an image whose
-- layers are still arriving). They are served from here and move into the
-- registry through images.PutManifest once complete.
CREATE TABLE pullthrough_manifests (
	account    TEXT   NOT NULL,
	region     TEXT   NOT NULL,
	repo       TEXT   NOT NULL,
	digest     TEXT   NOT NULL,
	media_type TEXT   NOT NULL,
	payload    TEXT   NOT NULL,
	fetched_at BIGINT NOT NULL,
	PRIMARY KEY (account, region, repo, digest)
);

-- One upstream fetch of a blob across nodes: the holder fetches, the
-- others wait for the blob to appear; an expired lease is taken over.
CREATE TABLE pullthrough_leases (
	name       TEXT   NOT NULL PRIMARY KEY,
	holder     TEXT   NOT NULL,
	expires_at BIGINT NOT NULL
);
