"""The arcgis and wfs plugins page through a fake FeatureServer / WFS on the local server."""
import json
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from planning_pipeline.collect.fetch import collect_endpoint

DATE = "2026-11-02"
FEATURES = [
    {"type": "Feature", "id": i, "properties": {"OBJECTID": i, "name": f"Area {i}"}, "geometry": {"type": "Point", "coordinates": [-0.1 * i, 51.5]}}
    for i in range(1, 6)
]
WFS = "http://www.opengis.net/wfs/2.0"


def ogr_count(path, tmp_path, suffix):
    """How many features GDAL reads from a resource (a real reader, not our own parser)."""
    from osgeo import ogr

    copy = tmp_path / f"resource{suffix}"
    copy.write_bytes(open(path, "rb").read())
    source = ogr.Open(str(copy))
    assert source is not None, f"GDAL cannot open {copy}"
    return sum(source.GetLayer(i).GetFeatureCount() for i in range(source.GetLayerCount()))


def collect(collection, url, options, plugin, parameters=""):
    endpoint = collection.add(url, plugin=plugin, parameters=parameters)
    return collect_endpoint(collection.path, endpoint, date=DATE, options=options)


# ---- arcgis ---------------------------------------------------------------------------------


def featureserver(server, name, paging=True, flag="top"):
    """A fake ArcGIS layer serving FEATURES with maxRecordCount 2; returns the layer URL."""
    layer = f"/arcgis/rest/services/{name}/FeatureServer/0"
    meta = {"name": name, "maxRecordCount": 2, "objectIdField": "OBJECTID", "advancedQueryCapabilities": {"supportsPagination": paging}}
    server.route(layer, lambda h: server.send(h, 200, json.dumps(meta).encode(), "application/json"))

    def query(h):
        q = h.query
        if q.get("returnIdsOnly") == "true":
            reply = {"objectIdFieldName": "OBJECTID", "objectIds": [5, 3, 1, 4, 2]}
        elif "objectIds" in q:
            ids = [int(i) for i in q["objectIds"].split(",")]
            reply = {"type": "FeatureCollection", "features": [f for f in FEATURES if f["id"] in ids]}
        else:
            assert q["f"] == "geojson" and q["orderByFields"] == "OBJECTID"
            offset, count = int(q["resultOffset"]), int(q["resultRecordCount"])
            page = FEATURES[offset : offset + count]
            more = offset + count < len(FEATURES)
            reply = {"type": "FeatureCollection", "features": page}
            if flag == "top":
                reply["exceededTransferLimit"] = more
            elif more:
                reply["properties"] = {"exceededTransferLimit": True}
        server.send(h, 200, json.dumps(reply).encode(), "application/geo+json")

    server.route(layer + "/query", query)
    return server.url(layer), layer + "/query"


def queries(server, path):
    return [dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(p).query)) for p in server.requests if urllib.parse.urlsplit(p).path == path]


@pytest.mark.parametrize("flag", ["top", "properties"])
def test_arcgis_layer_is_paged_into_one_geojson_feature_collection(collection, options, http_server, tmp_path, flag):
    url, query_path = featureserver(http_server, f"paged-{flag}", flag=flag)
    result = collect(collection, url, options, "arcgis")
    assert result.log["status"] == "200" and "exception" not in result.log
    pages = queries(http_server, query_path)
    assert [(q["resultOffset"], q["resultRecordCount"]) for q in pages] == [("0", "2"), ("2", "2"), ("4", "2")]
    content = collection.resources()[result.resource]
    assert content.startswith(b'{"type":"FeatureCollection","features":[\n') and content.endswith(b"]}")
    assert json.loads(content)["features"] == FEATURES
    assert ogr_count(f"{collection.resource_dir}/{result.resource}", tmp_path, ".geojson") == 5


def test_arcgis_max_page_size_parameter_limits_the_page(collection, options, http_server):
    url, query_path = featureserver(http_server, "small-pages")
    result = collect(collection, url + "/query?where=1%3D1", options, "arcgis", '{"max_page_size": 1}')
    assert [q["resultOffset"] for q in queries(http_server, query_path)] == ["0", "1", "2", "3", "4"]
    assert json.loads(collection.resources()[result.resource])["features"] == FEATURES


