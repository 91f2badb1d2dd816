"""The SQL that turns staged fact rows into the fact, fact_resource and entity tables.

`fact_rows` is a temporary view over every scratch part with blank priorities read as 1, blank entry-numbers
as NULL and each row's resource end-date (blank meaning current, '2999-12-31'). Candidates are ranked by

    priority DESC, entry-date DESC, entry-number DESC, resource end-date DESC, resource, fact, reading order

The `fact` table keeps the best-ranked row of each fact hash; each (entity, field) takes the best-ranked row
as its winner. Both use INSERT OR IGNORE over rows sorted with the best first, so sqlite's sorter does the
ranking in C and the table's own key drops the rest.
"""
from ..sql import literal
from .facts import CURRENT

RANK = "priority DESC, entry_date DESC, entry_number DESC, resource_end_date DESC, resource"


def view_sql(parts):
    arms = [f"""SELECT {i} AS part, r.rowid AS line, r.end_date, r.entity, r.entry_date,
            nullif(r.entry_number, '') AS entry_number, r.fact, r.field,
            CASE WHEN r.priority = '' THEN 1 ELSE r.priority END AS priority, r.reference_entity, r.resource,
            r.start_date, r.value, coalesce(e.end_date, '{CURRENT}') AS resource_end_date
        FROM s{i}.fact_row r LEFT JOIN s0.resource_end e ON e.resource = r.resource""" for i in range(parts)]
    return "CREATE TEMP VIEW fact_rows AS " + "\nUNION ALL ".join(arms) + ";"


def attach_sql(scratches):
    return [f"ATTACH DATABASE {literal(path)} AS s{i};" for i, path in enumerate(scratches)]


STAGED = {"end_date", "entity", "entry_date", "entry_number", "fact", "field", "priority", "reference_entity", "resource",
          "start_date", "value"}  # the columns of fact_rows a table column can be copied from


def _select_list(table):
    return ", ".join(c if c in STAGED else "''" for c in table.columns)


def fact_sql(table):
    columns = ", ".join(f'"{c}"' for c in table.columns)
    return (f'INSERT OR IGNORE INTO "{table.sql_name}" ({columns}) SELECT {_select_list(table)} FROM temp.fact_rows '
            f"ORDER BY fact, {RANK}, part, line;")


def fact_resource_sql(table):
    columns = ", ".join(f'"{c}"' for c in table.columns)
    return f'INSERT INTO "{table.sql_name}" ({columns}) SELECT {_select_list(table)} FROM temp.fact_rows;'


WINNER_SQL = [
    "CREATE TEMP TABLE winner (entity, field, value, priority, entry_date, PRIMARY KEY (entity, field)) WITHOUT ROWID;",
    f"""INSERT OR IGNORE INTO temp.winner SELECT entity, field, value, priority, entry_date FROM temp.fact_rows
        ORDER BY entity, field, {RANK}, fact, part, line;""",
]


def entity_sql(made_of):
    """INSERT INTO entity ... from the winners: one row per integer entity, its columns made of what
    made_of (entity.EntityColumns) says."""
    direct = made_of.direct  # field -> column
    per_field = {column: f"max(CASE WHEN field = {literal(field)} THEN value END)" for field, column in direct.items()}
    organisation = "''" if "organisation" in direct else "max(CASE WHEN field = 'organisation' THEN value END)"
    not_extra = sorted(set(direct) | made_of.computed | {"organisation"})
    extra = (f"nullif(json_group_object(field, value) FILTER (WHERE field NOT IN ({', '.join(map(literal, not_extra))}) "
             "AND value != ''), '{}')")
    inner = ["entity AS _entity", f"{organisation} AS _organisation",
             "max(CASE WHEN typeof(priority) = 'integer' THEN priority END) AS _priority",
             "coalesce(max(entry_date), '') AS _latest", f"{extra} AS _json"]
    inner += [f'{expression} AS "{column}"' for column, expression in per_field.items()]
    outer = []
    for column in made_of.columns:
        if column == "entity":
            outer.append("w._entity")
        elif column in ("dataset", "typology"):
            outer.append(literal(made_of.constants[column]))
        elif column == "json":
            outer.append("w._json")
        elif column == "organisation_entity":
            outer.append("coalesce(o.entity, '')")
        elif column == "quality":
            outer.append("CASE WHEN coalesce(w._priority, 1) >= 2 THEN 'authoritative' ELSE 'some' END")
        elif column == "prefix" and column in per_field:
            outer.append(f"CASE WHEN coalesce(w.prefix, '') = '' THEN {literal(made_of.prefix or '')} ELSE w.prefix END")
        elif column == "entry_date" and column in per_field:
            outer.append("CASE WHEN coalesce(w.entry_date, '') = '' THEN w._latest ELSE w.entry_date END")
        elif column in per_field and column in made_of.json_columns:
            outer.append(f'nullif(w."{column}", \'\')')
        elif column in per_field:
            outer.append(f'coalesce(w."{column}", \'\')')
        else:
            outer.append("NULL" if column in made_of.json_columns else "''")
    columns = ", ".join(f'"{c}"' for c in made_of.columns)
    return f"""INSERT INTO entity ({columns}) SELECT {', '.join(outer)}
        FROM (SELECT {', '.join(inner)} FROM temp.winner WHERE typeof(entity) = 'integer' GROUP BY entity) AS w
        LEFT JOIN s0.organisation o ON o.organisation = w._organisation ORDER BY w._entity;"""
