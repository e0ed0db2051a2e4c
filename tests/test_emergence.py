"""Emergence: terms and formulations dated to the first group (year) that has them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from textmine.emergence import EMERGENCE_COLUMNS, emergence

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = ROOT.parent / "shared" / "corpora" / "gov-work-reports-national"

# First years checked with grep over the report files (the corpus lacks 2020 and 2023).
KNOWN_FIRST_YEARS = {
    "三个代表": 2001, "科学发展观": 2004, "八项规定": 2014, "精准扶贫": 2014, "一带一路": 2015,
    "新常态": 2015, "四个全面": 2015, "互联网+": 2015, "供给侧结构性改革": 2016, "脱贫攻坚": 2016,
    "三严三实": 2016, "放管服": 2017, "三去一降一补": 2017, "高质量发展": 2018, "乡村振兴": 2018,
    "两个维护": 2019, "六稳": 2021, "六保": 2021, "新发展格局": 2021, "碳达峰": 2021,
    "新质生产力": 2024,
}


def test_terms_table_rules() -> None:
    terms = pd.DataFrame({
        "doc_id": ["a", "a", "b", "b", "b", "c", "c", "c"],
        "term": ["旧词", "新词", "旧词", "新词", "一次性", "新词", "后来词", "后来词"],
    })
    years = {"a": 2001, "b": 2002, "c": 2003}
    table = emergence(terms, groups=years)
    assert list(table.columns) == EMERGENCE_COLUMNS
    # 旧词 and 新词 are in the earliest year; 一次性 does not recur; 后来词 occurs in one year only.
    assert table.empty
    table = emergence(terms, groups=years, include_first_group=True)
    assert table.set_index("term").loc["新词"].tolist() == ["term", 2001, 1, 3, 3]
    table = emergence(terms, groups=years, min_groups=1)
    assert table.set_index("term").loc["后来词"].tolist() == ["term", 2003, 2, 1, 2]
    assert "一次性" not in set(table["term"])  # min_total=2


def test_year_from_doc_id_and_formulations_table() -> None:
    formulations = pd.DataFrame({
        "doc_id": ["2014", "2015", "2015", "2016", "2016"],
        "surface": ["改革", "一带一路", "金宝贝", "一带一路", "改革"],
        "kind": ["coinage", "numbered", "quote", "numbered", "coinage"],
    })
    table = emergence(formulations)
    assert table.to_dict("records") == [{"term": "一带一路", "kind": "formulation",
                                         "first_group": 2015, "n_first": 1, "n_groups": 2,
                                         "total": 2}]


def test_missing_group_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="region"):
        emergence(pd.DataFrame({"doc_id": ["x"], "term": ["词"]}), by="region")


@pytest.fixture(scope="module")
def national() -> tuple[pd.DataFrame, dict[int, str]]:
    if not NATIONAL.is_dir():
        pytest.skip("../shared/corpora not available")
    from textmine.clean import clean_corpus
    from textmine.corpus import Corpus, load_corpus

    corpus = load_corpus(NATIONAL)
    docs = corpus.documents[~corpus.documents["doc_id"].str.contains("/")]  # not resolutions/
    clean = clean_corpus(Corpus(docs.reset_index(drop=True)))
    texts = {int(y): t for y, t in zip(clean.documents["year"], clean.documents["text"],
                                       strict=True)}
    return emergence(clean, max_ngram=2), texts, clean


def test_national_reports_date_known_formulations(national) -> None:
    table, texts, clean = national
    first = table.set_index("term")["first_group"]
    for term, year in KNOWN_FIRST_YEARS.items():
        # The corpus itself agrees with the hand-checked year …
        assert min(y for y, t in texts.items() if term in t) == year, term
    # … emergence finds the formulations and the policy terms the tokenizer keeps whole …
    for term in ("一带一路", "四个全面", "三严三实", "放管服", "三去一降一补", "六稳", "六保",
                 "两个维护", "八项规定", "供给侧结构性改革", "高质量发展", "新常态", "科学发展观"):
        assert term in first.index, term
        assert int(first[term]) == KNOWN_FIRST_YEARS[term], term
    # … and dates every one of them when they are named as a vocabulary.
    watched = emergence(clean, vocabulary=list(KNOWN_FIRST_YEARS))
    watched = watched[watched["term"].isin(KNOWN_FIRST_YEARS)].set_index("term")
    assert watched["first_group"].astype(int).to_dict() == KNOWN_FIRST_YEARS


def test_national_formulations_are_kind_formulation(national) -> None:
    table, _, _ = national
    kinds = table.set_index("term")["kind"]
    for term in ("一带一路", "三去一降一补", "六稳", "八项规定", "两个维护"):
        assert kinds[term] == "formulation"
    assert table["first_group"].astype(int).is_monotonic_increasing


def test_command_line(capsys) -> None:
    if not NATIONAL.is_dir():
        pytest.skip("../shared/corpora not available")
    from textmine.cli import main

    files = [str(NATIONAL / f"{year}.txt") for year in (2014, 2015, 2016, 2017)]
    assert main(["emergence", *files, "--by", "year", "-q"]) == 0
    table = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert list(table.columns) == EMERGENCE_COLUMNS
    row = table.set_index("term").loc["供给侧结构性改革"]
    assert (row["first_group"], row["n_groups"]) == (2016, 2)
    with pytest.raises(SystemExit, match="no metadata column"):
        main(["emergence", *files, "--by", "province", "-q"])
