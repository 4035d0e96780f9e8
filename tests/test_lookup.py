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


def test_counting_names_does_not_index_them_and_concurrent_first_lookups_agree():
    """The first request of a data version counts the customers (GET /api/filters) without paying for the sort;
    the index is built at the first lookup, once, whichever thread gets there first."""
    import threading

    names = _names(50_000)
    index = NameIndex([*names, names[0]])  # a repeated name counts once
    assert len(index) == 50_000
    assert index._built is None  # counted, not indexed
    answers: list[str | None] = []
    ready = threading.Barrier(4)

    def look_up() -> None:
        ready.wait()
        answers.append(index.match(names[123].upper()))

    threads = [threading.Thread(target=look_up) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [names[123]] * 4
    assert len(index) == 50_000 and index.names == sorted(set(names), key=lambda n: (n.casefold(), n))


def test_ties_between_names_that_differ_only_in_case_keep_code_point_order():
    index = NameIndex(["toys", "Toys", "TOYS", "Alpha"])
    assert index.names == ["Alpha", "TOYS", "Toys", "toys"]
    assert index.match("tOyS") == "TOYS"  # the first of the fold, as listed


def test_a_deferred_index_gives_its_count_without_reading_and_reads_once_at_the_first_lookup():
    """The API's customer and product-code indexes: GET /api/filters needs only how many there are; the names
    are read (one query) when a filter or a search first needs them, however many lookups start at once."""
    import threading

    names = _names(20_000)
    reads: list[int] = []

    def load() -> list[str]:
        reads.append(1)
        return list(names)

    index = NameIndex.deferred(len(names), load)
    assert len(index) == 20_000 and reads == []
    ready = threading.Barrier(3)
    found: list[tuple[list[str], int]] = []

    def search() -> None:
        ready.wait()
        found.append(index.search("land of toys #1999", 5))

    threads = [threading.Thread(target=search) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reads == [1]
    assert found[0] == found[1] == found[2] and found[0][0][0].casefold().startswith("land of toys #1999")
    assert index.match(names[7].casefold()) == names[7] and len(index) == 20_000
