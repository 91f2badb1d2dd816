"""XML fetches nothing (no external entities, no schemas, no network), and a document that needs an entity
expanded that is refused (external, or an expansion bomb) is a failed conversion, never rows with values missing."""
import os
import socket
import threading

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "resource-examples")


@pytest.fixture
def listener():
    """A local TCP server recording every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    hits = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            hits.append(connection.recv(200))
            connection.sendall(b"HTTP/1.0 404 Not Found\r\n\r\n")
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join()
    server.close()


def test_kml_with_external_entities_fails_and_fetches_nothing(run_convert, listener, tmp_path):
    port, hits = listener
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    kml = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE kml [ <!ENTITY sec SYSTEM "file://{secret}"> <!ENTITY net SYSTEM "http://127.0.0.1:{port}/e"> ]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>a &sec; b &net;</name><Point><coordinates>-1.5,52.25</coordinates></Point></Placemark>
</Document></kml>"""
    result, rows = run_convert(kml)
    assert result["status"] == "failed" and rows is None
    assert result["exception"] == "XML entity expansion refused: the document declares external entities (&sec;, &net;)"
    assert "TOPSECRET" not in repr(result)
    assert hits == []


def test_gml_with_external_entities_fails_and_remote_schemas_are_not_fetched(run_convert, listener, tmp_path):
    port, hits = listener
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    with open(os.path.join(EXAMPLES, "gml.resource"), encoding="utf-8") as f:
        gml = f.read()
    gml = gml.replace("inspire.halton.gov.uk:80", f"127.0.0.1:{port}")  # schemaLocation, DescribeFeatureType
    without_entities = run_convert(gml, name="plain")
    assert without_entities[0]["status"] == "success" and len(without_entities[1]) == 11
    gml = gml.replace('<?xml version="1.0" encoding="UTF-8"?>',
                      '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE wfs:FeatureCollection [ '
                      f'<!ENTITY sec SYSTEM "file://{secret}"> <!ENTITY net SYSTEM "http://127.0.0.1:{port}/e"> ]>')
    gml = gml.replace("<inspire:Name>", "<inspire:Name>&sec;&net;", 1)
    result, rows = run_convert(gml)
    assert result["status"] == "failed" and rows is None
    assert "external entities (&sec;, &net;)" in result["exception"]
    assert hits == []


def test_entity_expansion_bomb_fails(run_convert):
    entities = '<!ENTITY a0 "AAAAAAAAAA">' + "".join(
        f'<!ENTITY a{i} "' + f"&a{i - 1};" * 10 + '">' for i in range(1, 10))
    kml = f"""<?xml version="1.0"?><!DOCTYPE kml [ {entities} ]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>&a9;</name><Point><coordinates>1,2</coordinates></Point></Placemark></Document></kml>"""
    result, rows = run_convert(kml)
    assert result["status"] == "failed"
    assert rows is None
    assert "entity expansion bomb" in result["exception"]


def test_entity_expansion_bomb_inside_a_zip_fails(run_convert, tmp_path):
    import io
    import zipfile
    entities = '<!ENTITY a0 "AAAAAAAAAA">' + "".join(
        f'<!ENTITY a{i} "' + f"&a{i - 1};" * 10 + '">' for i in range(1, 10))
    gml = f"""<?xml version="1.0"?><!DOCTYPE wfs:FeatureCollection [ {entities} ]>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" xmlns:gml="http://www.opengis.net/gml" xmlns:ms="http://x">
<gml:featureMember><ms:a><ms:name>&a9;</ms:name><ms:geom><gml:Point><gml:coordinates>1,2</gml:coordinates></gml:Point></ms:geom></ms:a></gml:featureMember>
</wfs:FeatureCollection>"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("areas.gml", gml)
    result, rows = run_convert(buffer.getvalue())
    assert result["status"] == "failed" and rows is None
    assert "&a" in result["exception"] and "entity expansion bomb" in result["exception"]


def test_self_referring_entity_fails(run_convert):
    kml = """<?xml version="1.0"?><!DOCTYPE kml [ <!ENTITY a "x&b;"> <!ENTITY b "y&a;"> ]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>&a;</name><Point><coordinates>1,2</coordinates></Point></Placemark></Document></kml>"""
    result, rows = run_convert(kml)
    assert result["status"] == "failed" and "refers to itself" in result["exception"]


def test_small_internal_entities_are_expanded_and_converted(run_convert):
    kml = """<?xml version="1.0"?><!DOCTYPE kml [ <!ENTITY council "Borough Council"> ]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>Halton &council;</name><Point><coordinates>-1.5,52.25</coordinates></Point></Placemark></Document></kml>"""
    result, rows = run_convert(kml)
    assert result["status"] == "success", result["exception"]
    assert rows[1][:2] == ["POINT (-1.5 52.25)", "Halton Borough Council"]


def test_gdal_messages_are_not_printed(run_convert, capfd):
    run_convert(os.path.join(EXAMPLES, "kml-bad.resource"))
    run_convert(os.path.join(EXAMPLES, "gml.resource"))
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_xml_that_is_not_spatial_fails_clearly(run_convert):
    result, rows = run_convert('<?xml version="1.0"?><catalog><book id="1"><title>x</title></book></catalog>')
    assert result["status"] == "failed"
    assert result["mime_type"] == "application/xml;charset=utf_8"
    assert result["exception"]
