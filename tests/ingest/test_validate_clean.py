from pathlib import Path

import pytest

from salesdash.errors import InputFileError, ValidationFailed
from salesdash.ingest import prepare
from tests.conftest import SMALL_CSV


def _write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _small_lines() -> list[str]:
    return SMALL_CSV.read_text(encoding="utf-8").splitlines()


def test_small_file_cleans_without_mangling():
    prepared = prepare(SMALL_CSV)
    frame = prepared.frame
    assert len(frame) == 8
    assert "Beta's Toys" in set(frame["customer_name"])  # not title-cased
    assert set(frame["country"]) == {"USA", "France", "Germany", "Spain"}
    assert frame["sales_cents"].sum() == 1761324  # 17,613.24 incl. the cancelled line
    row = frame[frame["order_number"] == 1005].iloc[0]
    assert (row["year"], row["quarter"], row["month"], row["day"]) == (2004, 4, 12, 31)
    assert (row["iso_year"], row["iso_week"]) == (2004, 53)
    assert frame["territory"].iloc[0] == "NA"
    assert frame["address_line2"].iloc[0] is None


def test_report_counts_and_anomalies():
    report = prepare(SMALL_CSV).report
    assert report["rows_read"] == 8
    assert report["rows_loaded"] == 8
    assert report["rows_rejected"] == 0
    assert report["encoding"] == "utf-8"
    assert report["date_range"] == {"start": "2003-01-15", "end": "2005-01-03"}
    assert report["empty_cells"]["ADDRESSLINE2"] == 6
    codes = {a["code"]: a for a in report["anomalies"]}
    # 600.25 on 5 x 100.00 is the capped-price pattern of the real data
    assert codes["price_each_capped"]["rows"] == 3
    assert codes["partial_year"]["year"] == 2005
    assert codes["cancelled_orders"]["orders"] == 1
    assert report["country_codes"]["USA"] == "USA"


def test_whitespace_is_trimmed(tmp_path: Path):
    lines = _small_lines()
    lines[1] = lines[1].replace("Alpha Co", "  Alpha Co  ").replace(",Shipped,", ", Shipped ,")
    prepared = prepare(_write(tmp_path, "\n".join(lines) + "\n"))
    assert prepared.frame["customer_name"].iloc[0] == "Alpha Co"
    assert prepared.frame["status"].iloc[0] == "Shipped"


def test_every_failure_is_reported_at_once_with_lines_and_columns(tmp_path: Path):
    lines = _small_lines()
    lines[1] = lines[1].replace("1/15/2003 0:00", "2/30/2003 0:00")  # impossible date
    lines[3] = lines[3].replace(",20,80.5,", ",-2,80.5,")  # negative quantity
    lines[5] = lines[5].replace("On Hold", "Lost")  # unknown status
    lines[7] = lines[7].replace(",4,12,2004,", ",3,12,2004,")  # quarter disagrees with date
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ValidationFailed) as info:
        prepare(path)
    found = {(d["line"], d["column"]) for d in info.value.details}
    assert (2, "ORDERDATE") in found
    assert (4, "QUANTITYORDERED") in found
    assert (6, "STATUS") in found
    assert (8, "QTR_ID") in found
    assert "Nothing was changed" in info.value.message
    assert "line 4, QUANTITYORDERED ('-2') must be at least 1" in info.value.message


def test_duplicate_order_line_and_inconsistent_order(tmp_path: Path):
    lines = _small_lines()
    lines.append(lines[1])  # duplicate (1001, 1)
    lines[2] = lines[2].replace("Alpha Co", "Other Co")  # order 1001 with two customers
    with pytest.raises(ValidationFailed) as info:
        prepare(_write(tmp_path, "\n".join(lines) + "\n"))
    problems = " ".join(d["problem"] for d in info.value.details)
    assert "duplicates an earlier" in problems
    assert "one CUSTOMERNAME" in problems


def test_missing_column_names_the_column_and_suggests_a_rename(tmp_path: Path):
    lines = _small_lines()
    lines[0] = lines[0].replace("CUSTOMERNAME", "CUSTOMER_NAME")
    with pytest.raises(InputFileError) as info:
        prepare(_write(tmp_path, "\n".join(lines) + "\n"))
    assert "CUSTOMERNAME" in info.value.message
    assert "CUSTOMER_NAME" in info.value.message


def test_semicolon_file_is_refused_clearly(tmp_path: Path):
    text = "\n".join(line.replace(",", ";") for line in _small_lines()) + "\n"
    with pytest.raises(InputFileError, match="delimited by ';'"):
        prepare(_write(tmp_path, text))


def test_header_only_is_refused(tmp_path: Path):
    with pytest.raises(InputFileError, match="no order lines"):
        prepare(_write(tmp_path, _small_lines()[0] + "\n"))


def test_extra_columns_are_ignored_with_a_warning_and_order_does_not_matter(tmp_path: Path):
    import pandas as pd

    frame = pd.read_csv(SMALL_CSV, dtype=str, keep_default_na=False)
    frame["NOTES"] = "x"
    frame = frame[list(reversed(frame.columns))]
    path = tmp_path / "shuffled.csv"
    frame.to_csv(path, index=False)
    prepared = prepare(path)
    assert len(prepared.frame) == 8
    assert prepared.report["warnings"] == ["unknown column 'NOTES' ignored"]


def test_skip_mode_loads_good_rows_and_writes_rejects(tmp_path: Path):
    lines = _small_lines()
    lines[3] = lines[3].replace(",20,80.5,", ",abc,80.5,")
    rejects = tmp_path / "rejects.csv"
    prepared = prepare(_write(tmp_path, "\n".join(lines) + "\n"), on_error="skip", rejects_path=rejects)
    assert len(prepared.frame) == 7
    assert prepared.report["rows_rejected"] == 1
    text = rejects.read_text()
    assert "QUANTITYORDERED is not a number" in text
    assert text.splitlines()[1].startswith("4,")
