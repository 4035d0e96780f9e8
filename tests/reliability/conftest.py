from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.support import write_big_csv

BIG_COPIES = 12_500  # x 8 lines of small.csv = 100,000 order lines (~16 MB): a load stage of a few seconds


@pytest.fixture(scope="session")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid 100,000-line CSV (small.csv's orders repeated with new order numbers)."""
    path = tmp_path_factory.mktemp("big") / "big.csv"
    write_big_csv(path, BIG_COPIES)
    return path
