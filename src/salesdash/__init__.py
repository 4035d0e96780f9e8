"""salesdash: sales analytics with one definition of every metric.

``salesdash.open(database_url)`` gives the views as pandas DataFrames (see docs/python.md); nothing is imported or
connected until it is called.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from salesdash.session import Session


def open(database_url: str | None = None) -> Session:
    """The views of the store at ``database_url`` as DataFrames (default: ``SALESDASH_DATABASE_URL``)."""
    from salesdash.session import open as open_session

    return open_session(database_url)


def bundled_sample() -> Path:
    """The bundled sample (2,823 order lines), shipped in the package: found wherever salesdash runs."""
    return Path(__file__).parent / "data" / "sales_data_sample.csv"


__all__ = ["__version__", "bundled_sample", "open"]
