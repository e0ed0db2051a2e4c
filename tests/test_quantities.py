"""Figures: the hand-annotated gold set, value semantics, the table and the command line."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from textmine.corpus import Corpus
from textmine.quantities import (
    QUANTITY_COLUMNS,
    chinese_to_number,
    extract_quantities,
    parse_quantity,
    quantities_of_text,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"
CORPORA = ROOT.parent / "shared" / "corpora"
GOLD = ROOT / "tests" / "annotations" / "quantities.jsonl"
TEMPORAL = ("date", "year", "ordinal")


def gold_sentences() -> list[dict]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line]


def _locate(sentence: str, figures: list[dict]) -> list[tuple[int, int, dict]]:
    """Offsets of each gold surface in its sentence, in order."""
    out, pos = [], 0
    for fig in figures:
        start = sentence.find(fig["surface"], pos)
        if start < 0:
            start = sentence.find(fig["surface"])
        assert start >= 0, f"gold surface {fig['surface']!r} not in {sentence!r}"
        out.append((start, start + len(fig["surface"]), fig))
        pos = start + 1
    return out


def _same_value(a: float | None, b: float | None) -> bool:
    a = None if a is None or (isinstance(a, float) and math.isnan(a)) else a
    b = None if b is None or (isinstance(b, float) and math.isnan(b)) else b
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def score(sentences: list[dict], temporal: bool) -> tuple[float, float, int, int]:
    """Precision and recall: a prediction is right when it overlaps a gold figure of the same
    group and value, unit and qualifier agree."""
    n_pred = n_gold = right_pred = found_gold = 0
    for item in sentences:
        sentence = item["sentence"]
        gold = [g for g in _locate(sentence, item["figures"])
                if (g[2]["kind"] in TEMPORAL) == temporal]
        pred = [r for r in quantities_of_text(sentence) if (r["kind"] in TEMPORAL) == temporal]
        n_pred += len(pred)
        n_gold += len(gold)

        def agree(p: dict, g: tuple[int, int, dict]) -> bool:
            gs, ge, fig = g
            return (p["start"] < ge and gs < p["end"] and _same_value(p["value"], fig["value"])
                    and p["unit"] == fig["unit"] and p["qualifier"] == fig["qualifier"])

        right_pred += sum(any(agree(p, g) for g in gold) for p in pred)
        found_gold += sum(any(agree(p, g) for p in pred) for g in gold)
    return right_pred / max(n_pred, 1), found_gold / max(n_gold, 1), n_pred, n_gold


def test_gold_set_is_large_and_varied() -> None:
    sentences = gold_sentences()
    figures = [f for s in sentences for f in s["figures"]]
    quantities = [f for f in figures if f["kind"] not in TEMPORAL]
    assert len(quantities) >= 300
    assert len({s["doc"] for s in sentences}) >= 15
    genres = {s["doc"].split("/")[0] for s in sentences}
    assert {"gov-work-reports-national", "gov-work-reports-provincial-2025",
            "gov-work-reports-provincial-2026", "party-building-news", "cpc-congress-reports",
            "bench-laws", "corpus"} <= genres
    # Chinese-numeral and full-width-digit figures are both represented
    assert sum(bool(re.search("[一二三四五六七八九十百千万亿]", f["surface"])
                    and not re.search("[0-9０-９]", f["surface"])) for f in quantities) >= 60
    assert sum(bool(re.search("[０-９]", f["surface"])) for f in quantities) >= 5


def test_gold_sentences_come_from_the_corpora() -> None:
    if not CORPORA.is_dir():
        pytest.skip("../shared/corpora not available")
    texts: dict[str, str] = {}
    for item in gold_sentences():
        doc = item["doc"]
        if doc not in texts:
            path = ROOT / doc if doc.startswith("corpus/") else CORPORA / doc
            texts[doc] = re.sub(r"\s+", "", path.read_text(encoding="utf-8"))
        assert re.sub(r"\s+", "", item["sentence"]) in texts[doc], (doc, item["sentence"])


def test_precision_and_recall_on_the_gold_set() -> None:
    sentences = gold_sentences()
    p, r, n_pred, n_gold = score(sentences, temporal=False)
    print(f"quantities: precision {p:.3f} recall {r:.3f} ({n_pred} predicted, {n_gold} gold)")
    assert p >= 0.95 and r >= 0.95
    p, r, n_pred, n_gold = score(sentences, temporal=True)
    print(f"dates/years/ordinals: precision {p:.3f} recall {r:.3f} ({n_pred}, {n_gold})")
    assert p >= 0.95 and r >= 0.95


def test_sample_report_every_figure() -> None:
    table = extract_quantities(Corpus.from_texts({"jinan": SAMPLE.read_text(encoding="utf-8")}))
    assert list(table.columns) == QUANTITY_COLUMNS
    by_surface = {row.surface: row for row in table.itertuples()}
    expected = {
        "2278人": (2278, "人", "count", "exact"), "300余斤": (300, "斤", "weight", "more_than"),
        "200余斤": (200, "斤", "weight", "more_than"),
        "40余万元": (400_000, "元", "money", "more_than"), "1053人": (1053, "人", "count", "exact"),
        "805名": (805, "名", "count", "exact"), "30万元以下": (300_000, "元", "money", "at_most"),
        "78件": (78, "件", "count", "exact"), "14万多名": (140_000, "名", "count", "more_than"),
        "3个": (3, "个", "count", "exact"), "1.3万多名": (13_000, "名", "count", "more_than"),
        "64岁": (64, "岁", "age", "exact"), "160余处": (160, "处", "count", "more_than"),
        "500个": (500, "个", "count", "exact"), "110个": (110, "个", "count", "exact"),
        "24小时": (24, "小时", "duration", "exact"),
    }
    for surface, (value, unit, kind, qualifier) in expected.items():
        row = by_surface[surface]
        assert (row.value, row.unit, row.kind, row.qualifier) == (value, unit, kind, qualifier)
    assert by_surface["2021年年底"].kind == "date"
    assert by_surface["2278人"].measure == "第一书记"
    assert by_surface["300余斤"].measure == "新鲜羊肚菌"
    assert by_surface["300余斤"].time == "今年"
    assert by_surface["160余处"].time == "去年"
    text = SAMPLE.read_text(encoding="utf-8")
    for row in table.itertuples():  # offsets point into the cleaned text the corpus holds
        assert row.surface in row.sentence
    assert not any(s in by_surface for s in ("四个", "两委", "一批", "一直", "第一"))
    assert "42.7" in text


def test_value_semantics() -> None:
    def parsed(surface: str) -> tuple:
        q = parse_quantity(surface)
        return (q["value"], None if math.isnan(q["value_max"]) else q["value_max"], q["unit"],
                q["kind"], q["qualifier"])

    assert parsed("40余万元") == (400_000, None, "元", "money", "more_than")
    assert parsed("3.5亿千瓦") == (350_000_000, None, "千瓦", "energy", "exact")
    assert parsed("5.2%") == (5.2, None, "%", "percent", "exact")
    assert parsed("百分之三十") == (30, None, "%", "percent", "exact")
    assert parsed("0.5个百分点") == (0.5, None, "百分点", "percentage_point", "exact")
    assert parsed("翻一番") == (2, None, "倍", "multiple", "exact")
    assert parsed("翻两番") == (4, None, "倍", "multiple", "exact")
    assert parsed("3至5年") == (3, 5, "年", "duration", "range")
    assert parsed("30%—40%") == (30, 40, "%", "percent", "range")
    assert parsed("五六百人") == (500, 600, "人", "count", "range")
    assert parsed("30—40万元") == (300_000, 400_000, "元", "money", "range")
    assert parsed("十几个") == (10, None, "个", "count", "more_than")
    assert parsed("三分之一")[0] == pytest.approx(1 / 3)
    assert parsed("第十一个五年规划")[:1] + parsed("第十一个五年规划")[3:4] == (11, "ordinal")
    for numeral, value in [("一千零五十三", 1053), ("两千", 2000), ("壹万贰仟", 12000),
                           ("三百余", 300), ("一九八三", 1983),
                           ("二億七千八百零九萬三千一百", 278093100),
                           ("１２３０万", 12_300_000), ("1.14万亿", 1.14e12), ("三十六點九", 36.9),
                           ("34，250万", 342_500_000)]:
        assert chinese_to_number(numeral) == value


def test_negative_change_keeps_a_positive_value_and_the_direction_in_measure() -> None:
    (row,) = quantities_of_text("居民消费价格下降2.3%。")
    assert row["value"] == 2.3 and row["measure"].endswith("下降")
    (row,) = quantities_of_text("出口增长-2.3%。")
    assert row["value"] == -2.3


def test_context_qualifiers_and_measure() -> None:
    rows = quantities_of_text("国内生产总值增长5%左右，城镇新增就业1200万人以上，约3万人，不到5%，"
                              "超过100亿元，平均年龄42.7岁。")
    got = [(r["surface"], r["qualifier"]) for r in rows]
    assert got == [("5%左右", "about"), ("1200万人以上", "at_least"), ("3万人", "about"),
                   ("5%", "less_than"), ("100亿元", "more_than"), ("42.7岁", "average")]
    assert rows[0]["measure"] == "国内生产总值增长"


def test_kinds_selects_block_kinds_and_results_are_deterministic() -> None:
    corpus = Corpus.from_texts({"a": "今年新增就业1200万人。", "b": "粮食产量1.39万亿斤。"})
    first = extract_quantities(corpus)
    pd.testing.assert_frame_equal(first, extract_quantities(corpus))
    assert list(first["doc_id"]) == ["a", "b"]
    assert extract_quantities(corpus, kinds=("no-such-kind",)).empty
    assert extract_quantities("没有数字。").columns.tolist() == QUANTITY_COLUMNS


def test_national_reports_process_pool_matches_serial() -> None:
    paths = sorted((CORPORA / "gov-work-reports-national").glob("195*.txt"))[:2]
    if not paths:
        pytest.skip("../shared/corpora not available")
    corpus = Corpus.from_texts({p.stem: p.read_text(encoding="utf-8") for p in paths})
    serial = extract_quantities(corpus)
    assert len(serial) > 100
    pd.testing.assert_frame_equal(serial, extract_quantities(corpus, n_jobs=2))


def test_command_line_jsonl_from_standard_input() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "textmine", "quantities", "-", "--format", "jsonl", "-q"],
        input="今年累计销售新鲜羊肚菌300余斤，村集体增收40余万元。".encode(), capture_output=True,
        check=True)
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [(r["surface"], r["value"], r["unit"]) for r in rows] == [
        ("300余斤", 300.0, "斤"), ("40余万元", 400000.0, "元")]
    assert set(rows[0]) == set(QUANTITY_COLUMNS)


def test_figures_are_the_spans_of_the_shared_detector() -> None:
    from textmine.spans import detect_spans

    paths = sorted((CORPORA / "gov-work-reports-national").glob("19[5-8]*.txt"))[:4]
    if not paths:
        pytest.skip("../shared/corpora not available")
    for path in paths:
        text = path.read_text(encoding="utf-8")
        rows = quantities_of_text(text)
        assert rows
        for row in rows[:400]:
            sentence = row["sentence"]
            offset = text.index(sentence, max(0, row["start"] - len(sentence)))
            spans = {(s.start + offset, s.end + offset) for s in detect_spans(sentence)
                     if s.kind != "formulation"}
            start = row["start"] + (row["surface"][:1] in "-−负")
            assert (start, row["end"]) in spans, row["surface"]


def test_traditional_text_rows_are_the_same_with_shared_figures() -> None:
    from textmine.spans import figure_spans

    text = "一九五四年全國糧食產量達三千三百萬噸，比上年增長百分之十二點五。新建工廠二百個。"
    rows = quantities_of_text(text)
    assert rows
    assert quantities_of_text(text, figures=figure_spans(text)) == rows


def test_every_time_reference_holds_a_word_of_the_pre_check() -> None:
    """`_TIME_HINT` must find a word in every match of `_TIME` (it skips sentences without
    one): one example of each form of the pattern, and every match in the national reports."""
    from textmine.quantities import _TIME, _TIME_HINT

    examples = ["2021年", "二〇二一年3月5日", "2020年底", "2018年以来", "“十三五”时期",
                "“双减”期间", "十三五时期", "今年上半年", "近些年来", "过去五年", "今后3年",
                "近日", "目前", "当前", "到本世纪末", "上世纪末"]
    texts = examples + [p.read_text(encoding="utf-8")
                        for p in sorted((CORPORA / "gov-work-reports-national").glob("*.txt"))]
    matches = [m.group() for text in texts for m in _TIME.finditer(text)]
    assert all(_TIME.fullmatch(ex) for ex in examples)  # each example is one form
    missing = sorted({m for m in matches if not _TIME_HINT.search(m)})
    assert not missing, missing
