"""Stage the transformed facts in a scratch sqlite file, then stream them back in winning order.

Every transformed row goes into the scratch table `fact_row` (with its resource's end-date, blank meaning
current, '2999-12-31'). One index orders it by

    entity, field, priority DESC, entry-date DESC, entry-number DESC, resource end-date DESC

so a single ordered scan (no sort at query time) yields, for each (entity, field), its candidate facts best
first. The first row of each group is the winner; the first row of each fact hash is the fact kept in the
`fact` table. Ties on all four keys go to the smaller (resource, fact), so the result never depends on the
order the files were read in.
"""
import csv
import hashlib
import os

from ..errors import UserError
from .logs import csv_files

FACT_HEADER = ["end-date", "entity", "entry-date", "entry-number", "fact", "field", "priority",
               "reference-entity", "resource", "start-date", "value"]
CURRENT = "2999-12-31"
STAGE_COLUMNS = [h.replace("-", "_") for h in FACT_HEADER] + ["resource_end_date"]
ORDER = "entity, field, priority DESC, entry_date DESC, entry_number DESC, resource_end_date DESC"


def resource_end_dates(path):
    """{resource: end-date} from collection/<c>/resource.csv; blank end-dates are the current '2999-12-31'."""
    ends = {}
    if not path:
        return ends
    if not os.path.exists(path):
        raise UserError("resource file not found", path)
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if "resource" not in (reader.fieldnames or []):
            raise UserError("missing column resource", path, 1)
        for row in reader:
            ends[row["resource"]] = (row.get("end-date") or "").strip() or CURRENT
    return ends


STAGE_TYPES = {"entity": "INTEGER", "entry_number": "INTEGER", "priority": "INTEGER"}


def create_stage(conn, schema="stage"):
    columns = ", ".join(f"{c} {STAGE_TYPES.get(c, 'TEXT')}" for c in STAGE_COLUMNS)
    conn.execute(f"CREATE TABLE {schema}.fact_row ({columns})")


def _normalise(ends):
    """Fill in the resource end-date, default a blank priority to 1 and a blank entry-number to NULL."""
    get = ends.get

    def fix(row):
        if not row[6]:
            row[6] = "1"
        if not row[3]:
            row[3] = None
        row.append(get(row[8], CURRENT))
        return row

    return fix


def _rows(path, ends):
    """The fact rows of one transformed file, in FACT_HEADER column order."""
    fix = _normalise(ends)
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return
        if header == FACT_HEADER:
            width = len(FACT_HEADER)
            for line, row in enumerate(reader, 2):
                if len(row) != width:
                    if not row:
                        continue
                    raise UserError(f"row has {len(row)} cells, expected {width}", path, line)
                yield fix(row)
            return
        # an older or reordered header: map by name, compute a missing fact hash
        missing = [h for h in ("entity", "field", "value") if h not in header]
        if missing:
            raise UserError(f"missing column(s) {', '.join(missing)}", path, 1)
        position = [header.index(h) if h in header else None for h in FACT_HEADER]
        resource = os.path.basename(path)[: -len(".csv")]
        for row in reader:
            if not row:
                continue
            row = row + [""] * (len(header) - len(row))
            out = [row[i] if i is not None else "" for i in position]
            if not out[4]:
                out[4] = hashlib.sha256(f"{out[1]}:{out[5]}:{out[10]}".encode()).hexdigest()
            if not out[8]:
                out[8] = resource
            yield fix(out)


def load_stage(conn, transformed_dir, ends, schema="stage"):
    """Load every transformed CSV into the scratch table; returns the number of fact rows."""
    sql = f"INSERT INTO {schema}.fact_row VALUES ({','.join('?' * len(STAGE_COLUMNS))})"
    before = conn.execute(f"SELECT count(*) FROM {schema}.fact_row").fetchone()[0]
    for path in csv_files(transformed_dir):
        conn.executemany(sql, _rows(path, ends))
    conn.execute(f"CREATE INDEX {schema}.fact_row_order ON fact_row ({ORDER})")
    return conn.execute(f"SELECT count(*) FROM {schema}.fact_row").fetchone()[0] - before


def copy_fact_resources(conn, schema="stage"):
    conn.execute(f"""INSERT INTO fact_resource (end_date, fact, entry_date, entry_number, priority, resource, start_date)
        SELECT end_date, fact, entry_date, entry_number, priority, resource, start_date FROM {schema}.fact_row""")


def ordered(conn, schema="stage"):
    """Rows (entity, field, priority, entry_date, entry_number, resource_end_date, resource, fact, value,
    end_date, start_date, reference_entity) in winning order, straight off the index."""
    return conn.execute(f"""SELECT entity, field, priority, entry_date, entry_number, resource_end_date, resource, fact,
            value, end_date, start_date, reference_entity
        FROM {schema}.fact_row INDEXED BY fact_row_order ORDER BY {ORDER}""")


def winners_and_facts(rows, on_fact):
    """Group ordered rows by entity; yield (entity, {field: winning row}) and call on_fact(row) for the
    best row of each distinct fact hash."""
    entity = field = None
    winners = {}
    group_facts = set()
    best = None
    for row in rows:
        if row[0] != entity:
            if winners:
                yield entity, winners
            entity, field, winners = row[0], row[1], {}
            best = winners[field] = row
            group_facts = {row[7]}
            on_fact(row)
            continue
        if row[1] != field:
            field = row[1]
            best = winners[field] = row
            group_facts = {row[7]}
            on_fact(row)
            continue
        if row[7] not in group_facts:
            group_facts.add(row[7])
            on_fact(row)
        if row[2:6] == best[2:6] and (row[6], row[7]) < (best[6], best[7]):
            best = winners[field] = row  # a full tie: the smaller (resource, fact) wins
    if winners:
        yield entity, winners
