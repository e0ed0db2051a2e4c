"""Formulations (提法): the sample cases, the span contract, P/R on hand annotations."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from textmine.clean import clean_text
from textmine.corpus import Corpus
from textmine.formulations import (
    FORMULATION_COLUMNS,
    evaluate_formulations,
    extract_formulations,
    formulation_spans,
    scan_formulations,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"
CORPORA = ROOT.parent / "shared" / "corpora"
ANNOTATIONS = ROOT / "tests" / "annotations" / "formulations.jsonl"


@pytest.fixture(scope="module")
def sample_table() -> pd.DataFrame:
    return extract_formulations(SAMPLE.read_text(encoding="utf-8"), include_quotes=True)


def row(table: pd.DataFrame, surface: str) -> pd.Series:
    rows = table[table["surface"] == surface]
    assert len(rows), f"{surface} not found"
    return rows.iloc[0]


def test_columns_and_offsets(sample_table: pd.DataFrame) -> None:
    assert list(sample_table.columns) == FORMULATION_COLUMNS
    text = clean_text(SAMPLE.read_text(encoding="utf-8")).text
    for r in sample_table.itertuples():
        assert text[r.start:r.end] == r.surface
        assert r.surface in r.sentence


@pytest.mark.parametrize("surface, number, members", [
    ("五个村居", 5, ("活力", "富裕", "和美", "数字", "清廉")),
    ("四个一批", 4, ("在外回引", "本土发掘", "递进选任", "机关下派")),
    ("党建三原色", 3, ("红色党建", "绿色生态", "蓝色和谐")),
    ("两委", 2, ()),
    ("双员双管家", 4, ()),
])
def test_numbered_with_members(sample_table: pd.DataFrame, surface: str, number: int,
                               members: tuple[str, ...]) -> None:
    r = row(sample_table, surface)
    assert (r.kind, r.number, tuple(r.members)) == ("numbered", number, members)


@pytest.mark.parametrize("surface, kind", [
    ("红色楼委会", "coinage"), ("泉城红色物业", "coinage"), ("领航赋能", "coinage"),
    ("党支部+合作社+农户", "coinage"), ("专属网格员+党建指导员", "coinage"),
    ("万人下乡、千村提升", "slogan"), ("精兵强将、真金白银", "slogan"),
    ("金宝贝", "quote"), ("拦路虎", "quote"), ("博士书记", "quote"), ("小伞", "quote"),
    ("土专家", "quote"), ("最后一公里", "quote"), ("红色引擎", "quote"),
])
def test_kinds_in_sample(sample_table: pd.DataFrame, surface: str, kind: str) -> None:
    assert row(sample_table, surface).kind == kind


def test_direct_speech_is_a_quote_but_its_inner_coinage_is_kept(sample_table) -> None:
    speech = sample_table[sample_table["surface"].str.startswith("我们实行")]
    assert list(speech["kind"]) == ["quote"]
    without = extract_formulations(SAMPLE.read_text(encoding="utf-8"))
    assert "quote" not in set(without["kind"])
    assert "专属网格员+党建指导员" in set(without["surface"])


@pytest.mark.parametrize("sentence, expected", [
    ("深入推进供给侧结构性改革，扎实做好“六稳”工作、全面落实“六保”任务。",
     [("六稳", "numbered", 6), ("六保", "numbered", 6)]),
    ("重点抓好“三去一降一补”五大任务。", [("三去一降一补", "numbered", 5)]),
    ("深入开展三严三实专题教育，锲而不舍落实中央八项规定精神。",
     [("三严三实", "numbered", 6), ("八项规定", "numbered", 8)]),
    ("高质量共建“一带一路”。", [("一带一路", "numbered", 2)]),
    ("高质量完成“十四五”规划目标任务。", []),
    ("他三心二意，四面八方都去过。", []),
    ("研读第一章第三条的内容。", []),
])
def test_national_formulations(sentence: str, expected: list) -> None:
    got = [(f.surface, f.kind, f.number) for f in scan_formulations(sentence)]
    assert got == expected


def test_members_listed_after_the_formulation() -> None:
    (f,) = scan_formulations("推进“三去一降一补”（去产能、去库存、去杠杆、降成本、补短板）。")
    assert f.members == ("去产能", "去库存", "去杠杆", "降成本", "补短板")


def test_formulation_spans_contract() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    for sentence in clean_text(text).sentences["text"]:
        spans = formulation_spans(sentence)
        assert spans == sorted(spans, key=lambda s: s.start)
        for a, b in zip(spans, spans[1:], strict=False):
            assert a.end <= b.start
        for s in spans:
            assert s.kind == "formulation" and sentence[s.start:s.end] == s.text
            assert not any(ch in s.text for ch in "。！？\n“”")
    assert [s.text for s in formulation_spans("狠抓“两委”班子建设，有个“金宝贝”。")] == ["两委"]


def test_deterministic(sample_table: pd.DataFrame) -> None:
    again = extract_formulations(SAMPLE.read_text(encoding="utf-8"), include_quotes=True)
    pd.testing.assert_frame_equal(sample_table, again)


def test_rejects_other_inputs() -> None:
    with pytest.raises(TypeError):
        extract_formulations(42)


def load_annotations() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predicted and annotated tables over the annotated regions of tests/annotations."""
    records = [json.loads(line) for line in ANNOTATIONS.read_text(encoding="utf-8").splitlines()]
    texts, gold = {}, []
    for rec in records:
        path = SAMPLE if rec["corpus"] == "sample" else CORPORA / rec["corpus"] / rec["file"]
        doc_id = f"{rec['corpus']}/{rec['file']}"
        texts[doc_id] = path.read_text(encoding="utf-8-sig")
        gold += [{"doc_id": doc_id, **f} for f in rec["formulations"]]
    predicted = extract_formulations(Corpus.from_texts(texts))
    keep = []
    for rec in records:
        doc_id = f"{rec['corpus']}/{rec['file']}"
        text = clean_text(texts[doc_id]).text
        lo = text.index(rec["from"]) if rec["from"] else 0
        hi = text.index(rec["until"]) if rec["until"] else len(text)
        rows = predicted[predicted["doc_id"] == doc_id]
        keep.append(rows[(rows["start"] >= lo) & (rows["start"] < hi)])
    return pd.concat(keep, ignore_index=True), pd.DataFrame(gold)


