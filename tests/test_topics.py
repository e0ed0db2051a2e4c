"""Topic models: coherence, stability, model selection, tidy tables, determinism, prevalence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from themes_data import SAMPLE, national, sample

from textmine.topics import (
    SELECTION_COLUMNS,
    fit_topics,
    npmi_coherence,
    topic_dfm,
    topic_stability,
)


@pytest.fixture(scope="module")
def eras():
    """Two 1950s reports and two 2020s reports, by paragraph."""
    clean, tokens = national((1955, 1957, 2021, 2022))
    return topic_dfm(tokens, sentences=clean.sentences, documents=clean.documents)


@pytest.fixture(scope="module")
def eras_model(eras):
    return fit_topics(eras, k=(3, 5), seeds=(1,), random_state=0)


def test_npmi_by_hand():
    windows = ["甲乙丙", "甲乙", "丙丁", "丁"]
    # 甲, 乙 always together: P(甲乙) = P(甲) = P(乙) = 1/2 → NPMI = ln2 / ln2 = 1
    assert npmi_coherence([["甲", "乙"]], windows)[0] == pytest.approx(1.0)
    # 甲 and 丁 never meet → −1; a tokenized window works like a text
    assert npmi_coherence([["甲", "丁"]], [{"甲"}, {"丁"}])[0] == pytest.approx(-1.0)
    p_ac, p_a, p_c = 1 / 4, 2 / 4, 2 / 4
    expected = np.log(p_ac / (p_a * p_c)) / -np.log(p_ac)
    assert npmi_coherence([["甲", "丙"]], windows)[0] == pytest.approx(expected)


def test_stability_of_identical_and_disjoint_topics():
    topics = [["农业", "粮食"], ["外交", "和平"]]
    assert topic_stability(topics, [list(reversed(topics))]) == pytest.approx(1.0)
    assert topic_stability(topics, [[["军队"], ["教育"]]]) == pytest.approx(0.0)


def test_selection_curve_and_tables(eras, eras_model):
    model = eras_model
    assert list(model.selection.columns) == SELECTION_COLUMNS
    assert list(model.selection["k"]) == [3, 5]
    assert model.selection["chosen"].sum() == 1
    assert model.k == int(model.selection.loc[model.selection["chosen"], "k"].iloc[0])
    assert model.selection["stability"].between(0, 1).all()
    assert list(model.topic_terms.columns) == ["topic", "term", "weight", "rank"]
    assert list(model.doc_topics.columns) == ["unit", "topic", "weight"]
    assert len(model.doc_topics) == len(eras) * model.k
    sums = model.doc_topics.groupby("unit")["weight"].sum()
    assert np.allclose(sums[sums > 0], 1.0)
    assert set(model.topic_terms["term"]) <= set(eras.features)
    assert len(model.labels) == model.k
    assert model.labels["label"].str.count("·").eq(2).all()
    # topics are numbered by prevalence
    share = model.doc_topics.groupby("topic")["weight"].sum()
    assert share.iloc[0] >= share.iloc[-1]


def test_topics_separate_the_eras(eras_model):
    prevalence = eras_model.prevalence("year")
    assert list(prevalence.columns) == ["year", "topic", "label", "prevalence"]
    assert np.allclose(prevalence.groupby("year")["prevalence"].sum(), 1.0)
    table = prevalence.pivot(index="topic", columns="year", values="prevalence")
    fifties, twenties = table[[1955, 1957]].mean(axis=1), table[[2021, 2022]].mean(axis=1)
    terms = eras_model.topic_terms.groupby("topic")["term"].apply(set)
    planning = {"第一个五年计划", "五年计划", "基本建设", "工业", "手工业", "重工业",
                "资本主义", "合作社", "公私合营"}
    recent = {"疫情", "市场主体", "新冠肺炎疫情", "脱贫攻坚", "高质量发展", "疫情防控",
              "减税降费", "习近平", "新时代"}
    planning_topics = [t for t in terms.index if terms[t] & planning]
    assert planning_topics, terms
    assert all(fifties[t] > 3 * twenties[t] for t in planning_topics)
    assert terms[twenties.idxmax()] & recent, terms[twenties.idxmax()]


def test_same_seed_same_tables(eras, eras_model):
    again = fit_topics(eras, k=(3, 5), seeds=(1,), random_state=0)
    pd.testing.assert_frame_equal(again.topic_terms, eras_model.topic_terms)
    pd.testing.assert_frame_equal(again.doc_topics, eras_model.doc_topics)
    pd.testing.assert_frame_equal(again.selection, eras_model.selection)
    pd.testing.assert_frame_equal(again.labels, eras_model.labels)


def test_lda_is_deterministic_too(eras):
    first = fit_topics(eras, method="lda", k=3, seeds=(), max_iter=10)
    second = fit_topics(eras, method="lda", k=3, seeds=(), max_iter=10)
    pd.testing.assert_frame_equal(first.topic_terms, second.topic_terms)
    pd.testing.assert_frame_equal(first.doc_topics, second.doc_topics)
    assert first.selection["stability"].isna().all()


def test_a_single_report_by_paragraph():
    clean, tokens = sample()
    dfm = topic_dfm(tokens, sentences=clean.sentences, documents=clean.documents)
    assert dfm.unit == "paragraph" and len(dfm) > 20
    model = fit_topics(dfm, k=(2, 3), seeds=(1,))
    assert model.k in (2, 3)
    # the report's rural-industry passage (羊肚菌 mushrooms in 葫芦套村) is a topic of its own
    top = model.topic_terms.groupby("topic")["term"].apply(list)
    assert any("羊肚菌" in terms[:5] for terms in top), top
    with pytest.raises(ValueError, match="paragraph"):
        fit_topics(dfm, k=20)


def test_command_line_topics(capsys, tmp_path):
    from io import StringIO

    from textmine.cli import main
    from textmine.tables import read_table

    doc_topics, selection = tmp_path / "doc_topics.parquet", tmp_path / "selection.csv"
    assert main(["topics", str(SAMPLE), "--k", "2-3", "--seeds", "1", "--doc-topics",
                 str(doc_topics), "--selection", str(selection), "-q"]) == 0
    terms = pd.read_csv(StringIO(capsys.readouterr().out))
    assert list(terms.columns) == ["topic", "term", "weight", "rank"]
    assert list(read_table(doc_topics).columns) == ["unit", "topic", "weight"]
    curve = read_table(selection)
    assert list(curve["k"]) == [2, 3] and curve["chosen"].sum() == 1
    assert terms["topic"].nunique() == int(curve.loc[curve["chosen"], "k"].iloc[0])


def test_minibatch_and_sliding_window_options(eras):
    model = fit_topics(eras, k=3, seeds=(), minibatch=True, windows=20)
    again = fit_topics(eras, k=3, seeds=(), minibatch=True, windows=20)
    pd.testing.assert_frame_equal(model.topic_terms, again.topic_terms)
    assert model.k == 3 and np.isfinite(model.selection["coherence"]).all()
    with pytest.raises(ValueError, match="method"):
        fit_topics(eras, method="lsa", k=3)
