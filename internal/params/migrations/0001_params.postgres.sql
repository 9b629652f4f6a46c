-- PostgreSQL variant of 0001_params.sql.
CREATE TABLE ssm_parameters (
	account TEXT COLLATE "C" NOT NULL,
	region  TEXT COLLATE "C" NOT NULL,
	name    TEXT COLLATE "C" NOT NULL,
	version BIGINT NOT NULL,
	PRIMARY KEY (account, region, name)
);

CREATE TABLE ssm_parameter_versions (
	account         TEXT COLLATE "C" NOT NULL,
	region          TEXT COLLATE "C" NOT NULL,
	name            TEXT COLLATE "C" NOT NULL,
	version         BIGINT NOT NULL,
	type            TEXT NOT NULL,
	value           BYTEA NOT NULL,
	key_id          TEXT NOT NULL DEFAULT '',
	description     TEXT NOT NULL DEFAULT '',
	allowed_pattern TEXT NOT NULL DEFAULT '',
	tier            TEXT NOT NULL,
	data_type       TEXT NOT NULL,
	modified_ms     BIGINT NOT NULL,
	modified_user   TEXT NOT NULL,
	labels          TEXT NOT NULL DEFAULT '[]',
	PRIMARY KEY (account, region, name, version)
);
