"""multipolygon and point values: CRS detection and reprojection (OSGB36 with OSTN15, flipped axes,
Web Mercator), repair of invalid shapes, ring orientation, 6 dp WKT, GeoJSON and collections."""
import numpy as np
import pytest
import shapely
from convertbng.cutil import convert_lonlat
from pyproj import Transformer

from planning_pipeline.datatype import ListIssues, normalise_point_xy, normaliser


def run(datatype, value):
    issues = ListIssues()
    return normaliser(datatype, "geometry")(value, issues), issues.types


def ostn15(easting, northing):
    lon, lat = convert_lonlat(np.array([float(easting)]), np.array([float(northing)]))
    return "%.6f %.6f" % (round(float(lon[0]), 6), round(float(lat[0]), 6))


def square(x, y, size, clockwise=False):
    ring = [(x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)]
    if clockwise:
        ring.reverse()
    return "POLYGON ((" + ", ".join(f"{a} {b}" for a, b in ring) + "))"


def rings(wkt):
    return shapely.get_rings(shapely.get_parts(shapely.from_wkt(wkt)))


# --- CRS detection -------------------------------------------------------------------------------

def test_an_osgb_point_is_reprojected_with_ostn15():
    result, issues = run("point", "POINT (538890 177320)")
    assert issues == ["OSGB"]
    assert result == "POINT (%s)" % ostn15(538890, 177320)
    lon, lat = map(float, result[7:-1].split())
    # the Greenwich meridian, about 100 m west of WGS84's prime meridian
    assert lon == pytest.approx(-0.0014, abs=0.0002) and lat == pytest.approx(51.4778, abs=0.0002)
    assert result == "POINT (-0.001376 51.477796)"


def test_ostn15_is_not_the_helmert_fallback():
    """pyproj without the OSTN15 grid is metres off; the result must match convertbng to 1e-6 degrees."""
    helmert = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    for e, n in [(530000, 180000), (400000, 300000), (250000, 60000), (600000, 500000)]:
        result, _ = run("point", f"POINT ({e} {n})")
        lon, lat = map(float, result[7:-1].split())
        exact = [float(v) for v in ostn15(e, n).split()]
        assert abs(lon - exact[0]) <= 1e-6 and abs(lat - exact[1]) <= 1e-6
        hx, hy = helmert.transform(e, n)
        assert max(abs(hx - lon), abs(hy - lat)) < 1e-3  # same place, to within about 100 m


def test_swapped_eastings_and_northings_are_osgb_flipped():
    assert run("point", "POINT (177320 538890)") == ("POINT (%s)" % ostn15(538890, 177320), ["OSGB flipped"])


def test_osgb_outside_england_or_off_the_grid_is_out_of_bounds():
    assert run("point", "POINT (300000 950000)") == ("", ["OSGB out of bounds of England"])  # Scotland
    assert run("point", "POINT (900000 900000)") == ("", ["OSGB out of bounds of England"])  # off OSTN15


def test_wgs84_inside_england_is_kept():
    assert run("point", "POINT (-1.5 53.1)") == ("POINT (-1.500000 53.100000)", [])


def test_swapped_latitude_and_longitude_are_wgs84_flipped():
    assert run("point", "POINT (53.1 -1.5)") == ("POINT (-1.500000 53.100000)", ["WGS84 flipped"])
    result, issues = run("multipolygon", square(51.5, -0.2, 0.01))
    assert issues == ["WGS84 flipped"]
    assert result.startswith("MULTIPOLYGON (((-0.") and " 51.5" in result


def test_degrees_outside_england_are_out_of_bounds():
    assert run("point", "POINT (10 45)") == ("", ["WGS84 out of bounds of England"])
    assert run("point", "POINT (-5 55)") == ("", ["WGS84 out of bounds of England"])  # the excluded corner
    assert run("multipolygon", square(2, 2, 1)) == ("", ["WGS84 out of bounds of England"])


def test_web_mercator_is_reprojected():
    to_wgs84 = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(-13358.34, 6710219.08)
    expected = "POINT (%.6f %.6f)" % (round(lon, 6), round(lat, 6))
    assert run("point", "POINT (-13358.34 6710219.08)") == (expected, ["Mercator"])
    assert run("point", "POINT (6710219.08 -13358.34)") == (expected, ["Mercator flipped"])


@pytest.mark.parametrize("value", ["POINT (70 70)", "POINT (5000000 5000000)", "POINT (500 500)",
                                   "POINT (1e999 1)", "POINT (-530000 180000)"])
def test_coordinates_of_no_known_kind_are_invalid(value):
    assert run("point", value) == ("", ["invalid coordinates"])


