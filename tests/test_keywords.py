"""Keywords: TF-IDF (corpus IDF, jieba IDF fallback) and TextRank, per document and per group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from themes_data import SAMPLE, national, sample

from textmine.dfm import build_dfm
from textmine.keywords import (
    KEYWORD_COLUMNS,
    MIN_UNITS_FOR_IDF,
    corpus_idf,
    jieba_idf,
    keywords,
    textrank_scores,
)


@pytest.fixture(scope="module")
def reports():
    clean, tokens = national()
    return build_dfm(tokens, documents=clean.documents)


def test_tfidf_by_year_finds_each_years_themes(reports):
    table = keywords(reports, by="year", top_n=15)
    assert list(table.columns) == KEYWORD_COLUMNS
    assert table["group"].nunique() == len(reports)
    top = table.groupby("group")["term"].apply(set)
    assert {"五年计划", "公私合营"} <= top["1955"]
    assert {"疫情", "市场主体"} <= top["2021"]
    # a word used in every report scores zero with the corpus IDF
    assert "发展" not in top["2021"]
    first = table[table["group"] == "2021"]
    assert list(first["rank"]) == list(range(1, 16))
    assert first["score"].is_monotonic_decreasing
    counts = reports.subset(reports.units["year"] == 2021).term_counts()
    assert (first["n"].to_numpy() == counts[first["term"]].to_numpy()).all()


def test_per_document_equals_per_doc_id_group(reports):
    per_unit = keywords(reports, top_n=5)
    per_doc = keywords(reports, by="doc_id", top_n=5)
    pd.testing.assert_frame_equal(per_unit.sort_values(["group", "rank"]).reset_index(drop=True),
                                  per_doc.reset_index(drop=True))


def test_idf_falls_back_to_jieba_for_a_tiny_corpus():
    clean, tokens = sample()
    dfm = build_dfm(tokens)
    assert len(dfm) < MIN_UNITS_FOR_IDF
    table, median = jieba_idf()
    assert table["发展"] < median  # a common word has a low general-language IDF
    auto = keywords(dfm, top_n=10)
    forced = keywords(dfm, top_n=10, idf="jieba")
    pd.testing.assert_frame_equal(auto, forced)
    assert {"济南", "党建引领"} & set(auto["term"])
    # the corpus IDF of a single document is zero for every term: useless, hence the fallback
    assert np.allclose(corpus_idf(dfm), np.log(2 / 2))


def test_textrank_respects_our_tokens_and_ranks_central_terms(reports):
    table = keywords(reports.subset(reports.units["year"].isin([2021, 2022])), by="year",
                     method="textrank", top_n=20)
    assert set(table["term"]) <= set(reports.features)
    top = table.groupby("group")["term"].apply(list)
    assert "发展" in top["2021"][:10]  # the hub of the co-occurrence graph
    assert table.groupby("group")["score"].apply(lambda s: s.is_monotonic_decreasing).all()


def test_textrank_scores_on_a_toy_graph():
    # 中心 co-occurs with everything: it must rank first; sentences never link across
    scores = textrank_scores([["中心", "甲"], ["中心", "乙"], ["中心", "丙"], ["丁", "戊"]])
    assert max(scores, key=scores.get) == "中心"
    assert scores["甲"] == pytest.approx(scores["乙"])
    assert sum(scores.values()) == pytest.approx(1.0)


def test_keywords_are_deterministic_and_reject_bad_options(reports):
    recent = reports.subset(reports.units["year"] >= 2019)
    first = keywords(recent, by="year", top_n=5, method="textrank")
    second = keywords(recent, by="year", top_n=5, method="textrank")
    pd.testing.assert_frame_equal(first, second)
    with pytest.raises(ValueError, match="method"):
        keywords(reports, method="lsa")
    with pytest.raises(KeyError, match="province"):
        keywords(reports, by="province")


def test_command_line_keywords(capsys, tmp_path):
    from textmine.cli import main
    from textmine.tables import read_table

    out = tmp_path / "keywords.jsonl"
    assert main(["keywords", str(SAMPLE), "--method", "textrank", "--top", "8", "--out",
                 str(out), "-q"]) == 0
    table = read_table(out)
    assert list(table.columns) == KEYWORD_COLUMNS
    assert len(table) == 8 and "济南" in set(table["term"])
