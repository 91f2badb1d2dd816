"""Hostile variants of real resources, made deterministically from a seed.

Every function returns the bytes of one resource. Mutations of a real file take a random.Random;
the hand-made hostile files take nothing. Nothing here is random without a seed: the same case name
always gives the same bytes (see seed_of).
"""
import codecs
import io
import json
import random
import struct
import zipfile
import zlib


def seed_of(name):
    """A stable seed from a case name (Python's hash() of a str changes from run to run)."""
    return zlib.crc32(name.encode("utf-8"))


def rng(name):
    return random.Random(seed_of(name))


# --- mutations of a real file -----------------------------------------------------------------------
def truncate(data, r):
    """Cut at a random offset (never the whole file, never nothing)."""
    return data[:r.randrange(1, max(2, len(data) - 1))]


def flip_bytes(data, r, count=12):
    """Replace `count` bytes at random offsets with random bytes."""
    out = bytearray(data)
    for _ in range(count):
        out[r.randrange(len(out))] = r.randrange(256)
    return bytes(out)


def insert_nuls(data, r, count=20):
    out = bytearray(data)
    for _ in range(count):
        at = r.randrange(len(out) + 1)
        out[at:at] = b"\x00" * r.randint(1, 4)
    return bytes(out)


def bom_in_middle(data, r):
    """A UTF-8 byte-order mark inserted at a line start in the middle (as a bad concatenation leaves)."""
    lines = data.split(b"\n")
    if len(lines) < 3:
        at = len(data) // 2
        return data[:at] + codecs.BOM_UTF8 + data[at:]
    at = r.randrange(1, len(lines))
    lines[at] = codecs.BOM_UTF8 + lines[at]
    return b"\n".join(lines)


def cr_only(data, r=None):
    """Classic Mac line endings: every CRLF and LF becomes a lone CR."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")


def mixed_line_endings(data, r):
    lines = data.replace(b"\r\n", b"\n").split(b"\n")
    ends = (b"\r", b"\n", b"\r\n")
    return b"".join(line + r.choice(ends) for line in lines)


def unbalanced_quote(data, r):
    """A stray double quote at a random offset (an opened, never-closed quoted field)."""
    at = r.randrange(len(data) + 1)
    return data[:at] + b'"' + data[at:]


MUTATIONS = {
    "truncated": truncate,
    "flipped": flip_bytes,
    "nuls": insert_nuls,
    "bom-in-middle": bom_in_middle,
    "cr-only": cr_only,
    "mixed-line-endings": mixed_line_endings,
    "unbalanced-quote": unbalanced_quote,
}


# --- delimited text ---------------------------------------------------------------------------------
CA_HEADER = ["reference", "name", "geometry", "point", "designation-date", "start-date", "documentation-url",
             "notes"]
CA_ROW = ["CA1", "Old Town", "POLYGON((-0.1 51.5,-0.09 51.5,-0.09 51.51,-0.1 51.51,-0.1 51.5))",
          "POINT(-0.095 51.505)", "2001-02-03", "2001-02-03", "https://example.com/ca1", "a note"]


def csv_bytes(rows, encoding="utf-8", lineterminator="\r\n"):
    import csv

    out = io.StringIO()
    csv.writer(out, lineterminator=lineterminator).writerows(rows)
    return out.getvalue().encode(encoding)


def ca_csv(**values):
    """A one-row conservation-area CSV, the given fields replaced (keys with '_' for '-')."""
    row = list(CA_ROW)
    for key, value in values.items():
        row[CA_HEADER.index(key.replace("_", "-"))] = value
    return csv_bytes([CA_HEADER, row])


def ca_csv_rows(field, values):
    """A conservation-area CSV of one row per value of `field` (references CA1, CA2, ...)."""
    at = CA_HEADER.index(field)
    rows = [CA_HEADER]
    for n, value in enumerate(values, 1):
        row = list(CA_ROW)
        row[0] = f"CA{n}"
        row[at] = value
        rows.append(row)
    return csv_bytes(rows)


def huge_field(size=10 << 20):
    return csv_bytes([CA_HEADER, ["CA1", "x" * size] + CA_ROW[2:]])


def many_columns(count=100_000):
    return (",".join(f"c{i}" for i in range(count)) + "\r\n" + ",".join("v" for _ in range(count)) + "\r\n").encode()


def duplicate_headers():
    return csv_bytes([["reference", "name", "name", "reference", "geometry"],
                      ["CA1", "First", "Second", "CA2", CA_ROW[2]]])


def blank_headers():
    return csv_bytes([["", "reference", "", " ", "name"], ["x", "CA1", "y", "z", "Old Town"]])


def header_only():
    return csv_bytes([CA_HEADER])


def utf16_without_bom(big_endian=False):
    text = "\r\n".join(",".join(r) for r in ([CA_HEADER[:2], ["CA1", "Café Quarter"], ["CA2", "Ålby"]])) + "\r\n"
    return text.encode("utf-16-be" if big_endian else "utf-16-le")


def latin1():
    return csv_bytes([CA_HEADER[:2], ["CA1", "Café £5 Ñ"], ["CA2", "Straße"]], encoding="latin-1")


def cp1252():
    return csv_bytes([CA_HEADER[:2], ["CA1", "“Smart” quotes – and €"], ["CA2", "naïve"]], encoding="cp1252")


HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
             b"<body><h1>Not Found</h1><p>The requested URL was not found.</p></body></html>\n")


def html_without_doctype():
    return b"\n\n  <html lang=en><body>Service unavailable, try later</body></html>"


# --- JSON ---------------------------------------------------------------------------------------------
def deep_json(levels=100_000, opener="[", closer="]"):
    return (opener * levels + closer * levels).encode()


def deep_objects(levels=100_000):
    return ('{"a":' * levels + "1" + "}" * levels).encode()


def deep_in_records(levels=50_000):
    """A list of records whose one value nests deeply."""
    return ('[{"reference":"CA1","name":' + "[" * levels + "]" * levels + "}]").encode()


def feature_collection(geometries, properties=None):
    features = []
    for n, geometry in enumerate(geometries, 1):
        props = dict(properties or {}, reference=f"CA{n}", name=f"Area {n}")
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


RING = [[-0.1, 51.5], [-0.09, 51.5], [-0.09, 51.51], [-0.1, 51.51], [-0.1, 51.5]]


def geojson_raw(geometry_text):
    """A one-feature FeatureCollection whose geometry is the given JSON text (NaN and the like)."""
    return ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"reference":"CA1",'
            '"name":"x"},"geometry":' + geometry_text + "}]}").encode()


# --- zip archives ------------------------------------------------------------------------------------
def zip_of(members, compression=zipfile.ZIP_DEFLATED):
    """A zip of (name, bytes) members, names taken as given (zipfile keeps '../' in a name)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = compression
            zf.writestr(info, data)
    return out.getvalue()


