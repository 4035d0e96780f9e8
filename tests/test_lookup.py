"""The per-data-version name index behind the customer filter and the customer search, at realistic size."""

from __future__ import annotations

import random

from salesdash.lookup import SUGGESTION_CANDIDATES, NameIndex


def _names(n: int) -> list[str]:
    rng = random.Random(7)
    stems = ["Mini Gifts", "Land of Toys", "Euro Shopping", "Québec Jouets", "Ångström AB", "toys & co"]
    return [f"{rng.choice(stems)} #{i}" for i in range(n)]


def test_match_is_case_insensitive_and_gives_the_stored_name():
    index = NameIndex(["Alpha Co", "Beta's Toys", "ÅNGSTRÖM AB"])
    assert index.match("alpha co") == "Alpha Co"
    assert index.match("ångström ab") == "ÅNGSTRÖM AB"
    assert index.match("Alpha") is None
    assert len(index) == 3


def test_search_at_200k_names_gives_prefix_matches_then_substring_matches():
    names = _names(200_000)
    index = NameIndex(names)
    found, total = index.search("LAND of toys #1999", 10)
    folded = [n.casefold() for n in names]
    needle = "land of toys #1999"
    starting = sorted(
        (n for n, f in zip(names, folded, strict=True) if f.startswith(needle)), key=str.casefold
    )
    containing = [n for n, f in zip(names, folded, strict=True) if needle in f and not f.startswith(needle)]
    assert total == len(starting) + len(containing)
    assert found == (starting + sorted(containing, key=str.casefold))[:10]
    found, total = index.search("#12345", 5)  # only substring matches
    assert all("#12345" in n for n in found) and len(found) == 5
    assert total == sum("#12345" in n for n in names)


def test_suggestions_look_only_at_names_sharing_the_first_letters():
    names = _names(200_000)
    index = NameIndex(names)
    suggestions = index.suggest("Mini Gifts #12")
    assert suggestions and all(s.casefold().startswith("min") for s in suggestions)
    small = NameIndex(["Mini Gifts Distributors Ltd.", "Muscle Machine Inc"])
    assert small.suggest("Mini Gift Distributors Ltd") == ["Mini Gifts Distributors Ltd."]
    assert SUGGESTION_CANDIDATES < 200_000
