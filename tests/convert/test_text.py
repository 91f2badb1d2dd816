"""Delimited text: encodings, NUL bytes, newlines, delimiters; HTML and junk refused."""
import codecs


def test_utf16_le_csv_with_bom_is_reencoded_to_utf8(run_convert):
    result, rows = run_convert(codecs.BOM_UTF16_LE + "name,price\r\nCafé,£5\r\n".encode("utf-16-le"))
    assert result["status"] == "success", result["exception"]
    assert rows == [["name", "price"], ["Café", "£5"]]
    assert result["mime_type"] == "text/csv;charset=utf_16_le"


def test_utf16_be_csv_with_bom_is_reencoded_to_utf8(run_convert):
    result, rows = run_convert(codecs.BOM_UTF16_BE + "a,b\n1,ŵ\n".encode("utf-16-be"))
    assert rows == [["a", "b"], ["1", "ŵ"]]


def test_utf16_without_bom_is_recognised(run_convert):
    result, rows = run_convert("reference,name\nA1,Ffordd Ŵyn\nA2,St Mary's\n".encode("utf-16-le"))
    assert rows == [["reference", "name"], ["A1", "Ffordd Ŵyn"], ["A2", "St Mary's"]]


def test_utf8_with_bom_loses_the_bom(run_convert):
    result, rows = run_convert(codecs.BOM_UTF8 + "reference,name\n1,é\n".encode())
    assert rows[0] == ["reference", "name"]
    assert result["mime_type"] == "text/csv;charset=utf_8_sig"


def test_cp1252_csv_is_reencoded_to_utf8(run_convert):
    text = "name,price,note\nCafé du Monde,£5,“quoted” – dash\nCrème brûlée,€3,naïve\n"
    result, rows = run_convert(text.encode("cp1252"))
    assert result["status"] == "success"
    assert result["mime_type"] == "text/csv;charset=cp1252"
    assert rows[1] == ["Café du Monde", "£5", "“quoted” – dash"]
    assert rows[2] == ["Crème brûlée", "€3", "naïve"]


def test_stray_cp1252_byte_far_into_a_utf8_file_is_read_as_cp1252(run_convert):
    head = "reference,name\n" + "".join(f"{i},plain ascii row\n" for i in range(6000))  # > the 64 KiB sample
    data = head.encode() + "6000,Café ".encode() + b"\xa3" + b"10\n"
    result, rows = run_convert(data)
    assert result["status"] == "success"
    assert rows[-1] == ["6000", "Café £10"]


def test_nul_bytes_are_dropped(run_convert):
    result, rows = run_convert(b"a,b\x00\n1\x00,2\n\x00\x003,4\n")
    assert rows == [["a", "b"], ["1", "2"], ["3", "4"]]


def test_any_line_ending_works_and_quoted_multi_line_cells_are_kept(run_convert):
    result, rows = run_convert(b'a,b\r1,"two\r\nlines"\r\n3,4\n5,6')
    assert rows == [["a", "b"], ["1", "two\nlines"], ["3", "4"], ["5", "6"]]
    assert result["line_count"] == 4


def test_blank_lines_are_skipped(run_convert):
    result, rows = run_convert(b"\n\na,b\n\n1,2\n\n")
    assert rows == [["a", "b"], ["1", "2"]]


def test_header_only_csv_converts_to_a_header(run_convert):
    result, rows = run_convert(b"reference,name\n")
    assert result["status"] == "success"
    assert rows == [["reference", "name"]]
    assert result["line_count"] == 1


def test_semicolon_and_tab_delimited_text_is_split(run_convert):
    assert run_convert(b"a;b\n1;2\n")[1] == [["a", "b"], ["1", "2"]]
    assert run_convert(b"a\tb\n1\t2,5\n")[1] == [["a", "b"], ["1", "2,5"]]


def test_output_is_crlf_with_minimal_quoting(run_convert, tmp_path):
    from planning_pipeline.convert import convert
    source = tmp_path / "r"
    source.write_bytes(b'a,b\n"1","x,y"\n')
    convert(str(source), str(tmp_path / "o.csv"))
    assert (tmp_path / "o.csv").read_bytes() == b'a,b\r\n1,"x,y"\r\n'


def test_html_page_is_refused(run_convert):
    for page in (b"<!DOCTYPE html><html><body>Not found</body></html>",
                 b"\n  <html lang='en'><head></head></html>",
                 b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"></html>'):
        result, rows = run_convert(page)
        assert result["status"] == "failed"
        assert "HTML" in result["exception"]
        assert rows is None


def test_empty_file_fails(run_convert):
    result, rows = run_convert(b"")
    assert result["status"] == "failed"
    assert result["exception"] == "empty file"
    assert rows is None


def test_blank_file_fails(run_convert):
    result, rows = run_convert(b"\n \r\n\t\n")
    assert result["status"] == "failed"
    assert "no data" in result["exception"]


def test_binary_junk_and_pdf_fail_clearly(run_convert):
    assert "binary" in run_convert(bytes(range(32)) * 100)[0]["exception"]
    assert run_convert(b"%PDF-1.4\n...")[0]["exception"] == "unsupported format: PDF document"


def test_random_and_compressed_bytes_named_csv_fail_as_not_data(run_convert):
    import bz2
    import lzma
    import random
    import zlib
    noise = random.Random(11).randbytes(200_000)
    text = "".join(f"{i},Conservation area {i},2020-01-{i % 28 + 1:02d}\n" for i in range(5000)).encode()
    for content in (noise, bz2.compress(text), lzma.compress(text), zlib.compress(text),
                    b"\x7fELF\x02\x01\x01" + noise[:5000]):
        result, rows = run_convert(content, name="data.csv")
        assert result["status"] == "failed" and rows is None
        assert result["exception"] == "not a data file: binary content of no known format"


def test_text_with_a_few_control_characters_or_many_accents_still_converts(run_convert):
    welsh = "reference,name\n" + "".join(f"{i},Ffordd Ŵyn – Côr Eglwys Dewi Sant é è ô\x0b\n" for i in range(300))
    for content in (welsh.encode("utf-8"), welsh.replace("Ŵ", "W").encode("cp1252"),
                    "reference,name\n1,a\x1bb\n2,c\n3,d\n4,e\n5,f\n6,g\n7,h\n8,i\n9,j\n10,k\n11,l\n".encode()):
        result, rows = run_convert(content)
        assert result["status"] == "success", result["exception"]
        assert rows[0] == ["reference", "name"]


def test_missing_resource_fails_without_raising(tmp_path):
    from planning_pipeline.convert import convert
    result = convert(str(tmp_path / "missing"), str(tmp_path / "o.csv"))
    assert result["status"] == "failed"
    assert "cannot read resource" in result["exception"]


def test_csv_header_in_square_brackets_is_not_taken_for_json(run_convert):
    result, rows = run_convert(b"[Reference],[Name]\nA1,One\n")
    assert result["mime_type"] == "text/csv;charset=utf_8"
    assert rows == [["[Reference]", "[Name]"], ["A1", "One"]]
