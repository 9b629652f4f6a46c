-- The identity generation: every committed IAM change increments it, so a
-- node (or a restarted process) knows whether its in-memory model is current.
-- IAM writers lock this row, which serialises identity changes cluster-wide.
CREATE TABLE iam_generation (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	gen BIGINT NOT NULL
);
INSERT INTO iam_generation (id, gen) VALUES (1, 1);
