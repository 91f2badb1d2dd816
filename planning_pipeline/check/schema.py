"""The configuration files, their columns and the rules for their values (documented in docs/configuration.md).

A Column names the header names it may have (the current one first, then legacy names the pipeline's readers
also accept), whether the header must have it, whether its value may be blank, and the kind of its values
(values.KINDS). Columns not listed are allowed (upstream files carry extra ones), unless the name looks like a
misspelling of a listed column the header lacks.
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class Column:
    names: tuple
    kind: str = ""  # a values.KINDS key; "" for free text
    header: bool = False  # the header must have one of names
    value: bool = False  # the value must not be blank

    @property
    def name(self):
        return self.names[0]


@dataclasses.dataclass(frozen=True)
class FileSpec:
    name: str  # file name, e.g. column.csv
    anchor: str  # section of docs/configuration.md
    columns: tuple
    required: bool = False  # the file must exist

    def known_names(self):
        return {n for c in self.columns for n in c.names}


def C(*names, kind="", header=False, value=False):
    return Column(tuple(names), kind, header, value)


DATES = (C("entry-date", kind="date"), C("start-date", kind="date"), C("end-date", kind="date"))
DATASET = C("dataset", "pipeline", kind="dataset")
SCOPE = (C("resource", kind="hash"), C("endpoint", kind="hash"), C("entry-number", kind="integer"))
COMMON = SCOPE + DATES + (C("notes"),)
# the specification's dates: only start-date and end-date are read (whether a field or dataset is current)
SPECIFICATION_DATES = (C("entry-date", kind="date-unused"), C("start-date", kind="date"), C("end-date", kind="date"))

COLLECTION_FILES = {
    "endpoint.csv": FileSpec("endpoint.csv", "endpoint-csv", (
        C("endpoint", kind="hash", header=True, value=True),
        C("endpoint-url", kind="url", header=True),
        C("parameters", kind="json-object"),
        C("plugin", kind="plugin"),
        C("documentation-url", kind="web-url"),
        C("datasets"),
    ) + DATES, required=True),
    "source.csv": FileSpec("source.csv", "source-csv", (
        C("source"),
        C("attribution"),
        C("collection"),
        C("documentation-url", kind="web-url"),
        C("endpoint", kind="hash", header=True),
        C("licence", kind="licence"),
        C("organisation", kind="organisation", header=True, value=True),
        C("pipelines", "datasets", kind="datasets", header=True),
    ) + DATES, required=True),
    "old-resource.csv": FileSpec("old-resource.csv", "old-resource-csv", (
        C("old-resource", kind="hash", header=True, value=True),
        C("status", kind="status", header=True, value=True),
        C("resource", kind="hash"),
        C("notes"),
    ) + DATES),
}

PIPELINE_FILES = {
    "column.csv": FileSpec("column.csv", "column-csv", (
        DATASET,
        C("column", "pattern", header=True, value=True),
        C("field", "value", kind="field-or-ignore", header=True, value=True),
    ) + COMMON),
    "combine.csv": FileSpec("combine.csv", "combine-csv", (
        DATASET,
        C("field", kind="field", header=True, value=True),
        C("separator"),
    ) + COMMON),
    "concat.csv": FileSpec("concat.csv", "concat-csv", (
        DATASET,
        C("field", header=True, value=True),
        C("fields", header=True, value=True),
        C("separator"), C("prepend"), C("append"),
    ) + COMMON),
    "convert.csv": FileSpec("convert.csv", "convert-csv", (
        DATASET,
        C("script"),
    ) + COMMON),
    "default.csv": FileSpec("default.csv", "default-csv", (
        DATASET,
        C("field", kind="field", header=True, value=True),
        C("default-field", kind="field", header=True, value=True),
    ) + COMMON),
    "default-value.csv": FileSpec("default-value.csv", "default-value-csv", (
        DATASET,
        C("field", kind="field", header=True, value=True),
        C("value", header=True),
    ) + COMMON),
    "filter.csv": FileSpec("filter.csv", "filter-csv", (
        DATASET,
        C("field", header=True, value=True),
        C("pattern", kind="regex", header=True, value=True),
    ) + COMMON),
    "patch.csv": FileSpec("patch.csv", "patch-csv", (
        DATASET,
        C("field", kind="field"),
        C("pattern", kind="regex-ignorecase", header=True, value=True),
        C("value", header=True),
    ) + COMMON),
    "skip.csv": FileSpec("skip.csv", "skip-csv", (
        DATASET,
        C("pattern", kind="regex", header=True, value=True),
    ) + COMMON),
    "transform.csv": FileSpec("transform.csv", "transform-csv", (
        DATASET,
        C("field", header=True, value=True),
        C("replacement-field", kind="field", header=True),  # blank: the old field is not carried over
    ) + COMMON),
    "lookup.csv": FileSpec("lookup.csv", "lookup-csv", (
        C("prefix", "dataset", "pipeline", kind="lookup-prefix", header=True, value=True),
        C("resource", kind="hash"),
        C("endpoint", kind="hash"),
        C("entry-number", kind="integer"),
        C("organisation", kind="organisation"),
        C("reference", "value", header=True),
        C("entity", kind="integer", header=True, value=True),
    ) + DATES),
    "old-entity.csv": FileSpec("old-entity.csv", "old-entity-csv", (
        C("old-entity", kind="integer", header=True, value=True),
        C("status", kind="status", header=True, value=True),
        C("entity", kind="integer"),
        C("notes"),
    ) + DATES),
    "entity-organisation.csv": FileSpec("entity-organisation.csv", "entity-organisation-csv", (
        C("dataset", kind="dataset", header=True, value=True),
        C("entity-minimum", kind="integer", header=True, value=True),
        C("entity-maximum", kind="integer", header=True, value=True),
        C("organisation", kind="organisation", header=True, value=True),
    ) + DATES),
    "expect.csv": FileSpec("expect.csv", "expect-csv", (
        C("datasets", kind="datasets", header=True, value=True),
        C("organisations", kind="organisations"),
        C("operation", kind="operation", header=True, value=True),
        C("parameters"),
        C("name"), C("description"), C("notes"), C("severity"), C("responsibility"), C("schedule"),
    ) + DATES),
    "threshold.csv": FileSpec("threshold.csv", "threshold-csv", (
        DATASET,
        C("check", header=True, value=True),
        C("field", kind="field"),
        C("threshold", header=True, value=True),
        C("notes"),
    ) + DATES),
}

SPECIFICATION_FILES = {
    "dataset.csv": FileSpec("dataset.csv", "specification-dataset-csv", (
        C("dataset", header=True, value=True),
        C("collection"),
        C("typology", kind="typology"),
        C("prefix"),
        C("entity-minimum", kind="integer"),
        C("entity-maximum", kind="integer"),
    ) + SPECIFICATION_DATES, required=True),
    "field.csv": FileSpec("field.csv", "specification-field-csv", (
        C("field", header=True, value=True),
        C("datatype", kind="datatype", header=True, value=True),
        C("parent-field"),
        C("typology"),
        C("dataset"),
        C("cardinality"),
    ) + SPECIFICATION_DATES, required=True),
    "datatype.csv": FileSpec("datatype.csv", "specification-datatype-csv", (
        C("datatype", header=True, value=True),
    ) + SPECIFICATION_DATES, required=True),
    "typology.csv": FileSpec("typology.csv", "specification-typology-csv", (
        C("typology", header=True, value=True),
    ) + SPECIFICATION_DATES),
    "collection.csv": FileSpec("collection.csv", "specification-collection-csv", (
        C("collection", header=True, value=True),
    ) + SPECIFICATION_DATES),
    "dataset-schema.csv": FileSpec("dataset-schema.csv", "specification-dataset-schema-csv", (
        C("dataset", kind="dataset", header=True, value=True),
        C("schema", header=True, value=True),
    )),
    "schema-field.csv": FileSpec("schema-field.csv", "specification-schema-field-csv", (
        C("schema", header=True, value=True),
        C("field", kind="field", header=True, value=True),
    )),
    "dataset-field.csv": FileSpec("dataset-field.csv", "specification-dataset-field-csv", (
        C("dataset", kind="dataset", header=True, value=True),
        C("field", kind="field", header=True, value=True),
    ) + SPECIFICATION_DATES),
    "issue-type.csv": FileSpec("issue-type.csv", "specification-issue-type-csv", (
        C("issue-type", header=True, value=True),
    )),
    "licence.csv": FileSpec("licence.csv", "specification-licence-csv", (
        C("licence", header=True, value=True),
    ) + SPECIFICATION_DATES),
    "prefix.csv": FileSpec("prefix.csv", "specification-prefix-csv", (
        C("prefix", header=True, value=True),
    )),
}

# the key column of files whose key must be unique (a second row would silently replace the first)
UNIQUE = {
    "endpoint.csv": "endpoint",
    "old-resource.csv": "old-resource",
    "dataset.csv": "dataset",
    "field.csv": "field",
    "datatype.csv": "datatype",
    "typology.csv": "typology",
}
