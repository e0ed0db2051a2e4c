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
