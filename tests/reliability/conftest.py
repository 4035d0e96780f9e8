from __future__ import annotations

from pathlib import Path

import pytest

from salesdash.generate import generate
from tests.conftest import SAMPLE_CSV

BIG_ROWS = 100_000  # ~19 MB: a load stage of a few seconds on every engine


@pytest.fixture(scope="session")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid 100,000-line CSV written by `salesdash generate` (whole orders resampled from the sample)."""
    return generate(rows=BIG_ROWS, out=tmp_path_factory.mktemp("big") / "big.csv", seed=6, source=SAMPLE_CSV)
