-- The head row points at a parameter's latest version; every version keeps
-- its own metadata because Overwrite may change type, description or tier.
CREATE TABLE ssm_parameters (
	account TEXT NOT NULL,
	region  TEXT NOT NULL,
	name    TEXT NOT NULL,
	version INTEGER NOT NULL,
	PRIMARY KEY (account, region, name)
) WITHOUT ROWID;

-- value holds the plaintext of String/StringList parameters and the sealed
-- (AES-GCM, master-key derived) bytes of SecureString ones.
CREATE TABLE ssm_parameter_versions (
	account         TEXT NOT NULL,
	region          TEXT NOT NULL,
	name            TEXT NOT NULL,
	version         INTEGER NOT NULL,
	type            TEXT NOT NULL,
	value           BLOB NOT NULL,
	key_id          TEXT NOT NULL DEFAULT '',
	description     TEXT NOT NULL DEFAULT '',
	allowed_pattern TEXT NOT NULL DEFAULT '',
	tier            TEXT NOT NULL,
	data_type       TEXT NOT NULL,
	modified_ms     INTEGER NOT NULL,
	modified_user   TEXT NOT NULL,
	labels          TEXT NOT NULL DEFAULT '[]',
	PRIMARY KEY (account, region, name, version)
) WITHOUT ROWID;
