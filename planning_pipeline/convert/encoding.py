"""Which text encoding a resource is in, judged from its first bytes.

Order: a byte-order mark (UTF-8, UTF-16/32 LE/BE); UTF-16 without a BOM (NULs in alternate bytes);
valid UTF-8; charset-normalizer's guess on the sample; Windows-1252 as the last resort. Decoding then
goes on with an error handler that reads any stray byte as Windows-1252 (Latin-1 for its five holes),
so a UTF-8 file with one mis-encoded "£" far down still converts instead of failing.
"""
import codecs
import re
from dataclasses import dataclass

SAMPLE_BYTES = 1 << 16

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Guesses that are really "some Western single-byte code page": for this platform's data
# (English local-authority files) Windows-1252 is overwhelmingly the right reading of those.
WESTERN_SINGLE_BYTE = {
    "ascii", "latin_1", "iso8859_1", "iso8859_15", "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9",
    "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_16", "cp1250", "cp1252", "cp1254", "cp1257",
    "cp437", "cp850", "cp852", "cp858", "cp775", "cp1125", "hp_roman8", "mac_roman", "mac_latin2",
    "mac_iceland", "mac_turkish", "cp500", "cp037", "cp273", "cp1140",
}

ERRORS = "planning-pipeline-cp1252"


def _cp1252_fallback(error):
    """Codec error handler: read undecodable bytes as Windows-1252 (Latin-1 where it has no character)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    text = []
    for byte in error.object[error.start:error.end]:
        try:
            text.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            text.append(chr(byte))
    return "".join(text), error.end


codecs.register_error(ERRORS, _cp1252_fallback)


@dataclass(frozen=True)
class Encoding:
    codec: str  # Python codec used to decode (after skipping bom_length bytes)
    bom_length: int = 0
    label: str = ""  # name for the log, e.g. utf_8, utf_8_sig, utf_16_le, cp1252

    @property
    def errors(self):
        return ERRORS if self.codec in ("utf-8", "cp1252") else "replace"


def _label(codec, bom):
    name = codecs.lookup(codec).name.replace("-", "_")
    if bom and name == "utf_8":
        return "utf_8_sig"
    return name


def _utf16_without_bom(sample):
    """'utf-16-le' / 'utf-16-be' when NULs fill one byte of most pairs (ASCII text in UTF-16), else None."""
    pairs = len(sample) // 2
    if pairs < 8:
        return None
    even = sample[0:pairs * 2:2].count(0)
    odd = sample[1:pairs * 2:2].count(0)
    if odd > 0.4 * pairs and even < 0.05 * pairs:
        return "utf-16-le"
    if even > 0.4 * pairs and odd < 0.05 * pairs:
        return "utf-16-be"
    return None


def _is_utf8(sample):
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)  # a cut character at the end is fine
        return True
    except UnicodeDecodeError:
        return False


def detect(sample):
    """The Encoding of a file whose first bytes are `sample` (at most SAMPLE_BYTES are looked at)."""
    sample = sample[:SAMPLE_BYTES]
    for bom, codec in BOMS:
        if sample.startswith(bom):
            return Encoding(codec, len(bom), _label(codec, True))
    codec = _utf16_without_bom(sample)
    if codec:
        return Encoding(codec, 0, _label(codec, False))
    if _is_utf8(sample.replace(b"\x00", b"")):
        return Encoding("utf-8", 0, "utf_8")
    sample = sample.replace(b"\x00", b"")
    # Lone high bytes amid ASCII ("£5", "Café") are a single-byte code page, not a multi-byte one
    # (charset-normalizer guesses wildly on a handful of them).
    codec = None if _only_lone_high_bytes(sample) else _charset_normalizer_guess(sample)
    if codec is None or codec in WESTERN_SINGLE_BYTE:
        codec = "cp1252"
    return Encoding(codec, 0, _label(codec, False))


def _only_lone_high_bytes(sample):
    return _HIGH_PAIR.search(sample) is None


_HIGH_PAIR = re.compile(rb"[\x80-\xff]{2}")


def _charset_normalizer_guess(sample):
    try:
        import charset_normalizer
    except ImportError:  # pragma: no cover - it is a requirement; Windows-1252 is still a sound reading
        return None
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        return None
    try:
        return codecs.lookup(best.encoding).name.replace("-", "_")
    except LookupError:
        return None
