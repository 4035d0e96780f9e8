"""Pure: which views a new data version changed (no Streamlit here).

A page records, for each view it drew, the URL and ETag of every API answer the view shows
(``components/context.py``); answers drawn outside any live view belong to :data:`PAGE`. Under a new data
version each of those URLs is asked again conditionally, giving its current ETag (the API's digest of the
answer's content, ``api/respond.py``). A view changed when any of its answers has another ETag now, or none
(the API refused it, or sent no validator): only those views are drawn again.
"""

from __future__ import annotations

from collections.abc import Mapping

PAGE = "page"  # the answers drawn outside any live view: when one changes, the whole page runs again

Drawn = Mapping[str, Mapping[str, str | None]]  # view -> {URL: ETag it was drawn with}


def changed_views(drawn: Drawn, current: Mapping[str, str | None]) -> list[str]:
    """The views of ``drawn`` (in their order) with an answer whose ETag is not ``current``'s for its URL; a
    URL missing from ``current`` or without an ETag on either side counts as changed."""
    return [
        view
        for view, answers in drawn.items()
        if any(etag is None or current.get(url) != etag for url, etag in answers.items())
    ]