def test_precision_and_recall_on_hand_annotations() -> None:
    if not CORPORA.is_dir():
        pytest.skip("../shared/corpora not available")
    predicted, gold = load_annotations()
    assert gold["doc_id"].nunique() >= 12
    assert (gold["kind"] != "quote").sum() >= 150
    scores = evaluate_formulations(predicted, gold)
    print(scores)
    assert scores["recall"] >= 0.9, scores
    assert scores["precision"] >= 0.85, scores


def test_command_line(capsys, tmp_path: Path) -> None:
    from textmine.cli import main

    assert main(["formulations", str(SAMPLE), "-q"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ",".join(FORMULATION_COLUMNS)
    assert ",五个村居,numbered,5,活力、富裕、和美、数字、清廉," in out
    target = tmp_path / "f.jsonl"
    assert main(["formulations", str(SAMPLE), "-q", "--include-quotes", "--out", str(target)]) == 0
    table = pd.read_json(target, lines=True)
    assert "拦路虎" in set(table.loc[table["kind"] == "quote", "surface"])
    assert ["活力", "富裕", "和美", "数字", "清廉"] in list(table["members"])


def test_straight_and_corner_quotes() -> None:
    found = scan_formulations('实施楼宇党建"领航赋能"工程，实施「四个一批」选配计划，'
                              '有个"金宝贝"。')
    assert [(f.surface, f.kind) for f in found] == [("领航赋能", "coinage"),
                                                    ("四个一批", "numbered")]


@pytest.mark.parametrize("sentence, members", [
    ("实现总产、单产、播种面积“三增长”。", ("总产", "单产", "播种面积")),
    ("外贸实现规模、增速和质量“三提升”，", ("规模", "增速", "质量")),
    ("统筹推进经济建设、政治建设、文化建设、社会建设、生态文明建设“五位一体”总体布局。",
     ("经济建设", "政治建设", "文化建设", "社会建设", "生态文明建设")),
    ("落实“四个不摘”：摘帽不摘责任、摘帽不摘政策、摘帽不摘帮扶、摘帽不摘监管。",
     ("摘帽不摘责任", "摘帽不摘政策", "摘帽不摘帮扶", "摘帽不摘监管")),
    ("推进稳就业、稳金融“六稳”工作。", ()),  # two listed, six counted: not its members
])
def test_members_of_national_formulations(sentence: str, members: tuple[str, ...]) -> None:
    (f,) = scan_formulations(sentence)
    assert f.members == members


@pytest.mark.parametrize("before", [
    "坚持总产、单产、播种面积", "推进稳就业、稳金融和稳外贸", "活力、富裕、和美\n",
    "活力、富裕\n\n", "，前言。A、B2、c", "没有列举的一句话", "摘帽、", "、", "", "甲、乙”",
    "（一）甲、乙、丙",
])
def test_list_search_from_the_last_run_agrees_with_the_full_search(before: str) -> None:
    from textmine.formulations import _LIST_ITEMS, _list_ending

    full, short = _LIST_ITEMS.search(before), _list_ending(before)
    assert (full and (full.span(), full.group())) == (short and (short.span(), short.group()))


def test_every_lexicon_entry_passes_the_pre_check() -> None:
    from textmine.formulations import NUMBERED_LEXICON, _candidate_re

    for entry in NUMBERED_LEXICON:
        assert _candidate_re().search(f"推进{entry}工作"), entry
        assert scan_formulations(f"推进{entry}工作"), entry
