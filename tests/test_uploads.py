"""Two-step uploads (library level): kept until confirmed or expired; replace or append atomically, with
duplicate order lines refused and the stored data left as it was, on every engine."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from salesdash.errors import InvalidParameter, NotFound, ValidationFailed
from salesdash.ingest import prepare
from salesdash.ingest.uploads import UploadStore, check_mode, confirm, preview
from salesdash.metrics import Filters, kpis
from salesdash.store import current_version, snapshot
from salesdash.store.append import DuplicateOrderLines
from tests.conftest import SMALL_CSV
from tests.orderlines import line, write_csv


def revenue(engine: Engine) -> float:
    with snapshot(engine) as conn:
        return float(kpis(conn, Filters())["revenue"])


@pytest.fixture
def store(tmp_path: Path) -> UploadStore:
    return UploadStore(tmp_path / "uploads")


def test_an_upload_is_kept_until_it_is_read_back(store: UploadStore):
    prepared = prepare(SMALL_CSV)
    upload = store.put(prepared)
    again, back = store.get(upload.id)
    assert again == upload
    assert upload.rows == len(prepared.frame) == 8
    assert upload.source == "small.csv"
    assert back.frame.equals(prepared.frame)
    assert back.report == upload.report
    store.discard(upload.id)
    with pytest.raises(NotFound):
        store.get(upload.id)


def test_uploads_expire(tmp_path: Path):
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = UploadStore(tmp_path, ttl=timedelta(minutes=30), clock=lambda: now[0])
    upload = store.put(prepare(SMALL_CSV))
    now[0] += timedelta(minutes=31)
    with pytest.raises(NotFound) as info:
        store.get(upload.id)
    assert "expired" in info.value.message
    assert not list(tmp_path.glob(f"{upload.id}*"))


def test_at_most_max_pending_uploads_are_kept(tmp_path: Path):
    store = UploadStore(tmp_path, max_pending=2)
    ids = [store.put(prepare(SMALL_CSV)).id for _ in range(3)]
    with pytest.raises(NotFound):
        store.get(ids[0])
    assert store.get(ids[2])[0].id == ids[2]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "short", "x" * 65, "a/b" * 10])
def test_ids_that_are_not_ours_are_not_found(store: UploadStore, bad: str):
    with pytest.raises(NotFound):
        store.get(bad)


def test_preview_shows_sales_not_cents():
    columns, rows = preview(prepare(SMALL_CSV).frame, rows=3)
    assert len(rows) == 3
    assert "sales" in columns and "sales_cents" not in columns and "iso_week" not in columns
    assert rows[0]["sales"] == 500.0
    assert rows[0]["order_date"] == "2003-01-15"


def test_mode_is_replace_or_append():
    assert check_mode("append") == "append"
    with pytest.raises(InvalidParameter) as info:
        check_mode("merge")
    assert info.value.details[0]["parameter"] == "mode"


def test_replace_loads_the_upload_as_a_new_version(small_engine: Engine, tmp_path: Path):
    before = current_version(small_engine)
    rows = [line(9001, date(2005, 6, 1), 1234.5)]
    result = confirm(
        small_engine, prepare(write_csv(tmp_path / "new.csv", rows)), "replace", source="upload:new.csv"
    )
    assert result.previous_version == before.version
    assert result.version.version != before.version
    assert result.version.row_count == 1
    assert result.report["load_mode"] == "replace"
    assert revenue(small_engine) == 1234.5


def test_append_adds_the_lines_atomically(small_engine: Engine, tmp_path: Path):
    before = revenue(small_engine)
    rows = [
        line(9001, date(2005, 6, 1), 1000.0),
        line(9001, date(2005, 6, 1), 250.25, line_number=2),
        # a new line of a stored order (1006: Delta Ltda, 2005-01-03, Shipped) that agrees with it
        line(1006, date(2005, 1, 3), 10.0, customer="Delta Ltda", country="Spain", line_number=2),
    ]
    result = confirm(
        small_engine, prepare(write_csv(tmp_path / "more.csv", rows)), "append", source="upload:more.csv"
    )
    assert result.version.row_count == 8 + 3
    assert result.report["rows_before"] == 8
    assert revenue(small_engine) == round(before + 1260.25, 2)


def test_append_refuses_order_lines_already_stored_and_changes_nothing(small_engine: Engine, tmp_path: Path):
    before = current_version(small_engine)
    rows = [
        line(9001, date(2005, 6, 1), 1000.0),
        line(1002, date(2003, 2, 10), 1610.0, customer="Beta's Toys", country="France"),  # stored: 1002/1
    ]
    with pytest.raises(DuplicateOrderLines) as info:
        confirm(small_engine, prepare(write_csv(tmp_path / "dup.csv", rows)), "append", source="dup.csv")
    assert info.value.http_status == 409
    assert info.value.details == [{"order_number": 1002, "order_line_number": 1, "message": "already stored"}]
    assert "1002/1" in info.value.message
    assert current_version(small_engine) == before


def test_append_refuses_lines_that_contradict_their_stored_order(small_engine: Engine, tmp_path: Path):
    before = current_version(small_engine)
    rows = [line(1006, date(2005, 1, 4), 10.0, customer="Someone Else", country="Spain", line_number=2)]
    with pytest.raises(ValidationFailed) as info:
        confirm(small_engine, prepare(write_csv(tmp_path / "bad.csv", rows)), "append", source="bad.csv")
    columns = {d["column"] for d in info.value.details}
    assert columns == {"customer_name", "order_date"}
    assert current_version(small_engine) == before
