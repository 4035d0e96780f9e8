"""Case-insensitive lookups over the values of a filter (customer names), built once per data version.

A customer filter checks its value against every customer in the data, and ``GET /api/customers`` searches
them as the user types. At 200K customers, building a dictionary of case-folded names per request cost ~40 ms
and a "did you mean" over every name seconds; :class:`NameIndex` holds the names read with the filter options of a
data version (``ApiState.filter_options``), is indexed once, at the version's first lookup, and answers each
lookup in microseconds to milliseconds:

- :meth:`match`: the stored name of a value given in any case (or None);
- :meth:`search`: names starting with the text first, then names containing it, each alphabetically;
- :meth:`suggest`: close matches for a value that is not in the data, among the names that share its first
  letters (difflib over a bounded set of candidates, not over every name).
"""

from __future__ import annotations

import bisect
import difflib
import threading
from collections.abc import Callable, Iterable

SUGGESTION_CANDIDATES = 1000  # names difflib compares a wrong value with, at most (an error path: bounded)


class NameIndex:
    """The index is built on first use (a data version's first customer filter or search), not with the filter
    options: the first request of a version, which reads the options, does not pay for sorting 100,000s of
    names it does not look up (``len`` needs only the distinct names)."""

    def __init__(self, names: Iterable[str]) -> None:
        self._given: list[str] | set[str] | None = list(names)
        self._load: Callable[[], Iterable[str]] | None = None
        self._count: int | None = None
        self._built: tuple[list[str], list[str], dict[str, str]] | None = None
        self._lock = threading.Lock()

    @classmethod
    def deferred(cls, count: int, load: Callable[[], Iterable[str]]) -> NameIndex:
        """An index of ``count`` names that ``load`` reads at the first lookup (not before: counting them is
        enough for GET /api/filters)."""
        index = cls(())
        index._given, index._load, index._count = None, load, count
        return index

    def _index(self) -> tuple[list[str], list[str], dict[str, str]]:
        built = self._built
        if built is None:
            with self._lock:  # concurrent first lookups build it once
                built = self._built
                if built is None:
                    given = (
                        self._given if self._given is not None else list(self._load() if self._load else ())
                    )
                    # by (case-folded name, name): a stable sort by the fold of the names in code-point order
                    names = sorted(set(given))
                    names.sort(key=str.casefold)
                    folded = list(map(str.casefold, names))
                    # the first name of each fold wins (zip reversed: later keys overwrite earlier ones)
                    by_fold = dict(zip(reversed(folded), reversed(names), strict=True))
                    built = self._built = (names, folded, by_fold)
        return built

    @property
    def names(self) -> list[str]:
        return self._index()[0]

    @property
    def folded(self) -> list[str]:
        return self._index()[1]

    def __len__(self) -> int:
        if self._built is not None:
            return len(self._built[0])
        if self._given is None:
            return self._count or 0
        if not isinstance(self._given, set):
            self._given = set(self._given)  # distinct once, without the sort
        return len(self._given)

    def match(self, value: str) -> str | None:
        return self._index()[2].get(value.casefold())

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
