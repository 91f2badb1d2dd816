"""A plain UTF-8 CSV that converting would not change is copied as it is (text.write_verbatim): the
same converted file and result as the slow path, which every other file still takes."""
import codecs
import csv
import io

import pytest

from planning_pipeline.convert import convert, text

POLYGON = '"POLYGON ((530000 180000, 530100 180000, 530100 180100, 530000 180000))"'


def written(rows):
    """Rows as csv.writer writes them in a conversion: minimal quoting, CRLF."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


PLAIN = written([["reference", "name", "geometry"], ["CA1", "Café, “quoted”", "POLYGON ((1 2, 3 4))"],
                 ["CA2", 'say "hi"', ""], ["CA3", " spaced ", "x"], ["", "", ""]])


def both_ways(tmp_path, monkeypatch, data, name="resource"):
    """(result, output bytes, whether it was copied) converting data with the fast path, after checking
    the slow path gives the same result and bytes."""
    path = tmp_path / name
    path.write_bytes(data)
    copied = []
    fast = text.write_verbatim

    def spy(raw, output_path):
        count = fast(raw, output_path)
        copied.append(count is not None)
        return count

    monkeypatch.setattr(text, "write_verbatim", lambda raw, output_path: None)
    slow = convert(str(path), str(tmp_path / "slow.csv"))
    monkeypatch.setattr(text, "write_verbatim", spy)
    result = convert(str(path), str(tmp_path / "fast.csv"))
    for r in (slow, result):
        r.pop("elapsed")
    assert result == slow
    outputs = [(tmp_path / f).read_bytes() if (tmp_path / f).exists() else None for f in ("slow.csv", "fast.csv")]
    assert outputs[1] == outputs[0]
    return result, outputs[1], copied == [True]


def test_a_csv_as_csv_writer_writes_it_is_copied_byte_for_byte(tmp_path, monkeypatch):
    result, output, copied = both_ways(tmp_path, monkeypatch, PLAIN)
    assert copied and output == PLAIN
    assert result["status"] == "success" and result["line_count"] == 5
    assert result["mime_type"] == "text/csv;charset=utf_8"


def test_a_cell_with_a_line_feed_in_it_is_copied_too(tmp_path, monkeypatch):
    data = written([["reference", "notes"], ["A1", "two\nlines, and\n\na gap"], ["A2", ""]])
    result, output, copied = both_ways(tmp_path, monkeypatch, data)
    assert copied and output == data and result["line_count"] == 3


def test_the_file_is_checked_and_copied_in_blocks(tmp_path, monkeypatch):
    data = written([["reference", "geometry"]] + [[f"R{i}", POLYGON.strip('"')] for i in range(300)])
    for block in (1, 7, 100, 1 << 20):
        monkeypatch.setattr(text, "VERBATIM_BLOCK", block)
        result, output, copied = both_ways(tmp_path, monkeypatch, data)
        assert copied and output == data and result["line_count"] == 301
    # a block with line feeds but no CRLF looks like LF line ends: left to the slow path
    data = written([["reference", "notes"]] + [[f"R{i}", "a\nb"] for i in range(50)])
    for block in (3, 1 << 20):
        monkeypatch.setattr(text, "VERBATIM_BLOCK", block)
        result, output, copied = both_ways(tmp_path, monkeypatch, data)
        assert output == data and copied == (block > 3)


@pytest.mark.parametrize("data", [
    codecs.BOM_UTF8 + PLAIN,                                     # a byte-order mark is dropped
    PLAIN.replace(b"\r\n", b"\n"),                               # LF line ends become CRLF
    PLAIN.replace(b"\r\n", b"\r"),                               # so do CR line ends
    PLAIN[:-2],                                                  # the last line gets its CRLF
    PLAIN.replace(b"CA1", b"C\x00A1"),                           # NULs are dropped
    PLAIN + b"\r\n" + PLAIN[-8:],                                # blank lines are skipped
    b"\r\n" + PLAIN,
    b"  \r\n" + PLAIN,                                           # so is a first line of spaces
    PLAIN.replace(b"CA2", b'"CA2"'),                             # needless quotes are dropped
    PLAIN.replace(b"CA2", b'C"A2'),                              # a bare quote gets quoted
    PLAIN.replace(b"CA2", b'"C""A2" x'),                         # text after a closing quote
    PLAIN.replace(b"CA2", b'"multi\r\nline"'),                   # a CRLF or CR in a cell becomes LF
    PLAIN.replace(b"CA2", b'"multi\rline"'),
    PLAIN.replace(b"reference,name,geometry", b"reference\tname\tgeometry"),  # tab-delimited
    "reference,name\r\nA1,Caf\xe9\r\n".encode("cp1252"),         # not UTF-8
    PLAIN + b"x" * 70000 + b",\xa3 stray,\r\n",                  # a stray byte beyond the sample
    "reference,name\r\nA1,Café\r\n".encode("utf-16"),
])
def test_anything_converting_would_change_takes_the_slow_path(tmp_path, monkeypatch, data):
    result, output, copied = both_ways(tmp_path, monkeypatch, data)
    assert not copied
    assert result["status"] == "success" and output != data


@pytest.mark.parametrize("data", [
    b'reference\r\n""\r\nA1\r\n',  # csv.writer writes a record of one empty cell as "": not followed
    written([["a\nb", "c"], ["1", "2"]]),  # a header on two lines: the slow path looks at the first
])
def test_a_few_files_converting_would_not_change_still_take_the_slow_path(tmp_path, monkeypatch, data):
    result, output, copied = both_ways(tmp_path, monkeypatch, data)
    assert not copied and output == data


def test_a_file_without_line_ends_is_not_read_whole_into_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(text, "VERBATIM_BLOCK", 64)
    monkeypatch.setattr(text, "VERBATIM_LONGEST_RECORD", 256)
    data = b"reference," + b"x" * 1000 + b"\r\n"
    result, output, copied = both_ways(tmp_path, monkeypatch, data)
    assert not copied and output == data  # converted the slow way, to the same bytes


def test_a_failed_copy_leaves_no_file_behind(tmp_path):
    path = tmp_path / "resource"
    path.write_bytes(PLAIN + b"\n")
    with open(path, "rb") as raw:
        assert text.write_verbatim(raw, str(tmp_path / "out" / "o.csv")) is None
    assert list((tmp_path / "out").iterdir()) == []
