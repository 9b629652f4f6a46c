-- ECR registry-level documents (policies, replication, PTC rules, templates…).
-- IF NOT EXISTS: older databases created the table at open.
CREATE TABLE IF NOT EXISTS ecr_registry_docs (
	account TEXT NOT NULL,
	region  TEXT NOT NULL,
	kind    TEXT NOT NULL,
	id      TEXT NOT NULL,
	body    BLOB NOT NULL,
	PRIMARY KEY (account, region, kind, id)
) WITHOUT ROWID;
