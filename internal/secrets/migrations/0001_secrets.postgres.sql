-- PostgreSQL variant of 0001_secrets.sql.
CREATE TABLE sm_secrets (
	account     TEXT COLLATE "C" NOT NULL,
	region      TEXT COLLATE "C" NOT NULL,
	name        TEXT COLLATE "C" NOT NULL,
	arn         TEXT COLLATE "C" NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	kms_key_id  TEXT NOT NULL DEFAULT '',
	created_ms  BIGINT NOT NULL,
	changed_ms  BIGINT NOT NULL,
	deleted_ms  BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (account, region, name)
);

CREATE TABLE sm_secret_versions (
	arn        TEXT COLLATE "C" NOT NULL,
	version_id TEXT COLLATE "C" NOT NULL,
	value      BYTEA NOT NULL,
	is_binary  BIGINT NOT NULL,
	stages     TEXT NOT NULL DEFAULT '[]',
	created_ms BIGINT NOT NULL,
	PRIMARY KEY (arn, version_id)
);
