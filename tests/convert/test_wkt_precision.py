"""WKT is written at 10 significant digits even when OGR's process-wide precision was fixed earlier."""
import random

import pytest

from planning_pipeline.convert import spatial


def test_fallback_rounding_matches_ogr_at_precision_ten():
    from osgeo import ogr

    if not spatial._wkt_precision_ready():
        pytest.skip("OGR's WKT precision was fixed at another value before this test ran")
    generator = random.Random(7)
    samples = [0.0, 0.5, -1e-7, 1e-10, 99999.999999999, 0.30000000000000004, 530010.0, -414853.0]

    def value():
        kind = generator.random()
        if kind < 0.2:
            return float(generator.randint(-700000, 700000))
        if kind < 0.4:
            return generator.uniform(-3, 3)
        if kind < 0.5:
            return generator.uniform(-0.001, 0.001)
        if kind < 0.9:
            return generator.uniform(0, 1300000)
        return generator.choice(samples)

    for _ in range(3000):
        values = [value() for _ in range(generator.choice((2, 3)))]
        point = ogr.Geometry(ogr.wkbPoint25D if len(values) == 3 else ogr.wkbPoint)
        point.AddPoint(*values) if len(values) == 3 else point.AddPoint_2D(*values)
        text = " ".join(repr(v) for v in values)
        full = f"POINT Z ({text})" if len(values) == 3 else f"POINT ({text})"
        assert spatial.round_wkt(full) == point.ExportToIsoWkt(), values


def test_rounding_keeps_the_shape_of_the_wkt():
    assert spatial.round_wkt("MULTIPOLYGON (((530000.123456789 180000.987654321,1 2,3 4)))") == \
        "MULTIPOLYGON (((530000.1235 180000.9877,1 2,3 4)))"


CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
from osgeo import gdal, ogr
gdal.UseExceptions(); ogr.UseExceptions()
ogr.CreateGeometryFromWkt("POINT (1 2)").ExportToWkt()  # another stage fixed OGR's WKT precision at 15
from planning_pipeline.convert import convert, spatial
assert not spatial._wkt_precision_ready()
for source, output in zip(sys.argv[2::2], sys.argv[3::2]):
    result = convert(source, output)
    assert result["status"] == "success", result["exception"]
"""


def test_output_is_the_same_in_a_process_with_gdal_exceptions_on_and_precision_already_fixed(tmp_path):
    import os
    import subprocess
    import sys

    from planning_pipeline.convert import convert

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sources = [os.path.join(root, "tests", "data", "resource-examples", "gml_very_long_rows.resource"),
               os.path.join(root, "collection", "central-activities-zone", "resource",
                            "db5238c35bf94337fea6437627c66813009e86c44a569c6e7a95df31efd34db5")]  # PROJ complaints
    arguments = []
    for number, source in enumerate(sources):
        assert convert(source, str(tmp_path / f"here{number}.csv"))["status"] == "success"
        arguments += [source, str(tmp_path / f"there{number}.csv")]
    subprocess.run([sys.executable, "-c", CHILD, root, *arguments], check=True)
    for number in range(len(sources)):
        assert (tmp_path / f"here{number}.csv").read_bytes() == (tmp_path / f"there{number}.csv").read_bytes()
