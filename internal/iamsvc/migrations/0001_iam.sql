-- One JSON document per identity entity. IF NOT EXISTS: databases created
-- before sqlmigrate tracked this component already have the table.
CREATE TABLE IF NOT EXISTS iam_objects (
	kind TEXT NOT NULL,
	id   TEXT NOT NULL,
	body BLOB NOT NULL,
	PRIMARY KEY (kind, id)
);