def empty_zip():
    return zip_of([])


def encrypted_zip(members):
    """A zip whose members claim to be encrypted (general purpose flag bit 0, in the local and central
    headers), the way an AES or ZipCrypto archive looks to a reader that has no password."""
    data = bytearray(zip_of(members, zipfile.ZIP_STORED))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            flags = struct.unpack_from("<H", data, at + offset)[0]
            struct.pack_into("<H", data, at + offset, flags | 1)
            at = data.find(signature, at + 4)
    return bytes(data)


def _deflated_zeros(size):
    """Raw deflate of `size` zero bytes (a multiple of 1 MiB), quickly: after a full flush the
    compressor starts afresh, so each MiB compresses to the same bytes, made once and repeated."""
    mib = 1 << 20
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = c.compress(bytes(mib)) + c.flush(zlib.Z_FULL_FLUSH)
    return segment * (size // mib) + c.flush()


def zip_bomb(size=(1 << 30) + (64 << 20), name="bomb.csv", honest=True, prefix=b"reference,name\r\n"):
    """One deflated member of `size` bytes (a CSV header then zeros) in a zip of about a thousandth of
    that. honest=False: the headers claim it uncompresses to 100 bytes (the size check must not trust
    them; reading must stop at a limit). The CRC is not the member's (no reader gets that far)."""
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = body.compress(prefix) + body.flush(zlib.Z_FULL_FLUSH)
    rest = _deflated_zeros(size - (size % (1 << 20)))
    compressed = head + rest
    declared = size + len(prefix) if honest else 100
    name_bytes = name.encode()
    crc = 0
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x5021, crc, len(compressed) & 0xFFFFFFFF,
                        declared & 0xFFFFFFFF, len(name_bytes), 0) + name_bytes
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x5021, crc,
                          len(compressed) & 0xFFFFFFFF, declared & 0xFFFFFFFF, len(name_bytes), 0, 0, 0, 0, 0, 0
                          ) + name_bytes
    offset = len(local) + len(compressed)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), offset, 0)
    return local + compressed + central + end


