"""Serial, process-pool and Dask runs of a document stage give identical tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from textmine.clean import clean_corpus
from textmine.corpus import load_corpus
from textmine.parallel import effective_jobs, map_documents

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpora"


def _length(text: str) -> int:
    return len(text)


def test_effective_jobs_follows_scikit_learn():
    assert effective_jobs(None) == 1
    assert effective_jobs(1) == 1
    assert effective_jobs(3) == 3
    assert effective_jobs(-1) >= 1


def test_pool_keeps_input_order():
    items = [f"第{i}段" * i for i in range(40)]
    assert map_documents(_length, items, n_jobs=2) == [len(t) for t in items]


@pytest.fixture(scope="module")
def corpus():
    folder = SHARED / "gov-work-reports-national"
    if not folder.is_dir():
        pytest.skip("../shared/corpora not available")
    return load_corpus([folder / f"{year}.txt" for year in (1954, 1980, 2000, 2025)])


def _assert_same(a, b):
    for name in ("documents", "blocks", "sentences", "ledger"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_clean_serial_equals_pool(corpus):
    _assert_same(clean_corpus(corpus), clean_corpus(corpus, n_jobs=2))


def test_clean_serial_equals_dask(corpus):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        _assert_same(clean_corpus(corpus), clean_corpus(corpus, scheduler=client))


class _CountsItsCopies:
    """Returns (process id, how many copies of this object that process unpickled)."""

    copies = 0

    def __setstate__(self, state):
        type(self).copies += 1
        self.__dict__.update(state)

    def __call__(self, item):
        import os

        return os.getpid(), type(self).copies


def test_pool_workers_get_the_function_once():
    """A function object (a tokenizer inside it) is not re-sent with every chunk of items."""
    results = map_documents(_CountsItsCopies(), list(range(60)), n_jobs=2, chunksize=1)
    assert {copies for _, copies in results} <= {0, 1}  # fork may hand the original over


def test_imap_ordered_keeps_order_and_reads_the_input_lazily():
    from textmine.parallel import Engine, imap_ordered

    pulled = []

    def items():
        for i in range(30):
            pulled.append(i)
            yield f"第{i}段" * (30 - i)  # later items are shorter: they finish first

    out = imap_ordered(_length, items(), n_jobs=2)
    first = next(out)
    with Engine(n_jobs=2) as engine:
        window = engine.window
    assert len(pulled) <= window + 1  # never the whole input at once
    assert [first, *out] == [len(f"第{i}段") * (30 - i) for i in range(30)]
    assert list(imap_ordered(_length, ["ab", "c"], n_jobs=1)) == [2, 1]
