-- 0001: the platform tables a dataset load writes (entity, old_entity) and the
-- reference tables the digital-land load fills (dataset, organisation, typology, ...).
-- Columns and types follow the platform's database so its application can read them unchanged.

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE IF NOT EXISTS entity (
    entity bigint PRIMARY KEY,
    name text,
    entry_date date,
    start_date date,
    end_date date,
    dataset text,
    json jsonb,
    organisation_entity bigint,
    prefix text,
    reference text,
    typology text,
    geojson jsonb,
    geometry geometry(MULTIPOLYGON, 4326),
    point geometry(POINT, 4326),
    quality text
);
CREATE INDEX IF NOT EXISTS idx_entity_dataset ON entity (dataset);
CREATE INDEX IF NOT EXISTS idx_entity_reference ON entity (reference);
CREATE INDEX IF NOT EXISTS idx_entity_organisation_entity ON entity (organisation_entity);
CREATE INDEX IF NOT EXISTS idx_entity_dataset_reference ON entity (dataset, reference);
CREATE INDEX IF NOT EXISTS idx_entity_prefix ON entity (prefix);
CREATE INDEX IF NOT EXISTS idx_entity_typology ON entity (typology);
CREATE INDEX IF NOT EXISTS idx_entity_geometry ON entity USING gist (geometry);
CREATE INDEX IF NOT EXISTS idx_entity_point ON entity USING gist (point);

CREATE TABLE IF NOT EXISTS old_entity (
    old_entity bigint PRIMARY KEY,
    entry_date date,
    start_date date,
    end_date date,
    status integer NOT NULL,
    notes text,
    entity bigint,
    dataset text NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_old_entity_dataset ON old_entity (dataset);
CREATE INDEX IF NOT EXISTS idx_old_entity_entity ON old_entity (entity);

CREATE TABLE IF NOT EXISTS entity_subdivided (
    entity_subdivided_id bigserial PRIMARY KEY,
    entity bigint NOT NULL,
    dataset text NOT NULL,
    geometry_subdivided geometry(MULTIPOLYGON, 4326) NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_entity_subdivided_columns ON entity_subdivided (entity, dataset);
CREATE INDEX IF NOT EXISTS idx_entity_subdivided_geometry ON entity_subdivided USING gist (geometry_subdivided);

CREATE TABLE IF NOT EXISTS dataset (
    dataset text PRIMARY KEY,
    name text,
    collection text,
    description text,
    entry_date date,
    start_date text,
    end_date date,
    key_field text,
    paint_options jsonb,
    plural text,
    prefix text,
    text text,
    typology text,
    wikidata text,
    wikipedia text,
    themes text[],
    attribution_id text,
    licence_id text,
    consideration text,
    github_discussion integer,
    entity_minimum bigint,
    entity_maximum bigint,
    phase text,
    realm text,
    replacement_dataset text,
    version text
);

CREATE TABLE IF NOT EXISTS typology (
    typology text PRIMARY KEY,
    name text,
    description text,
    entry_date text,
    start_date text,
    end_date text,
    plural text,
    text text,
    wikidata text,
    wikipedia text
);

CREATE TABLE IF NOT EXISTS organisation (
    organisation text PRIMARY KEY,
    name text,
    combined_authority text,
    entry_date date,
    start_date date,
    end_date date,
    entity bigint,
    local_authority_type text,
    official_name text,
    region text,
    statistical_geography text,
    website text
);

CREATE TABLE IF NOT EXISTS dataset_collection (
    dataset_collection text PRIMARY KEY,
    resource text,
    resource_end_date date,
    resource_entry_date date,
    last_updated date,
    last_collection_attempt date
);

CREATE TABLE IF NOT EXISTS dataset_publication (
    dataset_publication text PRIMARY KEY,
    expected_publisher_count integer NOT NULL,
    publisher_count integer NOT NULL
);

CREATE TABLE IF NOT EXISTS attribution (
    attribution text PRIMARY KEY,
    text text,
    entry_date date,
    start_date date,
    end_date date
);

CREATE TABLE IF NOT EXISTS licence (
    licence text PRIMARY KEY,
    text text,
    entry_date date,
    start_date date,
    end_date date
);
