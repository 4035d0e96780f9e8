"""Values from data or from a user, made inert for the two places that parse text as markup.

- :func:`md` for every Streamlit call that renders Markdown (``st.markdown``, ``st.caption``, ``st.info`` /
  ``warning`` / ``error`` / ``success``, ``st.toast``, ``help=`` tooltips, ``st.metric`` and ``st.expander``
  labels, ``st.subheader``): Streamlit's Markdown renders images and links (``![x](url)`` makes every viewer's
  browser fetch ``url``), GitHub autolinks (``http://...``, ``www.``, ``a@b.c``), LaTeX (``$...$``), colour and
  icon directives (``:red[...]``, ``:material/...:``), headings and lists at a line start, and code spans that a
  backtick breaks out of.
- :func:`plotly_text` for every string a Plotly figure shows (axis categories, labels, hover text, titles):
  Plotly renders ``<b>``, ``<i>``, ``<a href>``, ``<span style>`` and ``<br>`` in them.

Every page builds text that holds a data value with these; the dashboard's own constant wording needs neither.
Widget options (``st.selectbox`` etc.) and ``st.dataframe`` cells are plain text in Streamlit already.
"""

from __future__ import annotations

import re
import string
from typing import Any

# CommonMark: a backslash before any ASCII punctuation character makes it literal, so escaping every one of them
# leaves no Markdown, HTML, autolink, LaTeX or directive syntax (the text reads the same).
_MARKDOWN_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")
_WHITESPACE = re.compile(r"\s+")
# Plotly splits a label at tags first and only then decodes entities in the text between them, so "&lt;b&gt;"
# is shown as the text "<b>": the brackets are all that must be escaped (an "&" stays as written).
_PLOTLY_ENTITIES = {"<": "&lt;", ">": "&gt;"}
# Some syntax is found in the text after the Markdown is parsed, when the escapes are gone: GitHub autolinks
# (``http://...``, ``www.``, ``a@b.c``) and Streamlit's emoji and icon shortcodes (``:smile:``,
# ``:material/home:``). A word joiner (U+2060, invisible) after every colon, inside ``www.`` and before ``@``
# keeps them plain text.
_WORD_JOINER = "\u2060"
_FOUND_AFTER_PARSING = re.compile(r"(\\:)|(?i:(www)(?=\\\.))|(?=\\@)")


def md(value: Any) -> str:
    """``value`` as literal text inside Streamlit Markdown (on one line: a newline could start a block)."""
    text = _WHITESPACE.sub(" ", str(value)).strip()
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    return _FOUND_AFTER_PARSING.sub(lambda m: (m.group(1) or m.group(2) or "") + _WORD_JOINER, escaped)


def md_list(values: Any, sep: str = ", ") -> str:
    """Several values, each escaped, joined by ``sep`` (the dashboard's own separator)."""
    return sep.join(md(v) for v in values)


def plotly_text(value: Any) -> str:
    """``value`` as literal text in a Plotly label: no tag (``<b>``, ``<a href>``, ``<br>``) is ever one."""
    return "".join(_PLOTLY_ENTITIES.get(ch, ch) for ch in str(value))
