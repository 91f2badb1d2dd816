"""Bake a dataset's sqlite3 file into its published files, in one streaming pass over the entity table.

    <output-dir>/<dataset>.csv                 the entity table as it is (snake_case header)
    <output-dir>/flattened/<dataset>.csv       kebab-case columns, json exploded into columns
    <output-dir>/flattened/<dataset>.json      {"entities": [...]} of the flattened rows
    <output-dir>/flattened/<dataset>.geojson   RFC 7946 FeatureCollection (geography datasets only)
    <output-dir>/flattened/<dataset>.parquet   GeoParquet: typed columns, geometries as WKB, ZSTD

Rows go out in entity order, a batch at a time; each file is written under a temporary name and renamed into
place when complete. A forked second process writes the JSON and GeoJSON while this one writes the rest, each
reading the sqlite file itself: two cores, about half the work each.
"""
import contextlib
import csv
import json
import os
import sqlite3

from ..errors import UserError
from ..files import atomic_write
from . import columns as cols
from . import geometry as geo

BATCH = 2000
ROW_GROUP = 50000


def _dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class ParquetOut:
    """Typed columns from specification datatypes; geometry fields as WKB with GeoParquet 'geo' metadata."""

    def __init__(self, f, header, specification):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.header = header
        self.kinds = []
        fields = []
        geo_columns = {}
        for name in header:
            datatype = specification.field_datatype(name)
            if datatype == "integer":
                kind, arrow = "integer", pa.int64()
            elif datatype in ("decimal", "latitude", "longitude"):
                kind, arrow = "decimal", pa.float64()
            elif datatype in cols.GEOMETRY_DATATYPES:
                kind, arrow = "geometry", pa.binary()
                geo_columns[name] = {"encoding": "WKB", "geometry_types": ["Point"] if datatype == "point" else []}
            else:
                kind, arrow = "string", pa.string()
            self.kinds.append(kind)
            fields.append(pa.field(name, arrow))
        metadata = {}
        if geo_columns:
            primary = "geometry" if "geometry" in geo_columns else sorted(geo_columns)[0]
            metadata[b"geo"] = _dumps({"version": "1.0.0", "primary_column": primary, "columns": geo_columns}).encode()
        self.schema = pa.schema(fields, metadata=metadata)
        self.writer = pq.ParquetWriter(f, self.schema, compression="zstd")
        self.buffer = [[] for _ in header]
        self.count = 0

    def add(self, rows, wkb):
        """rows: flattened string rows; wkb: {column index: [WKB bytes or None per row]}."""
        for i, (kind, values) in enumerate(zip(self.kinds, zip(*rows))):
            column = self.buffer[i]
            if kind == "geometry":
                column.extend(wkb[i])
            elif kind == "integer":
                column.extend(map(_integer, values))
            elif kind == "decimal":
                column.extend(map(_decimal, values))
            else:
                column.extend(values)
        self.count += len(rows)
        if self.count >= ROW_GROUP:
            self.flush()

    def flush(self):
        if self.count:
            import pyarrow.compute as pc

            arrays = []
            for kind, values, field in zip(self.kinds, self.buffer, self.schema):
                array = self.pa.array(values, type=field.type)
                if kind == "string":  # blanks are nulls
                    array = pc.if_else(pc.equal(array, ""), self.pa.scalar(None, field.type), array)
                arrays.append(array)
            self.writer.write_table(self.pa.Table.from_arrays(arrays, schema=self.schema))
            self.buffer = [[] for _ in self.header]
            self.count = 0

    def close(self):
        self.flush()
        self.writer.close()


def _integer(value):
    try:
        return int(value) if value != "" else None
    except ValueError:
        return None


def _decimal(value):
    try:
        return float(value) if value != "" else None
    except ValueError:
        return None


def outputs(dataset, output_dir, geography):
    paths = {
        "csv": os.path.join(output_dir, dataset + ".csv"),
        "flattened": os.path.join(output_dir, "flattened", dataset + ".csv"),
        "json": os.path.join(output_dir, "flattened", dataset + ".json"),
        "parquet": os.path.join(output_dir, "flattened", dataset + ".parquet"),
    }
    if geography:
        paths["geojson"] = os.path.join(output_dir, "flattened", dataset + ".geojson")
    return paths


# the files a second process writes while this one writes the others: about half the work each
SECOND_PROCESS = ("json", "geojson")


def bake(dataset, specification, sqlite_path, output_dir):
    """Write the published files; returns {kind: path}."""
    if not os.path.exists(sqlite_path):
        raise UserError("dataset sqlite file not found", sqlite_path)
    with _forked(lambda: _bake(dataset, specification, sqlite_path, output_dir, SECOND_PROCESS)) as child:
        paths = _bake(dataset, specification, sqlite_path, output_dir,
                      ("csv", "flattened", "parquet"), child=child)
    return paths


