"""records(): a frame as JSON-ready rows, converted column by column, equal to converting every value."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from salesdash.api.respond import jsonable, records


def _value_by_value(frame: pd.DataFrame) -> list[dict[str, object]]:
    return jsonable(frame.astype(object).to_dict("records"))


def test_every_dtype_gives_what_jsonable_gives_per_value():
    frame = pd.DataFrame(
        {
            "count": np.array([1, 2, 3], dtype="int64"),
            "small": np.array([1, 2, 3], dtype="int16"),
            "money": [1.5, float("nan"), float("inf")],
            "share": [0.25, 0.5, 0.25],
            "flag": [True, False, True],
            "name": ["a", None, "c"],
            "day": [date(2004, 1, 2), None, date(2005, 5, 31)],
            "stamp": pd.to_datetime(["2004-01-02", "2004-01-03 10:00", None], format="ISO8601"),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "category": pd.Categorical(["x", "y", None]),
        }
    )
    assert records(frame) == _value_by_value(frame)
    got = records(frame)
    assert got[1]["money"] is None and got[2]["money"] is None
    assert got[0]["count"] == 1 and type(got[0]["count"]) is int
    assert got[0]["day"] == "2004-01-02" and got[1]["stamp"] == "2004-01-03T10:00:00"


def test_empty_and_columnless_frames():
    assert records(pd.DataFrame({"a": pd.Series([], dtype="int64")})) == []
    assert records(pd.DataFrame(index=range(2))) == [{}, {}]


def test_whole_day_timestamps_are_written_at_once_as_their_dates():
    frame = pd.DataFrame(
        {
            "days": pd.to_datetime(["2004-01-02", "2005-05-31"]),
            "with_gap": pd.to_datetime(["2004-01-02", None]),
            "aware": pd.to_datetime(["2004-01-02", "2004-01-03"]).tz_localize("UTC"),
            "text": pd.array(["a", None], dtype="str"),
        }
    )
    assert records(frame) == _value_by_value(frame)
    assert [r["days"] for r in records(frame)] == ["2004-01-02", "2005-05-31"]


def test_dumps_writes_the_document_json_dumps_of_jsonable_writes():
    import json
    from datetime import UTC, datetime
    from decimal import Decimal

    from salesdash.api.respond import dumps

    body = {
        "data": [{"a": np.int64(3), "b": np.float64("nan"), "c": float("inf"), "d": date(2005, 1, 2)}],
        "meta": {
            "stamp": pd.Timestamp("2005-01-01"),
            "at": pd.Timestamp("2005-01-01 10:30"),
            "aware": datetime(2005, 1, 2, 3, 4, 5, tzinfo=UTC),
            "none": [pd.NaT, pd.NA, None],
            "money": Decimal("1.25"),
            "flag": np.bool_(True),
            "keys": {1: "a", date(2005, 1, 1): 2},
            "tuple": (1, 2),
            "text": "Société Générale, 東京",
            "big": 1e16,
        },
    }
    assert json.loads(dumps(body)) == json.loads(json.dumps(jsonable(body), ensure_ascii=False))