def test_arcgis_layer_without_pagination_is_fetched_by_object_ids(collection, options, http_server):
    url, query_path = featureserver(http_server, "no-paging", paging=False)
    result = collect(collection, url, options, "arcgis")
    assert json.loads(collection.resources()[result.resource])["features"] == FEATURES
    assert [q.get("objectIds") for q in queries(http_server, query_path)] == [None, "1,2", "3,4", "5"]


def test_arcgis_same_layer_gives_the_same_resource(collection, options, http_server):
    url, _ = featureserver(http_server, "repeat")
    first = collect(collection, url, options, "arcgis")
    second = collect_endpoint(collection.path, first.endpoint, date="2026-11-03", options=options)
    assert first.resource == second.resource and not second.new


def test_arcgis_error_reply_is_a_logged_failure(collection, options, http_server):
    layer = "/arcgis/rest/services/broken/FeatureServer/0"
    error = json.dumps({"error": {"code": 499, "message": "Token Required"}}).encode()
    http_server.route(layer, lambda h: http_server.send(h, 200, error, "application/json"))
    result = collect(collection, http_server.url(layer), options, "arcgis")
    assert result.log["exception"] == "ArcGISError" and "Token Required" in result.detail
    assert collection.resources() == {}


def test_arcgis_missing_layer_logs_the_probe_status(collection, options, http_server):
    result = collect(collection, http_server.url("/arcgis/rest/services/gone/FeatureServer/0"), options, "arcgis")
    assert result.log["status"] == "404" and "exception" not in result.log and "resource" not in result.log


def test_arcgis_failing_page_is_a_logged_failure_without_partial_resource(collection, options, http_server):
    url, query_path = featureserver(http_server, "fails")
    good = http_server.routes[query_path]
    http_server.route(query_path, lambda h: good(h) if h.query["resultOffset"] == "0" else http_server.send(h, 500, b"oops"))
    result = collect(collection, url, options, "arcgis")
    assert result.log["exception"] == "HTTPError" and "500" in result.detail
    assert result.log["status"] == "200"  # the probe's
    assert collection.resources() == {}


def test_arcgis_unknown_parameter_is_a_logged_failure(collection, options, http_server):
    url, _ = featureserver(http_server, "params")
    result = collect(collection, url, options, "arcgis", '{"page": 3}')
    assert result.log["exception"] == "InvalidParameters" and "page" in result.detail


# ---- wfs ------------------------------------------------------------------------------------


def gml_page(ids, matched, stamp, extra=""):
    members = "".join(
        f'<wfs:member><ca:area gml:id="area.{i}"><ca:name>Area {i}</ca:name><ca:geom>'
        f'<gml:Point gml:id="area.{i}.geom" srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>51.5 {-0.1 * i:.1f}</gml:pos></gml:Point>'
        f"</ca:geom></ca:area></wfs:member>\n"
        for i in ids
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<wfs:FeatureCollection xmlns:wfs="{WFS}" '
        f'xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:ca="http://example.org/ca" numberMatched="{matched}" '
        f'numberReturned="{len(ids)}" timeStamp="{stamp}" next="http://x/?startIndex=9"{extra}>\n{members}</wfs:FeatureCollection>\n'
    ).encode()


def wfs_server(server, path, ignore_start=False):
    def get_feature(h):
        q = {k.lower(): v for k, v in h.query.items()}
        start = 0 if ignore_start else int(q.get("startindex", 0))
        count = int(q.get("count", 100))
        ids = list(range(1, 6))[start : start + count]
        server.send(h, 200, gml_page(ids, 5, f"2026-11-02T00:00:{len(server.requests) % 60:02d}Z"), "application/gml+xml; version=3.2")

    return server.route(path, get_feature) + "?service=WFS&version=2.0.0&request=GetFeature&typeNames=ca:area&count=1000"


