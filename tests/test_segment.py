"""Segmentation: contract columns, offsets, lexicon terms, protected spans, jieba identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from textmine.segment import TOKEN_COLUMNS, Tokenizer, tokenize

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer()


def test_tokens_table_contract(tmp_path, tok):
    text = SAMPLE.read_text(encoding="utf-8")
    df = tokenize(text, tok, cache_dir=tmp_path)
    assert list(df.columns) == TOKEN_COLUMNS
    assert len(df) > 1000
    assert all(text[s:e] == t for t, s, e in zip(df["token"], df["start"], df["end"],
                                                 strict=True))