def junk_xlsx(r):
    """A zip laid out like a workbook whose parts are junk bytes."""
    junk = lambda n: bytes(r.randrange(256) for _ in range(n))  # noqa: E731
    return zip_of([("[Content_Types].xml", junk(200)), ("xl/workbook.xml", junk(300)),
                   ("xl/worksheets/sheet1.xml", junk(500)), ("_rels/.rels", junk(100))])


def xlsx_with_xml(sheet_xml, workbook_xml=None):
    """A minimal workbook with the given sheet XML (entity bombs and the like)."""
    content_types = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                     b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxml'
                     b'formats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                     b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
                     b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                     b'</Types>')
    rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    workbook = workbook_xml or (
        b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        b'<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
    workbook_rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
                     b'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.'
                     b'org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                     b'</Relationships>')
    return zip_of([("[Content_Types].xml", content_types), ("_rels/.rels", rels), ("xl/workbook.xml", workbook),
                   ("xl/_rels/workbook.xml.rels", workbook_rels), ("xl/worksheets/sheet1.xml", sheet_xml)])


def sheet(rows, prolog=b""):
    cells = []
    for n, row in enumerate(rows, 1):
        cells.append(f'<row r="{n}">' + "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in row) + "</row>")
    return (b'<?xml version="1.0" encoding="UTF-8"?>' + prolog +
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>' +
            "".join(cells).encode() + b"</sheetData></worksheet>")


LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10)) + b"]>")
EXTERNAL = b'<!DOCTYPE x [<!ENTITY ext SYSTEM "file:///etc/passwd">]>'


def kml_with(prolog, name=b"&lol9;"):
    return (b'<?xml version="1.0" encoding="UTF-8"?>' + prolog +
            b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>' + name +
            b'</name><Point><coordinates>-0.1,51.5</coordinates></Point></Placemark></Document></kml>')


def circle_wkt(vertices, x=-0.1, y=51.5, radius=0.01):
    """A valid polygon of that many vertices (an enormous but honest value)."""
    import math

    points = [(x + radius * math.cos(2 * math.pi * i / vertices), y + radius * math.sin(2 * math.pi * i / vertices))
              for i in range(vertices)]
    return "POLYGON((" + ",".join(f"{a:.9f} {b:.9f}" for a, b in points + points[:1]) + "))"


def zigzag_wkt(vertices):
    """A ring that crosses itself about `vertices` times (its closing edge runs back through every tooth)."""
    return "POLYGON((" + ",".join(f"{-0.1 + i * 1e-7:.7f} {51.5 + (i % 2) * 1e-4:.4f}"
                                  for i in range(vertices)) + ",-0.1 51.5))"


def random_bytes(r, size):
    return bytes(r.randrange(256) for _ in range(size))


STYLES_WITH_A_DATE = (b'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/'
                      b'spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" '
                      b'applyNumberFormat="1"/></cellXfs></styleSheet>')


def xlsx_cells(cells, styles=STYLES_WITH_A_DATE, shared_strings=None):
    """A workbook whose one sheet has a header row (reference, value) and one row per raw cell XML."""
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>reference</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>name</t></is></c></row>']
    for n, cell in enumerate(cells, 2):
        rows.append(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>CA{n - 1}</t></is></c>{cell}</row>')
    sheet_xml = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                 b'spreadsheetml/2006/main"><sheetData>' + "".join(rows).encode() + b"</sheetData></worksheet>")
    data = xlsx_with_xml(sheet_xml)
    if shared_strings is None:
        shared_strings = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    extra = [("xl/styles.xml", styles), ("xl/sharedStrings.xml", shared_strings)]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    rels = dict(members)["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        b'Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    types = dict(members)["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    replaced = {"xl/_rels/workbook.xml.rels": rels, "[Content_Types].xml": types}
    members = [(n, replaced.get(n, d)) for n, d in members]
    return zip_of(members + extra)


def rezip(data, change):
    """The zip `data` with each member (name, bytes) passed through change(name, bytes) -> bytes, or None to drop it."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist() if not i.is_dir()]
    changed = [(name, change(name, body)) for name, body in members]
    return zip_of([(name, body) for name, body in changed if body is not None])


def with_stated_size(data, member, size):
    """The zip `data` with `member`'s uncompressed size stated as `size` in its local and central headers."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
    struct.pack_into("<I", out, info.header_offset + 22, size)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46:at + 46 + length].decode("utf-8", "replace") == member:
            struct.pack_into("<I", out, at + 24, size)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)
