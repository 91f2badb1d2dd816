"""Convert any collected resource into a UTF-8 CSV file: the first step of the transform.

    from planning_pipeline.convert import convert
    result = convert("collection/x/resource/<sha256>", "var/converted/<sha256>.csv")
    result["status"]  # "success" or "failed"; a bad file never raises

Formats are told apart by content: Excel (xls, xlsx, xlsm), zip (the single shapefile, GML, MapInfo,
GeoJSON, JSON, KML, GeoPackage or CSV inside), GeoPackage/SQLite, and text: XML (GML, KML, WFS),
JSON (GeoJSON, ArcGIS JSON, a list of records, a columns/data table) and delimited text. Spatial
data get a first column WKT in the source's coordinates. See the modules for the rules of each.
"""
import contextlib
import time

from ..csvio import write_csv
from ..files import atomic_write
from .errors import ConversionError
from .source import Limits, identify

__all__ = ["convert", "ConversionError", "Limits", "CONVERTED_RESOURCE_FIELDS", "write_converted_resource_log"]

CONVERTED_RESOURCE_FIELDS = ["dataset", "resource", "elapsed", "status", "exception"]


def _write(rows, output_path):
    """Write the rows as CSV (minimal quoting, CRLF) atomically; returns the number of records."""
    import csv

    with contextlib.closing(rows):
        header = next(rows, None)
        if header is None:
            raise ConversionError("no data")
        count = 1
        with atomic_write(output_path) as f:
            writer = csv.writer(f, lineterminator="\r\n")
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
                count += 1
    return count


def convert(resource_path, output_path, limits=None):
    """Convert the resource to CSV at output_path (written atomically, or not at all on failure).

    Returns a dict: status ("success"|"failed"), exception ("" on success, else one line),
    mime_type, internal_path, internal_mime_type, elapsed (seconds), line_count (records written,
    header included; 0 on failure).
    """
    start = time.perf_counter()
    result = {"status": "failed", "exception": "", "mime_type": "", "internal_path": "",
              "internal_mime_type": "", "elapsed": 0.0, "line_count": 0}
    try:
        source = identify(resource_path, limits)
        result.update(mime_type=source.mime_type, internal_path=source.internal_path,
                      internal_mime_type=source.internal_mime_type)
        count = source.verbatim(output_path) if source.verbatim else None
        result["line_count"] = count if count is not None else _write(source.rows(), output_path)
        result["status"] = "success"
    except ConversionError as error:
        result["exception"] = str(error)
    except Exception as error:  # a bad file must never stop the run: log it as a failed conversion
        result["exception"] = " ".join(f"{type(error).__name__}: {error}".split())
    result["elapsed"] = time.perf_counter() - start
    return result


def write_converted_resource_log(path, dataset, resource, result):
    """Write the one-row converted-resource log: dataset,resource,elapsed,status,exception."""
    row = {"dataset": dataset, "resource": resource, "elapsed": f"{result['elapsed']:.6f}",
           "status": result["status"], "exception": result["exception"]}
    write_csv(path, CONVERTED_RESOURCE_FIELDS, [row])
