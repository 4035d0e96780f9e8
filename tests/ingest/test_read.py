import codecs
from pathlib import Path

import pytest

from salesdash.errors import InputFileError
from salesdash.ingest.read import detect_encoding, read_csv
from tests.conftest import SAMPLE_CSV, SMALL_CSV


def test_bundled_file_is_detected_as_code_page_437():
    raw = read_csv(SAMPLE_CSV)
    assert raw.encoding == "cp437"
    assert len(raw.frame) == 2823
    assert raw.sha256 == "6a20c7e5ce9d8a2d196f8247b6d92c1e2dc8716c5c135d737cd2465e801ca7c1"
    addresses = set(raw.frame["ADDRESSLINE1"])
    firsts = set(raw.frame["CONTACTFIRSTNAME"])
    assert "Berguvsvägen  8" in addresses
    assert "Rambla de Cataluña, 23" in addresses
    assert "Martín" in firsts


def test_territory_na_stays_a_string_not_missing():
    frame = read_csv(SAMPLE_CSV).frame
    assert (frame["TERRITORY"] == "NA").sum() == 1074
    assert frame["TERRITORY"].isna().sum() == 0


@pytest.mark.parametrize(
    ("prefix", "newline", "expected"),
    [(b"", b"\n", "utf-8"), (codecs.BOM_UTF8, b"\n", "utf-8-sig"), (b"", b"\r\n", "utf-8")],
    ids=["utf8-lf", "utf8-bom", "utf8-crlf"],
)
def test_utf8_variants_read_the_same(tmp_path: Path, prefix: bytes, newline: bytes, expected: str):
    body = SMALL_CSV.read_bytes().replace(b"\n", newline)
    path = tmp_path / "variant.csv"
    path.write_bytes(prefix + body)
    raw = read_csv(path)
    assert raw.encoding == expected
    assert next(iter(raw.frame.columns)) == "ORDERNUMBER"
    assert raw.frame["DEALSIZE"].iloc[-1] == "Small"  # no stray \r
    assert "Martín" in set(raw.frame["CONTACTFIRSTNAME"])


def test_encoding_override_wins(tmp_path: Path):
    raw = read_csv(SAMPLE_CSV, encoding="latin-1")
    assert raw.encoding == "latin-1"
    assert "Mart¡n" in set(raw.frame["CONTACTFIRSTNAME"])


def test_cp1252_file_is_read_as_cp1252(tmp_path: Path):
    path = tmp_path / "win.csv"
    path.write_bytes(SMALL_CSV.read_text(encoding="utf-8").encode("cp1252"))
    assert detect_encoding(path)[0] == "cp1252"
    assert "Jörg" in set(read_csv(path).frame["CONTACTFIRSTNAME"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x1f\x8b\x08\x00rest", "gzip"),
        ("ORDERNUMBER\n1\n".encode("utf-16"), "UTF-16"),
        (b"\x00\x01\x02\x03binary", "binary"),
    ],
    ids=["empty", "gzip", "utf16", "binary"],
)
def test_unreadable_files_get_a_clear_message(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        read_csv(path)


def test_missing_file(tmp_path: Path):
    with pytest.raises(InputFileError, match="not found"):
        read_csv(tmp_path / "nope.csv")
