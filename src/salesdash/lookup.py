"""Case-insensitive lookups over the values of a filter (customer names), built once per data version.

A customer filter checks its value against every customer in the data, and ``GET /api/customers`` searches
them as the user types. At 200K customers, building a dictionary of case-folded names per request cost ~40 ms
and a "did you mean" over every name seconds; :class:`NameIndex` is built once with the filter options of a
data version (``ApiState.filter_options``) and answers each lookup in microseconds to milliseconds:

- :meth:`match`: the stored name of a value given in any case (or None);
- :meth:`search`: names starting with the text first, then names containing it, each alphabetically;
- :meth:`suggest`: close matches for a value that is not in the data, among the names that share its first
  letters (difflib over a bounded set of candidates, not over every name).
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterable

SUGGESTION_CANDIDATES = 1000  # names difflib compares a wrong value with, at most (an error path: bounded)


class NameIndex:
    def __init__(self, names: Iterable[str]) -> None:
        self.names: list[str] = sorted(set(names), key=lambda n: (n.casefold(), n))
        self.folded: list[str] = [n.casefold() for n in self.names]
        self._by_fold: dict[str, str] = {}
        for fold, name in zip(self.folded, self.names, strict=True):
            self._by_fold.setdefault(fold, name)

    def __len__(self) -> int:
        return len(self.names)

    def match(self, value: str) -> str | None:
        return self._by_fold.get(value.casefold())

    def _prefixed(self, prefix: str) -> range:
        lo = bisect.bisect_left(self.folded, prefix)
        hi = bisect.bisect_left(self.folded, prefix + "\U0010ffff")
        return range(lo, hi)

    def search(self, text: str, limit: int) -> tuple[list[str], int]:
        """Up to ``limit`` names that start with ``text`` (any case), then names that contain it, and how many
        names match in all. An empty text matches every name (alphabetically)."""
        needle = text.strip().casefold()
        if not needle:
            return self.names[:limit], len(self.names)
        starting = self._prefixed(needle)
        found = [self.names[i] for i in starting[:limit]]
        total = len(starting)
        for i, fold in enumerate(self.folded):
            if needle in fold and not fold.startswith(needle):
                total += 1
                if len(found) < limit:
                    found.append(self.names[i])
        return found, total

    def suggest(self, value: str, n: int = 3) -> list[str]:
        folded = value.strip().casefold()
        candidates: list[str] = []
        for width in (3, 2, 1):
            if len(folded) >= width:
                near = self._prefixed(folded[:width])
                if len(near) >= n or width == 1:
                    candidates = [self.names[i] for i in near[:SUGGESTION_CANDIDATES]]
                    break
        if len(self.names) <= SUGGESTION_CANDIDATES:
            candidates = self.names
        return difflib.get_close_matches(value, candidates, n=n, cutoff=0.6)


__all__ = ["NameIndex"]
