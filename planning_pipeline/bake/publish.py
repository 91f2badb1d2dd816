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
        for i, kind in enumerate(self.kinds):
            column = self.buffer[i]
            if kind == "geometry":
                column.extend(wkb[i])
            elif kind == "integer":
                column.extend(_integer(r[i]) for r in rows)
            elif kind == "decimal":
                column.extend(_decimal(r[i]) for r in rows)
            else:
                column.extend(r[i] if r[i] != "" else None for r in rows)
        self.count += len(rows)
        if self.count >= ROW_GROUP:
            self.flush()

    def flush(self):
        if self.count:
            arrays = [self.pa.array(c, type=f.type) for c, f in zip(self.buffer, self.schema)]
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
            _write(conn, columns, header, flattener, files, specification)
            if child is not None:
                _join(child)
        return paths
    finally:
        conn.close()


def _write(conn, columns, header, flattener, files, specification):
    """One pass over the entity table writing each open file of files ({kind: file})."""
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
    json_file, geojson = files.get("json"), files.get("geojson")
    if json_file is not None:
        json_file.write('{"entities":[')
    if geojson is not None:
        geojson.write('{"type":"FeatureCollection","features":[')
    at = {h: i for i, h in enumerate(header)}
    shape_at, point_at = at.get("geometry"), at.get("point")
    property_columns = [(i, h) for i, h in enumerate(header) if h != "geometry"]
    separator = ""

    cursor = conn.execute("SELECT * FROM entity ORDER BY entity")
    while True:
        batch = cursor.fetchmany(BATCH)
        if not batch:
            break
        if entity_csv is not None:
            entity_csv.writerows(batch)
        if flat_csv is None and parquet is None and json_file is None and geojson is None:
            continue
        flat = [flattener.row(e) for e in batch]
        if flat_csv is not None:
            flat_csv.writerows(flat)
        if parquet is not None:
            parquet.add(flat, {i: list(shapely.to_wkb(geo.parse([r[i] for r in flat])))
                               for i, kind in enumerate(parquet.kinds) if kind == "geometry"})
        if json_file is not None:
            json_file.write(separator + "\n" + ",\n".join(_dumps(dict(zip(header, r))) for r in flat))
        if geojson is not None:
            none = [None] * len(flat)
            shapes = geo.parse([r[shape_at] for r in flat]) if shape_at is not None else none
            points = geo.parse([r[point_at] for r in flat]) if point_at is not None else none
            chosen = geo.geojson_all(geo.rfc7946([s if s is not None else p for s, p in zip(shapes, points)]))
            features = (_dumps({"type": "Feature", "geometry": g,
                                "properties": {h: r[i] for i, h in property_columns}}) for r, g in zip(flat, chosen))
            geojson.write(separator + "\n" + ",\n".join(features))
        separator = ","
    if json_file is not None:
        json_file.write("\n]}\n")
    if geojson is not None:
        geojson.write("\n]}\n")
    if parquet is not None:
        parquet.close()
