"""KWIC: matches of phrases and regexes with character or token context, cut at sentences."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from textmine.clean import clean_text
from textmine.concordance import KWIC_COLUMNS, kwic

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"
NATIONAL = ROOT.parent / "shared" / "corpora" / "gov-work-reports-national"


@pytest.fixture(scope="module")
def raw() -> str:
    return SAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def text(raw: str) -> str:
    return clean_text(raw).text


def test_phrase_in_characters(raw: str, text: str) -> None:
    table = kwic(raw, "党建引领", window=10)
    assert list(table.columns) == KWIC_COLUMNS
    assert len(table) == text.count("党建引领") > 3
    for r in table.itertuples():
        assert text[r.start:r.end] == r.match == "党建引领"
        assert len(r.left) <= 10 and len(r.right) <= 10
        assert r.left == re.sub(r"\s*\n\s*", " ", text[max(0, r.start - 10):r.start])
        assert r.right == re.sub(r"\s*\n\s*", " ", text[r.end:r.end + 10])
    assert table["start"].is_monotonic_increasing


def test_regex_and_literal_special_characters(raw: str) -> None:
    coined = kwic(raw, r"“[^“”]{2,10}”(?:工程|治理模式)", regex=True)
    assert list(coined["match"]) == ["“万人下乡、千村提升”工程", "“万人下乡、千村提升”工程",
                                     "“领航赋能”工程", "“红色楼委会”治理模式"]
    # Without regex=True a pattern is a literal phrase: “+” is a plus sign.
    plus = kwic(raw, "党支部+合作社+农户")
    assert list(plus["match"]) == ["党支部+合作社+农户"]


def test_cut_at_sentence(raw: str, text: str) -> None:
    clean = clean_text(raw)
    table = kwic(raw, "第一书记", window=200, cut_at_sentence=True)
    assert len(table) == text.count("第一书记")
    for r in table.itertuples():
        sent = clean.sentences.set_index("sent_id").loc[r.sent_id]
        assert sent.start <= r.start and r.end <= sent.end
        assert r.left + r.match + r.right == sent.text


def test_token_window(raw: str) -> None:
    from textmine.segment import tokenize

    tokens = tokenize(raw, kinds=None, use_cache=False)
    table = kwic(raw, "羊肚菌", window=3, unit="token", tokens=tokens)
    assert len(table) >= 5
    for r in table.itertuples():
        doc = tokens[tokens["doc_id"] == r.doc_id]
        left = doc[(doc["end"] <= r.start) & (doc["start"] >= r.start - len(r.left))]
        right = doc[(doc["start"] >= r.end) & (doc["end"] <= r.end + len(r.right))]
        assert len(left) <= 3 and len(right) <= 3
    first = table.iloc[0]
    assert first["right"] and first["left"]


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="invalid regular expression"):
        kwic("文本", "([", regex=True)
    with pytest.raises(ValueError, match="empty"):
        kwic("文本", "")
    with pytest.raises(ValueError, match="unit"):
        kwic("文本", "文", unit="word")
    assert kwic("文本", "不在").empty


def test_export_roundtrip(raw: str, tmp_path: Path) -> None:
    from textmine.tables import read_table, write_table

    table = kwic(raw, "网格", window=8)
    write_table(table, tmp_path / "kwic.csv")
    back = read_table(tmp_path / "kwic.csv")
    pd.testing.assert_frame_equal(back.fillna(""), table.fillna(""), check_dtype=False)


def test_national_reports_across_documents() -> None:
    if not NATIONAL.is_dir():
        pytest.skip("../shared/corpora not available")
    from textmine.corpus import load_corpus

    files = [NATIONAL / f"{year}.txt" for year in (2014, 2015, 2016, 2017)]
    corpus = load_corpus(files)
    table = kwic(corpus, "供给侧结构性改革", window=15)
    texts = {p.stem: p.read_text(encoding="utf-8") for p in files}
    per_doc = table.groupby("doc_id").size().to_dict()
    assert "2014" not in per_doc and "2015" not in per_doc
    assert per_doc["2016"] == texts["2016"].count("供给侧结构性改革")
    assert per_doc["2017"] == texts["2017"].count("供给侧结构性改革")


def test_command_line(capsys) -> None:
    from textmine.cli import main

    assert main(["kwic", "万人下乡", str(SAMPLE), "--window", "5", "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ",".join(KWIC_COLUMNS) and len(lines) == 3
    assert lines[1].endswith(",济南实施“,万人下乡,、千村提升")
    with pytest.raises(SystemExit, match="invalid regular expression"):
        main(["kwic", "([", str(SAMPLE), "--regex", "-q"])