def test_wfs_pages_are_spliced_into_one_gml_feature_collection(collection, options, http_server, tmp_path):
    url = wfs_server(http_server, "/wfs/paged")
    result = collect(collection, url, options, "wfs", '{"page_size": 2}')
    assert result.log["status"] == "200" and "exception" not in result.log
    pages = queries(http_server, "/wfs/paged")
    assert [(q["startIndex"], q["count"]) for q in pages] == [("0", "2"), ("2", "2"), ("4", "2")]
    content = collection.resources()[result.resource]
    root = ET.fromstring(content)
    assert root.tag == f"{{{WFS}}}FeatureCollection"
    assert len(root.findall(f"{{{WFS}}}member")) == 5
    assert root.get("numberReturned") == "5" and root.get("timeStamp") is None and root.get("next") is None
    assert b'gml:id="area"' in content and b"area.1" not in content
    assert ogr_count(f"{collection.resource_dir}/{result.resource}", tmp_path, ".gml") == 5


def test_wfs_paged_resource_does_not_change_with_the_servers_timestamps(collection, options, http_server):
    url = wfs_server(http_server, "/wfs/stamps")
    first = collect(collection, url, options, "wfs", '{"page_size": 2}')
    second = collect_endpoint(collection.path, first.endpoint, date=DATE, refill=True, options=options)
    assert first.resource == second.resource
    assert len(collection.resources()) == 1


def test_wfs_without_page_size_is_a_single_get(collection, options, http_server):
    url = wfs_server(http_server, "/wfs/single")
    result = collect(collection, url, options, "wfs")
    assert [q["count"] for q in queries(http_server, "/wfs/single")] == ["1000"]
    content = collection.resources()[result.resource]
    assert len(ET.fromstring(content).findall(f"{{{WFS}}}member")) == 5
    assert b"timeStamp" not in content and b'gml:id="area"' in content


def test_wfs_exception_report_is_a_logged_failure(collection, options, http_server):
    report = (
        b'<?xml version="1.0"?><ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1" version="2.0.0">'
        b'<ows:Exception exceptionCode="InvalidParameterValue"><ows:ExceptionText>Unknown typeName ca:nope</ows:ExceptionText>'
        b"</ows:Exception></ows:ExceptionReport>"
    )
    url = http_server.content("/wfs/error", report, "application/xml")
    result = collect(collection, url, options, "wfs", '{"page_size": 2}')
    assert result.log["exception"] == "WFSException" and "Unknown typeName ca:nope" in result.detail
    assert collection.resources() == {}


def test_wfs_server_ignoring_start_index_is_a_logged_failure(collection, options, http_server):
    url = wfs_server(http_server, "/wfs/ignores", ignore_start=True)
    result = collect(collection, url, options, "wfs", '{"page_size": 2}')
    assert result.log["exception"] == "PagingIgnored"
    assert collection.resources() == {}


def test_wfs_truncated_page_is_a_logged_failure(collection, options, http_server):
    url = http_server.content("/wfs/truncated", gml_page([1, 2], 5, "x")[:-40], "application/gml+xml")
    result = collect(collection, url, options, "wfs", '{"page_size": 2}')
    assert result.log["exception"] == "UnexpectedResponse"
    assert collection.resources() == {}


def test_wfs_geojson_pages_become_one_feature_collection(collection, options, http_server):
    def get_feature(h):
        start, count = int(h.query["startIndex"]), int(h.query["count"])
        reply = {"type": "FeatureCollection", "features": FEATURES[start : start + count], "timeStamp": "now"}
        http_server.send(h, 200, json.dumps(reply).encode(), "application/json;charset=UTF-8")

    url = http_server.route("/wfs/json", get_feature) + "?request=GetFeature&typeNames=ca:area&outputFormat=application/json"
    result = collect(collection, url, options, "wfs", '{"page_size": 2}')
    assert json.loads(collection.resources()[result.resource])["features"] == FEATURES
    assert len(queries(http_server, "/wfs/json")) == 3
