"""Shared test data for the theme stages (dfm, keywords, keyness, collocations, topics).

The national government work reports are cleaned and tokenized once per test session (cached
here), because every theme test file needs them.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
NATIONAL = SHARED / "gov-work-reports-national"
SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "jinan-party-building-report.txt"


def require_national() -> Path:
    if not (NATIONAL / "metadata.csv").exists():
        pytest.skip("../shared/corpora not available")
    return NATIONAL


def _tokenize(clean) -> pd.DataFrame:
    from textmine.segment import tokenize

    return tokenize(clean)


@functools.cache
def national(years: tuple[int, ...] | None = None):
    """(clean corpus, tokens) of the national reports, optionally only some years."""
    from textmine.clean import clean_corpus
    from textmine.corpus import load_corpus

    root = require_national()
    files = sorted(root.glob("*.txt"))
    if years is not None:
        files = [f for f in files if int(f.stem) in years]
    corpus = load_corpus(files)
    clean = clean_corpus(corpus)
    return clean, _tokenize(clean)


@functools.cache
def sample():
    """(clean corpus, tokens) of the sample party-building report."""
    from textmine.clean import clean_corpus
    from textmine.corpus import load_corpus

    clean = clean_corpus(load_corpus([SAMPLE]))
    return clean, _tokenize(clean)