def test_the_crs_is_decided_by_the_whole_geometry_not_its_first_coordinate():
    # one stray vertex in degrees among OSGB eastings and northings: upstream would reproject
    # according to the first coordinate; here the geometry is rejected
    stray = "POLYGON ((0 0, 530100 180000, 530100 180100, 530000 180100, 0 0))"
    assert run("multipolygon", stray) == ("", ["invalid coordinates"])


# --- parsing and types ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["POINT (1 2", "not a geometry", "POLYGON ((1 2, 3))", '{"type": "Nope"}',
                                   "{not json"])
def test_unparsable_values_are_invalid_wkt(value):
    assert run("multipolygon", value) == ("", ["invalid WKT"])
    assert run("point", value) == ("", ["invalid WKT"])


def test_other_geometry_types_are_unexpected():
    assert run("multipolygon", "LINESTRING (-1 52, -0.9 52.1)") == ("", ["Unexpected geom type"])
    assert run("multipolygon", "POINT (-1 52)") == ("", ["Unexpected geom type"])
    assert run("point", square(-1, 52, 0.1)) == ("", ["Unexpected geom type"])
    assert run("point", "MULTIPOINT ((-1 52))") == ("", ["Unexpected geom type"])


def test_a_geojson_geometry_is_accepted_with_a_warning():
    geojson = '{"type": "Polygon", "coordinates": [[[-1, 52], [-0.9, 52], [-0.9, 52.1], [-1, 52]]]}'
    assert run("multipolygon", geojson) == (
        "MULTIPOLYGON (((-1.000000 52.000000,-0.900000 52.000000,-0.900000 52.100000,-1.000000 52.000000)))",
        ["invalid type geojson"])
    assert run("point", '{"type": "Point", "coordinates": [538890, 177320]}') == (
        "POINT (%s)" % ostn15(538890, 177320), ["invalid type geojson", "OSGB"])


def test_a_geometry_collection_keeps_its_polygons():
    value = ("GEOMETRYCOLLECTION (POINT (-1 52), LINESTRING (-1 52, -2 52), POLYGON ((-1 52, -0.9 52, -0.9 52.1, -1 52)),"
             " GEOMETRYCOLLECTION (MULTIPOLYGON (((-2 52, -1.9 52, -1.9 52.1, -2 52)))))")
    assert run("multipolygon", value) == (
        "MULTIPOLYGON (((-1.000000 52.000000,-0.900000 52.000000,-0.900000 52.100000,-1.000000 52.000000)),"
        "((-2.000000 52.000000,-1.900000 52.000000,-1.900000 52.100000,-2.000000 52.000000)))", [])
    assert run("multipolygon", "GEOMETRYCOLLECTION (POINT (-1 52))") == (
        "", ["Unexpected geom type within GeometryCollection"])


def test_empty_geometries_are_rejected_and_empty_values_are_not_issues():
    assert run("multipolygon", "POLYGON EMPTY") == ("", ["invalid coordinates"])
    assert run("point", "POINT EMPTY") == ("", ["invalid coordinates"])
    assert run("multipolygon", "   ") == ("", [])
    assert run("point", "") == ("", [])


def test_z_values_srid_prefixes_and_unclosed_rings_are_tolerated():
    expected = "MULTIPOLYGON (((-1.000000 52.000000,-0.900000 52.000000,-0.900000 52.100000,-1.000000 52.000000)))"
    assert run("multipolygon", "POLYGON Z ((-1 52 10, -0.9 52 10, -0.9 52.1 10, -1 52 10))") == (expected, [])
    assert run("multipolygon", "SRID=4326;POLYGON ((-1 52, -0.9 52, -0.9 52.1, -1 52))") == (expected, [])
    assert run("multipolygon", "POLYGON ((-1 52, -0.9 52, -0.9 52.1))") == (expected, [])
    assert run("point", "POINT Z (-1.5 53.1 99)") == ("POINT (-1.500000 53.100000)", [])


# --- repair, orientation, precision --------------------------------------------------------------

def test_a_bow_tie_is_fixed_into_two_triangles():
    issues = ListIssues()
    result = normaliser("multipolygon")("POLYGON ((-1 52, -0.9 52.1, -0.9 52, -1 52.1, -1 52))", issues)
    assert issues.issues == [("invalid geometry - fixed", "Self-intersection[-0.95 52.05]", "invalid geometry was repaired")]
    geom = shapely.from_wkt(result)
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2 and geom.is_valid
    assert geom.area == pytest.approx(0.005)


def test_a_polygon_with_no_area_is_kept_as_a_metre_wide_polygon_around_its_line():
    result, issues = run("multipolygon", "POLYGON ((-1 52, -0.9 52, -0.8 52, -1 52))")
    assert issues == ["invalid geometry - fixed"]
    assert result == "MULTIPOLYGON (((-0.799990 51.999990,-0.799990 52.000010,-1.000010 52.000010,-1.000010 51.999990,-0.799990 51.999990)))"
    geom = shapely.from_wkt(result)
    assert geom.is_valid and geom.geoms[0].exterior.is_ccw


