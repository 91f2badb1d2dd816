-- 0003: what each entity row was loaded from, so a reload writes only the entities whose rows changed.
-- digest is the md5 of the row as the load staged it (and of the load's own SQL): an entity whose
-- digest is unchanged and whose row is still in entity is left as it is, parsed geometry and indexes
-- included. A row of entity without a digest here (loaded before this table) is always rewritten.

CREATE TABLE IF NOT EXISTS entity_load_digest (
    entity bigint PRIMARY KEY,
    dataset text NOT NULL,
    digest text NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_entity_load_digest_dataset ON entity_load_digest (dataset);
