-- Registry metadata. Times are Unix nanoseconds (UTC). Child rows reference
-- their parents with ON DELETE CASCADE so that deleting a repository or a
-- manifest can never leave a tag or reference pointing at nothing.

CREATE TABLE repositories (
	id                  INTEGER PRIMARY KEY,
	account             TEXT    NOT NULL,
	region              TEXT    NOT NULL,
	name                TEXT    NOT NULL,
	created_at          INTEGER NOT NULL,
	tag_mutability      TEXT    NOT NULL DEFAULT 'MUTABLE',
	mutability_filters  TEXT    NOT NULL DEFAULT '[]', -- JSON array of wildcard patterns
	scan_on_push        INTEGER NOT NULL DEFAULT 0,
	encryption_type     TEXT    NOT NULL DEFAULT 'AES256',
	kms_key             TEXT    NOT NULL DEFAULT '',
	tags                TEXT    NOT NULL DEFAULT '{}', -- JSON object, ECR resource tags
	policy              TEXT    NOT NULL DEFAULT '',
	lifecycle_policy    TEXT    NOT NULL DEFAULT '',
	lifecycle_evaluated INTEGER NOT NULL DEFAULT 0,
	UNIQUE (account, region, name)
);
-- "which regions have a repository called X" and cross-region listings by name.
CREATE INDEX repositories_by_name ON repositories (name, account, region);

CREATE TABLE manifests (
	id            INTEGER PRIMARY KEY,
	repo_id       INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	digest        TEXT    NOT NULL,
	media_type    TEXT    NOT NULL,
	artifact_type TEXT    NOT NULL DEFAULT '',
	payload       BLOB    NOT NULL,
	size          INTEGER NOT NULL,
	subject       TEXT    NOT NULL DEFAULT '',
	annotations   TEXT    NOT NULL DEFAULT '',
	pushed_at     INTEGER NOT NULL,
	UNIQUE (repo_id, digest) -- also serves listing by digest (keyset)
);
CREATE INDEX manifests_referrers ON manifests (repo_id, subject, digest) WHERE subject <> '';

-- config + layers of image manifests.
CREATE TABLE manifest_blobs (
	manifest_id INTEGER NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
	digest      TEXT    NOT NULL,
	PRIMARY KEY (manifest_id, digest)
) WITHOUT ROWID;
CREATE INDEX manifest_blobs_by_digest ON manifest_blobs (digest);

-- children of indexes, by digest; the child row itself may be deleted later
-- (ManifestParents lets callers refuse that).
CREATE TABLE manifest_children (
	manifest_id  INTEGER NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
	repo_id      INTEGER NOT NULL,
	child_digest TEXT    NOT NULL,
	PRIMARY KEY (manifest_id, child_digest)
) WITHOUT ROWID;
CREATE INDEX manifest_children_by_child ON manifest_children (repo_id, child_digest);

CREATE TABLE tags (
	repo_id     INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	tag         TEXT    NOT NULL,
	manifest_id INTEGER NOT NULL REFERENCES manifests (id) ON DELETE CASCADE,
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (repo_id, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_manifest ON tags (manifest_id, tag);

CREATE TABLE blob_links (
	repo_id    INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	digest     TEXT    NOT NULL,
	size       INTEGER NOT NULL,
	media_type TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (repo_id, digest)
) WITHOUT ROWID;
CREATE INDEX blob_links_by_digest ON blob_links (digest);

-- Upload sessions name their repository by key, not id: a session may start
-- before the repository row exists (create-on-push) and must not block its deletion.
CREATE TABLE uploads (
	id      TEXT    PRIMARY KEY,
	account TEXT    NOT NULL,
	region  TEXT    NOT NULL,
	name    TEXT    NOT NULL,
	started INTEGER NOT NULL
);
CREATE INDEX uploads_by_repo ON uploads (account, region, name);
CREATE INDEX uploads_by_started ON uploads (started);
