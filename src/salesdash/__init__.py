"""salesdash: sales analytics with one definition of every metric.

``salesdash.open(database_url)`` gives the views as pandas DataFrames (see docs/python.md); nothing is imported or
connected until it is called.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

# pandera imports pyspark.pandas whenever pyspark is installed (the Spark store needs it), and pyspark then warns
# about pandas 3 on every command. salesdash does not use pyspark.pandas: the warning is noise for the user.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

__version__ = "0.1.0"

if TYPE_CHECKING:
    from salesdash.session import Session


def open(database_url: str | None = None) -> Session:
    """The views of the store at ``database_url`` as DataFrames (default: ``SALESDASH_DATABASE_URL``)."""
    from salesdash.session import open as open_session

    return open_session(database_url)


__all__ = ["__version__", "open"]
