"""The specification: datasets, fields, datatypes, schemas and typologies from specification/*.csv."""
import functools
import hashlib
import os

from .csvio import read_csv
from .errors import UserError

# fields every transformed row may carry beyond its schema's fields
ENTITY_KEY_FIELDS = ("entity", "organisation", "prefix", "reference")


class Specification:
    def __init__(self, path="specification"):
        if not os.path.isdir(path):
            raise UserError("specification directory not found", path)
        self.path = path
        self.dataset = {r["dataset"]: r for r in self._read("dataset.csv", ("dataset",))}
        self.field = {r["field"]: r for r in self._read("field.csv", ("field", "datatype"))}
        self.datatype = {r["datatype"]: r for r in self._read("datatype.csv", ("datatype",))}
        self.typology = {r["typology"]: r for r in self._read("typology.csv", ("typology",))}
        self.collection = {r["collection"]: r for r in self._read("collection.csv", ("collection",))}
        self.issue_type = {r["issue-type"]: r for r in self._read("issue-type.csv", ("issue-type",))}
        self.schema_field = {}
        for r in self._read("schema-field.csv", ("schema", "field")):
            self.schema_field.setdefault(r["schema"], []).append(r["field"])
        self.dataset_schema = {}
        for r in self._read("dataset-schema.csv", ("dataset", "schema")):
            self.dataset_schema.setdefault(r["dataset"], []).append(r["schema"])
        self.dataset_field = {}
        for r in self._read("dataset-field.csv", ("dataset", "field")):
            self.dataset_field.setdefault(r["dataset"], []).append(r["field"])

    def _read(self, name, required):
        return read_csv(os.path.join(self.path, name), required)

    def collection_datasets(self, collection):
        """The datasets a collection feeds, sorted."""
        return sorted(d for d, r in self.dataset.items() if r.get("collection") == collection)

    def schema_fields(self, dataset):
        """The fields of a dataset's schema(s): dataset-schema + schema-field, else dataset-field."""
        fields = []
        for schema in self.dataset_schema.get(dataset, [dataset]):
            fields.extend(self.schema_field.get(schema, []))
        if not fields:
            fields = list(self.dataset_field.get(dataset, []))
        return list(dict.fromkeys(fields))

    def current_fields(self, dataset):
        """Schema fields without an end-date (or with one in the future)."""
        import datetime

        today = datetime.date.today().isoformat()
        return [f for f in self.schema_fields(dataset) if not self.field.get(f, {}).get("end-date") or self.field[f]["end-date"] > today]

    def field_datatype(self, field):
        return self.field.get(field, {}).get("datatype", "")

    def field_typology(self, field):
        return self.field.get(field, {}).get("typology", "")

    def dataset_prefix(self, dataset):
        return self.dataset.get(dataset, {}).get("prefix") or dataset

    def dataset_typology(self, dataset):
        return self.dataset.get(dataset, {}).get("typology", "")

    def entity_range(self, dataset):
        """(minimum, maximum) entity numbers for a dataset, or (None, None)."""
        row = self.dataset.get(dataset, {})
        try:
            return int(row["entity-minimum"]), int(row["entity-maximum"])
        except (KeyError, ValueError):
            return None, None

    def severity(self, issue_type):
        return self.issue_type.get(issue_type, {}).get("severity", "")

    @functools.cached_property
    def digest(self):
        """A sha256 over every specification file, for the dataset-resource log."""
        return hash_files(os.path.join(self.path, n) for n in sorted(os.listdir(self.path)) if n.endswith(".csv"))


def hash_files(paths):
    digest = hashlib.sha256()
    for path in paths:
        digest.update(os.path.basename(path).encode() + b"\n")
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()
