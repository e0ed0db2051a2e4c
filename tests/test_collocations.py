"""Collocations (bigrams, trigrams by G² and PMI) and the sentence co-occurrence graph."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from themes_data import SAMPLE, national, sample

from textmine.collocations import COLLOCATION_COLUMNS, collocations, cooccurrence_graph
from textmine.dfm import build_dfm


@pytest.fixture(scope="module")
def recent():
    return national((2015, 2016, 2017, 2018, 2019))


@pytest.fixture(scope="module")
def table(recent):
    return collocations(recent[1], min_count=3)


def test_known_phrases_rank_high(table):
    assert list(table.columns) == COLLOCATION_COLUMNS
    assert table["g2"].is_monotonic_decreasing
    top = set(table.head(30)["tokens"])
    assert {"习近平 同志", "各级 政府"} <= top, sorted(top)
    assert "退休 人员 基本养老金" in set(table["tokens"])
    assert (table["n"] >= 3).all()
    assert set(table["length"]) == {2, 3}
    trigrams = table[table["length"] == 3]
    assert len(trigrams) > 20


def test_pmi_and_g2_by_hand(recent, table):
    _, tokens = recent
    row = table[table["tokens"] == table.loc[0, "tokens"]].iloc[0]
    first, second = row["tokens"].split()
    words = tokens[tokens["token"].str.contains(r"\w", regex=True)]
    n_words = len(words)
    n_first = (words["token"] == first).sum()
    n_second = (words["token"] == second).sum()
    assert row["pmi"] == pytest.approx(np.log2(row["n"] * n_words / (n_first * n_second)))
    assert row["g2"] > 0


def test_sequences_are_adjacent_in_the_text(recent, table):
    clean, _ = recent
    text = "\n".join(clean.documents["text"])
    assert all(c in text for c in table.head(200)["collocation"])
    # nothing bridges punctuation or a sentence end
    assert not table["collocation"].str.contains(r"[，。；、：]").any()


def test_stopwords_never_join_a_collocation(recent, table):
    _, tokens = recent
    stops = set(tokens.loc[tokens["is_stop"], "token"])
    parts = {p for t in table["tokens"] for p in t.split()}
    assert not parts & stops


def test_cooccurrence_graph_weights_count_sentences(recent):
    _, tokens = recent
    graph = cooccurrence_graph(tokens, min_count=3)
    assert graph.number_of_edges() > 1000
    partner, data = max(graph["就业"].items(), key=lambda item: (item[1]["weight"], item[0]))
    pair = tokens[tokens["token"].isin(["就业", partner])]
    both = pair.groupby(["doc_id", "sent_id"])["token"].nunique().eq(2).sum()
    assert data["weight"] == both > 10
    assert all(d["weight"] >= 3 for _, _, d in graph.edges(data=True))
    assert graph.nodes["就业"]["n"] == (tokens["token"] == "就业").sum()


def test_graph_from_a_matrix_and_windows():
    clean, tokens = sample()
    dfm = build_dfm(tokens, unit="paragraph", sentences=clean.sentences)
    from_dfm = cooccurrence_graph(dfm, min_count=1)
    from_tokens = cooccurrence_graph(tokens, min_count=1)
    assert sorted(from_dfm.edges(data="weight")) == sorted(from_tokens.edges(data="weight"))
    narrow = cooccurrence_graph(tokens, window=3, min_count=1)
    assert narrow.number_of_edges() < from_tokens.number_of_edges()
    assert {frozenset(e) for e in narrow.edges()} <= {frozenset(e) for e in from_tokens.edges()}
    with pytest.raises(ValueError, match="window"):
        cooccurrence_graph(tokens, window=1)


def test_empty_result_has_the_columns():
    tokens = pd.DataFrame({"doc_id": ["a"] * 3, "sent_id": [0, 0, 0], "token_id": [0, 1, 2],
                           "token": ["改革", "，", "开放"], "pos": ["vn", "x", "v"],
                           "is_stop": [False, True, False]})
    assert list(collocations(tokens, min_count=1).columns) == COLLOCATION_COLUMNS
    assert collocations(tokens, min_count=1).empty


def test_command_line_collocations(capsys):
    from io import StringIO

    from textmine.cli import main

    assert main(["collocations", str(SAMPLE), "--min-count", "2", "--sort-by", "pmi", "-q"]) == 0
    table = pd.read_csv(StringIO(capsys.readouterr().out))
    assert list(table.columns) == COLLOCATION_COLUMNS
    assert table["pmi"].is_monotonic_decreasing and (table["n"] >= 2).all()
