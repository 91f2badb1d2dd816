"""Zip archives: check them, then pick the one member to convert.

Members are never extracted: GDAL reads them through /vsizip/ and the rest are streamed with
zipfile, so a member name can't write anywhere. Even so, an archive with a name that would escape
a directory (absolute, drive letter, "..") is refused, as are archives with too many members or a
total uncompressed size over the cap (zip bombs).
"""
import posixpath
import re
import zipfile
from dataclasses import dataclass

from .errors import ConversionError

MAX_UNCOMPRESSED_BYTES = 2 << 30
MAX_MEMBERS = 10_000
# A member that expands more than this many times and to more than BOMB_MIN_BYTES is a bomb, whatever the
# total: deflate reaches about 1030x only on runs of one byte; real CSV, GML, KML and shapefiles, 3-50x.
BOMB_RATIO = 200
BOMB_MIN_BYTES = 64 << 20

# In order of preference; more than one member of the chosen kind is an error.
CANDIDATES = (
    (".shp", "x-gis/x-shapefile"),
    (".gml", "application/gml+xml"),
    (".tab", "x-gis/x-mapinfo-tab"),
    (".geojson", "application/geo+json"),
    (".json", "application/json"),
    (".kml", "application/vnd.google-earth.kml+xml"),
    (".gpkg", "application/geopackage+sqlite3"),
    (".csv", "text/csv"),
)


@dataclass(frozen=True)
class Member:
    name: str
    mime_type: str
    suffix: str


def _unsafe(name):
    path = name.replace("\\", "/")
    return (path.startswith("/") or re.match(r"^[A-Za-z]:", path) is not None
            or ".." in path.split("/") or "\x00" in path)


def _ignored(name):
    base = posixpath.basename(name.rstrip("/"))
    return name.startswith("__MACOSX/") or base.startswith("._") or name.endswith("/")


def _lying(info):
    """True when a member's stated uncompressed size is smaller than its compressed data could give:
    GDAL's /vsizip/ reads a member to the end of its data whatever the size says, so a member stating
    100 bytes could still expand to gigabytes. Stored data is its own size; deflate adds about 0.03%
    (zlib's bound; 1% and 1 KiB are allowed, for other encoders); other methods are left alone."""
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size > info.file_size + 12  # (12: a ZipCrypto header)
    if info.compress_type == zipfile.ZIP_DEFLATED:
        return info.compress_size > info.file_size + info.file_size // 100 + 1024
    return False


def check(archive, max_bytes=MAX_UNCOMPRESSED_BYTES, max_members=MAX_MEMBERS):
    """Raise ConversionError unless the open ZipFile is safe to read."""
    infos = archive.infolist()
    if len(infos) > max_members:
        raise ConversionError(f"zip archive has {len(infos)} members, over the limit of {max_members}")
    total = sum(info.file_size for info in infos)
    if total > max_bytes:
        raise ConversionError(
            f"zip archive would uncompress to {total} bytes, over the limit of {max_bytes} (zip bomb?)")
    for info in infos:
        if info.file_size > BOMB_MIN_BYTES and info.file_size > BOMB_RATIO * max(info.compress_size, 1):
            raise ConversionError(
                f"zip archive member {info.filename!r} would uncompress to {info.file_size} bytes from "
                f"{info.compress_size}, over {BOMB_RATIO} times its size (zip bomb?)")
        if _lying(info):
            raise ConversionError(
                f"zip archive member {info.filename!r} claims to uncompress to {info.file_size} bytes, but its "
                f"{info.compress_size} compressed bytes cannot be so few (a corrupt or lying archive)")
        if _unsafe(info.filename):
            raise ConversionError(f"zip archive member name escapes the archive: {info.filename!r}")
        if info.flag_bits & 0x1:
            raise ConversionError(f"zip archive member is encrypted: {info.filename!r}")


def is_spreadsheet(archive):
    names = set(archive.namelist())
    return "xl/workbook.xml" in names or "xl/workbook.bin" in names


def is_opendocument_spreadsheet(archive):
    try:
        return archive.read("mimetype").strip() == b"application/vnd.oasis.opendocument.spreadsheet"
    except (KeyError, OSError, zipfile.BadZipFile):
        return False


def choose(archive):
    """The Member to convert: the single .shp anywhere in the archive, else the single .gml, ..."""
    names = [n for n in archive.namelist() if not _ignored(n)]
    for suffix, mime_type in CANDIDATES:
        found = sorted(n for n in names if n.lower().endswith(suffix))
        if len(found) > 1:
            listed = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
            raise ConversionError(
                f"zip archive holds {len(found)} {suffix} files ({listed}); cannot tell which one to convert")
        if found:
            return Member(found[0], mime_type, suffix)
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    raise ConversionError(f"zip archive holds no file of a supported kind (found: {shown or 'nothing'})")


def open_zip(path):
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        raise ConversionError(f"unreadable zip archive: {error}") from None


def vsizip_path(path, member):
    if "}" in path:
        raise ConversionError("resource path contains '}', which GDAL's /vsizip/ cannot address")
    return f"/vsizip/{{{path}}}/{member}"