@contextlib.contextmanager
def _forked(work):
    """Run work() in a forked child beside the with-block, which calls _join(child) to wait for it and take on
    its UserError. Forked before the heavy imports (pyarrow starts threads)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def run():
        try:
            work()
            send.send(None)
        except UserError as e:
            send.send(str(e))
            raise SystemExit(2) from None

    process = context.Process(target=run, daemon=True)
    process.start()
    send.close()
    try:
        yield (process, receive)
    finally:
        process.join()  # never killed: it would leave its temporary files behind


def _join(child):
    """Wait for the child; raise its error."""
    process, receive = child
    process.join()
    message = receive.recv() if receive.poll() else None
    if message:
        raise UserError(message)
    if process.exitcode != 0:
        raise RuntimeError(f"the process writing {', '.join(SECOND_PROCESS)} failed (exit status {process.exitcode})")


def _bake(dataset, specification, sqlite_path, output_dir, kinds, child=None):
    """Write the files of the given kinds (those the dataset has); with child, wait for it before any of them is
    renamed into place."""
    conn = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        columns = cols.entity_columns(conn)
        if "entity" not in columns:
            raise UserError("no entity table", sqlite_path)
        typology = specification.dataset_typology(dataset)
        if not typology:
            typology = (conn.execute("SELECT typology FROM entity LIMIT 1").fetchone() or [""])[0] if "typology" in columns else ""
        header = cols.flattened_header(columns, specification, dataset, cols.json_keys(conn))
        flattener = cols.Flattener(columns, header)
        paths = outputs(dataset, output_dir, typology == "geography")
        with contextlib.ExitStack() as stack:
            files = {k: stack.enter_context(atomic_write(p, "wb" if k == "parquet" else "w"))
                     for k, p in paths.items() if k in kinds}
            if files.keys() & {"csv", "flattened", "parquet"}:
                _write_tables(conn, columns, header, flattener, files, specification)
            if files.keys() & {"json", "geojson"}:
                _write_documents(conn, columns, header, flattener, files)
            if child is not None:
                _join(child)
        return paths
    finally:
        conn.close()


def _write_tables(conn, columns, header, flattener, files, specification):
    """One pass over the entity table writing the entity CSV, the flattened CSV and the GeoParquet file (those
    of them in files, {kind: file})."""
    import shapely

    entity_csv = flat_csv = parquet = None
    if "csv" in files:
        entity_csv = csv.writer(files["csv"], lineterminator="\n")
        entity_csv.writerow(columns)
    if "flattened" in files:
        flat_csv = csv.writer(files["flattened"], lineterminator="\n")
        flat_csv.writerow(header)
    if "parquet" in files:
        parquet = ParquetOut(files["parquet"], header, specification)
    cursor = conn.execute("SELECT * FROM entity ORDER BY entity")
    while True:
        batch = cursor.fetchmany(BATCH)
        if not batch:
            break
        if entity_csv is not None:
            entity_csv.writerows(batch)
        rows = [flattener.row(r) for r in batch]  # in Python: here sqlite's json functions cost more than they save
        if flat_csv is not None:
            flat_csv.writerows(rows)
        if parquet is not None:
            parquet.add(rows, {i: list(shapely.to_wkb(geo.parse([r[i] for r in rows])))
                               for i, kind in enumerate(parquet.kinds) if kind == "geometry"})
    if parquet is not None:
        parquet.close()


def _write_documents(conn, columns, header, flattener, files):
    """One pass over the entity table writing the JSON and GeoJSON files (those of them in files). sqlite writes
    each entity's JSON object in two halves, the fields before and after `geometry`, which make both the
    JSON entity and the GeoJSON feature's properties; geometry.geojson_texts writes the feature geometries."""
    json_file, geojson = files.get("json"), files.get("geojson")
    if json_file is not None:
        json_file.write('{"entities":[')
    if geojson is not None:
        geojson.write('{"type":"FeatureCollection","features":[')
    separator = ""
    for batch in _documents(conn, columns, header, flattener):
        if json_file is not None:
            json_file.write(separator + "\n" + ",\n".join(entity for entity, _, _, _ in batch))
        if geojson is not None:
            shapes = geo.geojson_texts([shape for _, _, shape, _ in batch], [point for _, _, _, point in batch])
            geojson.write(separator + "\n" + ",\n".join(
                '{"type":"Feature","geometry":' + g + ',"properties":' + properties + "}"
                for (_, properties, _, _), g in zip(batch, shapes)))
        separator = ","
    if json_file is not None:
        json_file.write("\n]}\n")
    if geojson is not None:
        geojson.write("\n]}\n")


def _documents(conn, columns, header, flattener):
    """Batches of (entity JSON, properties JSON, geometry WKT, point WKT) in entity order: the properties are
    the entity's fields but geometry."""
    g = header.index("geometry") if "geometry" in header else None
    p = header.index("point") if "point" in header else None
    flat = cols.FlatSQL.for_table(conn, columns, header)
    if not flat.usable:
        cursor = conn.execute("SELECT * FROM entity ORDER BY entity")
        for batch in iter(lambda: cursor.fetchmany(BATCH), []):
            yield [_document(flattener.row(r), header, g, p) for r in batch]
        return
    before, after = (header[:g], header[g + 1:]) if g is not None else (header, [])
    select = [flat.json_object(before), flat.json_object(after),
              f"json_quote({flat.expression('geometry')})" if g is not None else "NULL",
              flat.expression("geometry") if g is not None else "NULL",
              flat.expression("point") if p is not None else "NULL", f"({flat.python})", "rowid"]
    cursor = conn.execute(f"SELECT {', '.join(select)} FROM entity ORDER BY entity")
    for batch in iter(lambda: cursor.fetchmany(BATCH), []):
        out = []
        for first, last, quoted, shape, point, python, rowid in batch:
            if python:
                entity = conn.execute("SELECT * FROM entity WHERE rowid = ?", (rowid,)).fetchone()
                out.append(_document(flattener.row(entity), header, g, p))
                continue
            middle = '"geometry":' + quoted if quoted is not None else ""
            out.append((_join_objects(first, middle, last), _join_objects(first, "", last), shape, point))
        yield out


def _document(row, header, g, p):
    entity = dict(zip(header, row))
    properties = {h: v for h, v in entity.items() if h != "geometry"}
    return (_dumps(entity), _dumps(properties), row[g] if g is not None else None, row[p] if p is not None else None)


def _join_objects(first, member, last):
    """The JSON object with the members of first, then member (a "key":value text, or none), then those of last."""
    parts = [text for text in (first[1:-1], member, last[1:-1]) if text]
    return "{" + ",".join(parts) + "}"
