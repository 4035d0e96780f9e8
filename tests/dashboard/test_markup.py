"""The escaping helpers: a value reads the same after escaping, and no markup character is left bare."""

from __future__ import annotations

import re
import string

import pytest

from salesdash.markup import md, md_list, plotly_text
from tests.dashboard.conftest import readable

VALUES = [
    "![c](http://127.0.0.1:8599/x.png)",
    "**Bold** <b>b</b> <img src=x> $x^2$ \\$y\\$",
    ':red[Red] `code` <a href="http://e.example">a</a> www.example.com a@b.example :smile:',
    "line\nbreak # heading\n- item",
    "Saveley & Henriot, Co.",
    "",
]


@pytest.mark.parametrize("value", VALUES)
def test_md_reads_as_written_and_leaves_no_markup(value: str):
    escaped = md(value)
    assert readable(escaped) == " ".join(value.split())
    assert "\n" not in escaped
    # every ASCII punctuation character is escaped (CommonMark: a backslash makes it literal)
    assert (
        re.search(
            r"(?<!\\)[" + re.escape(string.punctuation.replace("\\", "")) + "]", escaped.replace("\\\\", "")
        )
        is None
    )
    assert "http:/" not in escaped and "www." not in escaped.lower()


def test_md_list_escapes_each_value():
    assert md_list(["a*b", "c_d"]) == "a\\*b, c\\_d"


def test_plotly_text_leaves_no_tag():
    assert (
        plotly_text('<a href="x">a</a> & <b>b</b>') == '&lt;a href="x"&gt;a&lt;/a&gt; & &lt;b&gt;b&lt;/b&gt;'
    )
