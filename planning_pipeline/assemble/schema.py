"""The tables of an assembled dataset, derived from the specification's schema-field.csv.

Columns are the schema's fields in specification order, kebab-case turned to snake_case (`default` becomes
`_default`), `*-geom` fields skipped (no SpatiaLite columns). A column is INTEGER when its field's datatype is
integer, JSON when json, else TEXT. The column named after its table is the PRIMARY KEY; columns named after
another table (entity, fact) declare a FOREIGN KEY to it.
"""
from ..errors import UserError

TABLES = ("entity", "fact", "fact-resource", "issue", "column-field", "dataset-resource", "old-entity")

# single-column indexes, created after loading
INDEXES = {
    "fact": ("entity",),
    "fact-resource": ("fact", "resource"),
    "column-field": ("dataset", "resource", "column", "field"),
    "issue": ("resource", "dataset", "field"),
    "dataset-resource": ("resource",),
    "old-entity": ("entity", "old-entity", "status"),
}


def column_name(field):
    name = field.replace("-", "_")
    return "_default" if name == "default" else name


def table_name(table):
    return table.replace("-", "_")


class Table:
    def __init__(self, name, fields, types):
        self.name = name
        self.sql_name = table_name(name)
        self.fields = fields
        self.columns = [column_name(f) for f in fields]
        self.types = types  # column -> INTEGER | JSON | TEXT

    def integer_columns(self):
        return {c for c in self.columns if self.types[c] == "INTEGER"}

    def create_sql(self):
        lines = []
        for field, column in zip(self.fields, self.columns):
            line = f'"{column}" {self.types[column]}'
            if field == self.name:
                line += " PRIMARY KEY"
            lines.append(line)
        for field, column in zip(self.fields, self.columns):
            if field != self.name and field in ("entity", "fact"):
                lines.append(f'FOREIGN KEY ("{column}") REFERENCES "{table_name(field)}" ("{column}")')
        return f'CREATE TABLE "{self.sql_name}" (\n    ' + ",\n    ".join(lines) + "\n)"

    def index_sql(self):
        for field in INDEXES.get(self.name, ()):
            column = column_name(field)
            yield f'CREATE INDEX "{self.sql_name}_on_{column}_index" ON "{self.sql_name}" ("{column}")'


def tables(specification):
    """{table: Table} for the assembled-dataset tables, as the specification defines them."""
    result = {}
    for name in TABLES:
        fields = [f for f in specification.schema_field.get(name, []) if not f.endswith("-geom")]
        if not fields:
            raise UserError(f"no fields for table {name!r} in schema-field.csv", specification.path)
        types = {}
        for field in fields:
            datatype = specification.field_datatype(field)
            types[column_name(field)] = {"integer": "INTEGER", "json": "JSON"}.get(datatype, "TEXT")
        result[name] = Table(name, list(dict.fromkeys(fields)), types)
    return result
