CREATE TABLE IF NOT EXISTS ecr_registry_docs (
	account TEXT COLLATE "C" NOT NULL,
	region  TEXT COLLATE "C" NOT NULL,
	kind    TEXT COLLATE "C" NOT NULL,
	id      TEXT COLLATE "C" NOT NULL,
	body    BYTEA NOT NULL,
	PRIMARY KEY (account, region, kind, id)
);