def test_a_polygon_whose_points_are_all_one_point_is_kept_as_a_small_square_around_it():
    result, issues = run("multipolygon", "POLYGON ((-1 52, -1 52, -1 52, -1 52))")
    assert issues == ["invalid geometry - fixed"]
    assert shapely.from_wkt(result).centroid.equals_exact(shapely.Point(-1, 52), 1e-9)


def test_a_collapsed_part_of_a_multipolygon_is_dropped_and_the_rest_kept():
    result, issues = run("multipolygon", "MULTIPOLYGON (((-1 52, -0.9 52, -0.8 52, -1 52)), ((-1 52.1, -0.9 52.1, -0.9 52.2, -1 52.1)))")
    assert issues == ["invalid geometry - fixed"]
    assert result == "MULTIPOLYGON (((-0.900000 52.200000,-1.000000 52.100000,-0.900000 52.100000,-0.900000 52.200000)))"


def test_rings_are_oriented_exterior_counter_clockwise_holes_clockwise():
    clockwise_with_anticlockwise_hole = (
        "POLYGON ((-1 52, -1 52.1, -0.9 52.1, -0.9 52, -1 52), (-0.98 52.02, -0.92 52.02, -0.92 52.08, -0.98 52.08, -0.98 52.02))")
    result, issues = run("multipolygon", clockwise_with_anticlockwise_hole)
    assert issues == []
    exterior, hole = rings(result)
    assert exterior.is_ccw and not hole.is_ccw
    assert result.startswith("MULTIPOLYGON (((-1.000000 52.000000,-0.900000 52.000000,")
    again, _ = run("multipolygon", result)
    assert again == result  # normalising is idempotent


def test_osgb_polygons_come_out_counter_clockwise_whatever_went_in():
    for clockwise in (False, True):
        result, issues = run("multipolygon", square(530000, 180000, 100, clockwise))
        assert issues == ["OSGB"]
        [ring] = rings(result)
        assert ring.is_ccw
        assert result.count(",") == 4


def test_coordinates_are_written_with_six_decimal_places_and_no_space_after_commas():
    result, _ = run("multipolygon", "POLYGON ((-1.23456789 52.1, -0.9 52.1234564, -0.9 52.2, -1.23456789 52.1))")
    assert result == ("MULTIPOLYGON (((-1.234568 52.100000,-0.900000 52.123456,-0.900000 52.200000,"
                      "-1.234568 52.100000)))")


def test_nearly_collinear_vertices_are_simplified_away():
    result, _ = run("multipolygon", "POLYGON ((-1 52, -0.95 52.0000001, -0.9 52, -0.9 52.1, -1 52))")
    assert result == "MULTIPOLYGON (((-1.000000 52.000000,-0.900000 52.000000,-0.900000 52.100000,-1.000000 52.000000)))"


def test_geox_geoy_pairs_are_reprojected_or_flipped():
    issues = ListIssues()
    assert normalise_point_xy("538890", "177320", issues) == tuple(ostn15(538890, 177320).split())
    assert normalise_point_xy(" 51.5 ", "-0.1", issues) == ("-0.100000", "51.500000")
    assert normalise_point_xy("-0.1", "51.5", issues) == ("-0.100000", "51.500000")
    assert normalise_point_xy("east", "1", issues) is None
    assert normalise_point_xy("", "", issues) is None
    assert normalise_point_xy("10", "10", issues) is None
    assert issues.types == ["OSGB", "WGS84 flipped", "invalid coordinates", "WGS84 out of bounds of England"]


def test_ragged_arrays_are_those_of_shapely_to_ragged_array():
    from planning_pipeline.datatype.geometry import _drop_empty_parts, _ragged

    square = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 1)]])
    other = shapely.Polygon([(5, 5), (6, 5), (6, 6), (5, 5)])
    mixed = [square, shapely.MultiPolygon([other, square]), other, shapely.MultiPolygon([other])]
    for geoms in (mixed, [square, other], [shapely.MultiPolygon([square, other])]):
        geoms = np.array(geoms, dtype=object)
        kind, coords, offsets = shapely.to_ragged_array(geoms, include_z=False, include_m=False)
        if kind == shapely.GeometryType.POLYGON:
            offsets = (*offsets, np.arange(len(geoms) + 1))
        ours_offsets, ours_coords = _ragged(geoms)
        assert np.array_equal(ours_coords, coords)
        assert all(np.array_equal(a, b) for a, b in zip(ours_offsets, _drop_empty_parts(offsets)))
