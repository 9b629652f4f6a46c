-- deleted_ms > 0 marks a secret scheduled for deletion at that time; it is
-- purged lazily the first time it is looked up after that.
CREATE TABLE sm_secrets (
	account     TEXT NOT NULL,
	region      TEXT NOT NULL,
	name        TEXT NOT NULL,
	arn         TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	kms_key_id  TEXT NOT NULL DEFAULT '',
	created_ms  INTEGER NOT NULL,
	changed_ms  INTEGER NOT NULL,
	deleted_ms  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (account, region, name)
) WITHOUT ROWID;

-- value is always sealed (AES-GCM under a master-key-derived key).
CREATE TABLE sm_secret_versions (
	arn        TEXT NOT NULL,
	version_id TEXT NOT NULL,
	value      BLOB NOT NULL,
	is_binary  INTEGER NOT NULL,
	stages     TEXT NOT NULL DEFAULT '[]',
	created_ms INTEGER NOT NULL,
	PRIMARY KEY (arn, version_id)
) WITHOUT ROWID;
