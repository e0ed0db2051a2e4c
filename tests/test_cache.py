"""The cache returns what was stored, and never a torn or corrupt entry."""

from __future__ import annotations

import pickle

from textmine.cache import Cache, atomic_write_bytes, make_key


def test_round_trip_and_counts(tmp_path):
    cache = Cache(tmp_path)
    calls = []
    compute = lambda: calls.append(1) or {"tokens": ["羊肚菌", "葫芦套村"]}  # noqa: E731
    key = make_key("葫芦套村的羊肚菌", "lexicon-v1")
    assert cache.get_or_compute("tokens", key, compute) == {"tokens": ["羊肚菌", "葫芦套村"]}
    assert cache.get_or_compute("tokens", key, compute) == {"tokens": ["羊肚菌", "葫芦套村"]}
    assert (cache.misses, cache.hits, len(calls)) == (1, 1, 1)


def test_keys_change_with_any_part():
    assert make_key("a", 1) != make_key("a", 2)
    assert make_key("ab", "c") != make_key("a", "bc")
    assert make_key(("x", 1)) == make_key(("x", 1))


def test_corrupt_entry_is_dropped_and_recomputed(tmp_path):
    cache = Cache(tmp_path)
    key = make_key("doc")
    cache.put("ns", key, [1, 2, 3])
    path = cache._path("ns", key)
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0xFF  # flip a bit of the payload
    path.write_bytes(bytes(blob))
    assert cache.get("ns", key) == (False, None)
    assert not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob[:10])  # a torn write
    assert cache.get("ns", key) == (False, None)


def test_disabled_cache_stores_nothing(tmp_path):
    cache = Cache(tmp_path, enabled=False)
    cache.put("ns", "k", 1)
    assert cache.get("ns", "k") == (False, None)
    assert not any(tmp_path.iterdir())


def test_cache_pickles_for_workers(tmp_path):
    cache = pickle.loads(pickle.dumps(Cache(tmp_path)))
    cache.put("ns", "k", "值")
    assert Cache(tmp_path).get("ns", "k") == (True, "值")


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "sub" / "table.csv"
    atomic_write_bytes(target, b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in target.parent.iterdir()] == ["table.csv"]


def test_parquet_bytes_ignore_run_statistics():
    import pandas as pd

    from textmine.tables import table_bytes

    df = pd.DataFrame({"token": ["羊肚菌", "葫芦套村"], "n": [3, 2]})
    before = table_bytes(df, "parquet")
    df.attrs["cache"] = {"hits": 7}
    assert table_bytes(df, "parquet") == before
    assert df.attrs == {"cache": {"hits": 7}}
