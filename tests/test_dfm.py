"""Document-feature matrix: counts, filters, units, grouping, tidy output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from themes_data import national, sample

from textmine.dfm import build_dfm, filter_tokens


@pytest.fixture(scope="module")
def sample_data():
    return sample()


def test_counts_match_the_kept_tokens(sample_data):
    clean, tokens = sample_data
    dfm = build_dfm(tokens)
    assert dfm.shape[0] == 1
    assert list(dfm.features) == sorted(dfm.features)
    kept = filter_tokens(tokens)
    expected = kept["token"].value_counts()
    counts = dfm.term_counts()
    assert counts["济南"] == expected["济南"] == (tokens["token"] == "济南").sum()
    assert counts.sum() == len(kept)
    # punctuation, stopwords, numbers and one-character tokens are not features
    assert "，" not in counts.index and "的" not in counts.index
    assert all(len(f) >= 2 for f in dfm.features)
    assert not any(f.isdigit() for f in dfm.features)


def test_pos_filters_use_tag_prefixes(sample_data):
    _, tokens = sample_data
    nouns = build_dfm(tokens, pos_keep=("n",))
    tags = tokens.drop_duplicates("token").set_index("token")["pos"]
    assert all(str(tags[f]).startswith("n") for f in nouns.features)
    assert "党建引领" in nouns.features or "基层治理" in nouns.features
    no_verbs = build_dfm(tokens, pos_drop=("v",))
    assert not any(str(tags[f]).startswith("v") for f in no_verbs.features)


def test_paragraph_units_and_grouping_back_to_documents(sample_data):
    clean, tokens = sample_data
    by_paragraph = build_dfm(tokens, unit="paragraph", sentences=clean.sentences,
                             documents=clean.documents)
    by_document = build_dfm(tokens, documents=clean.documents)
    paragraphs = clean.sentences.loc[clean.sentences["sent_id"].isin(tokens["sent_id"]),
                                     "block_id"].nunique()
    assert len(by_paragraph) == paragraphs > 10
    assert by_paragraph.units["unit"].str.match(r".+#p\d+$").all()
    grouped = by_paragraph.group("doc_id")
    assert list(grouped.features) == list(by_document.features)
    assert (grouped.counts != by_document.counts).nnz == 0
    assert grouped.units.loc[0, "n_units"] == paragraphs
    with pytest.raises(ValueError, match="sentences"):
        build_dfm(tokens, unit="paragraph")


def test_min_df_max_df_bound_document_frequency(sample_data):
    clean, tokens = sample_data
    dfm = build_dfm(tokens, unit="paragraph", sentences=clean.sentences, min_df=3, max_df=0.3)
    doc_freq = np.diff(dfm.counts.tocsc().indptr)
    assert doc_freq.min() >= 3
    assert doc_freq.max() <= 0.3 * len(dfm)
    with pytest.raises(ValueError, match="no feature"):
        build_dfm(tokens, min_df=5)  # one document: nothing is in 5 documents


def test_to_frame_is_tidy_and_deterministic(sample_data):
    clean, tokens = sample_data
    first = build_dfm(tokens, unit="sentence").to_frame()
    pd.testing.assert_frame_equal(first, build_dfm(tokens, unit="sentence").to_frame())
    assert list(first.columns) == ["unit", "term", "n"]
    assert first["n"].min() >= 1
    # shuffled tokens give the same counts (units follow first appearance, terms are sorted)
    shuffled = build_dfm(tokens.sample(frac=1.0, random_state=3), unit="sentence").to_frame()
    key = ["unit", "term"]
    pd.testing.assert_frame_equal(first.sort_values(key).reset_index(drop=True),
                                  shuffled.sort_values(key).reset_index(drop=True))


def test_metadata_columns_group_the_national_reports():
    clean, tokens = national((2016, 2021, 2022))
    dfm = build_dfm(tokens, documents=clean.documents)
    assert {"year", "title"} <= set(dfm.units.columns)
    assert "text" not in dfm.units.columns
    by_year = dfm.group("year")
    assert list(by_year.units["unit"]) == ["2016", "2021", "2022"]
    idx = dfm.feature_index()["疫情"]
    per_year = dict(zip(by_year.units["unit"], by_year.counts[:, idx].toarray().ravel(),
                        strict=True))
    assert per_year["2021"] > 5 and per_year["2022"] > 5 and per_year["2016"] == 0
    with pytest.raises(KeyError, match="province"):
        dfm.group("province")


def test_empty_tokens_are_refused():
    with pytest.raises(ValueError, match="empty"):
        build_dfm(pd.DataFrame(columns=["doc_id", "sent_id", "token_id", "token", "pos"]))
