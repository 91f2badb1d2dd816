"""XML through GDAL fetches nothing: no external entities, no schemas, no network."""
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


def test_kml_external_entities_are_not_resolved(run_convert, listener, tmp_path):
    port, hits = listener
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    kml = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE kml [ <!ENTITY sec SYSTEM "file://{secret}"> <!ENTITY net SYSTEM "http://127.0.0.1:{port}/e"> ]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>a &sec; b &net;</name><Point><coordinates>-1.5,52.25</coordinates></Point></Placemark>
</Document></kml>"""
    result, rows = run_convert(kml)
    assert result["status"] == "success", result["exception"]
    assert rows[1][0] == "POINT (-1.5 52.25)"
    assert "TOPSECRET" not in repr(rows)
    assert hits == []


def test_gml_external_entities_and_remote_schemas_are_not_fetched(run_convert, listener, tmp_path):
    port, hits = listener
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    with open(os.path.join(EXAMPLES, "gml.resource"), encoding="utf-8") as f:
        gml = f.read()
    gml = gml.replace("inspire.halton.gov.uk:80", f"127.0.0.1:{port}")  # schemaLocation, DescribeFeatureType
    gml = gml.replace('<?xml version="1.0" encoding="UTF-8"?>',
                      '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE wfs:FeatureCollection [ '
                      f'<!ENTITY sec SYSTEM "file://{secret}"> <!ENTITY net SYSTEM "http://127.0.0.1:{port}/e"> ]>')
    gml = gml.replace("<inspire:Name>", "<inspire:Name>&sec;&net;", 1)
    result, rows = run_convert(gml)
    assert result["status"] == "success", result["exception"]
    assert len(rows) == 11
    assert "TOPSECRET" not in repr(rows)
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
