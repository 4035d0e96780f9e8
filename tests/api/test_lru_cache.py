"""The API's result cache: bounded by entries and by bytes, least recently used out first, thread-safe."""

import threading

from salesdash.api.cache import LRUCache


def test_entry_bound_evicts_the_least_recently_used():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)
    assert len(cache) == 2


def test_byte_bound():
    cache = LRUCache(100, max_bytes=10)
    cache.put("a", "x", 4)
    cache.put("b", "y", 4)
    cache.put("c", "z", 4)  # 12 bytes > 10: a goes
    assert cache.get("a") is None and cache.get("b") == "y" and cache.get("c") == "z"
    assert cache.stats()["bytes"] == 8
    cache.put("huge", "w", 11)  # bigger than the whole budget: not cached, nothing evicted
    assert cache.get("huge") is None and len(cache) == 2
    cache.put("b", "y2", 2)  # replacing an entry counts its new size only
    assert cache.stats()["bytes"] == 6


def test_size_zero_disables():
    cache = LRUCache(0)
    cache.put("a", 1)
    assert cache.get("a") is None and len(cache) == 0


def test_concurrent_use_keeps_the_bounds():
    cache = LRUCache(50, max_bytes=400)

    def work(n: int) -> None:
        for i in range(2000):
            cache.put((n, i % 80), i, 7)
            cache.get((n, (i * 7) % 80))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = cache.stats()
    assert stats["entries"] <= 50 and stats["bytes"] <= 400
    assert stats["bytes"] == 7 * stats["entries"]
    assert stats["hits"] + stats["misses"] == 8 * 2000
