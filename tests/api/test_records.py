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
