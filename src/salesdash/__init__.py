"""salesdash: sales analytics with one definition of every metric.

``salesdash.open(database_url)`` gives the views as pandas DataFrames (see docs/python.md); nothing is imported or
connected until it is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from salesdash.session import Session


def open(database_url: str | None = None) -> Session:
    """The views of the store at ``database_url`` as DataFrames (default: ``SALESDASH_DATABASE_URL``)."""
    from salesdash.session import open as open_session

    return open_session(database_url)


__all__ = ["__version__", "open"]
