"""The shared span detector: figures, dates and formulations, non-overlapping and whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from textmine.spans import Span, detect_spans, figure_spans

SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "jinan-party-building-report.txt"
CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def texts_of(text: str, kind: str | None = None) -> list[str]:
    return [s.text for s in detect_spans(text) if kind is None or s.kind == kind]


def test_sample_report_figures_are_whole_spans() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    quantities = texts_of(text, "quantity")
    for figure in ["2278人", "300余斤", "200余斤", "40余万元", "1053人", "805名", "30万元以下",
                   "78件", "14万多名", "3个", "1.3万多名", "64岁", "160余处", "500个", "110个",
                   "24小时"]:
        assert figure in quantities
    assert "2021年年底" in texts_of(text, "date")


def test_span_is_the_figure_not_the_words_around_it() -> None:
    assert texts_of("共选派第一书记2278人，平均年龄42.7岁") == ["2278人", "42.7岁"]


@pytest.mark.parametrize("text", [
    "第一书记", "一直以来", "推动标识统一", "一批“后起之秀”", "共建一带一路", "狠抓两委班子建设",
    "做好六稳工作", "三去一降一补", "一是加强领导，二是完善制度", "第一，坚持党的领导",
    "国发〔2024〕1号", "电话0531-86123456", "实施“四个一批”选配计划", "建设“五个村居”",
    "四个一批", "三个代表", "两个维护", "5G网络", "COVID-19", "万人下乡、千村提升",
])
def test_not_figures(text: str) -> None:
    assert [s for s in figure_spans(text) if s.kind == "quantity"] == []


@pytest.mark.parametrize(("text", "span"), [
    ("销售三百余斤", "三百余斤"), ("共一千零五十三人", "一千零五十三人"), ("两千名", "两千名"),
    ("二十余年", "二十余年"), ("壹万贰仟元", "壹万贰仟元"), ("百分之三十", "百分之三十"),
    ("增长0.5个百分点", "0.5个百分点"), ("三分之一", "三分之一"), ("翻一番", "翻一番"),
    ("下降2.3%", "2.3%"), ("3至5年", "3至5年"), ("30%—40%", "30%—40%"), ("五六百人", "五六百人"),
    ("3.5万亿千瓦时", "3.5万亿千瓦时"), ("第十一个五年规划", "第十一个五年规划"),
    ("１２３０万人", "１２３０万人"),
])
def test_figures_in_every_form(text: str, span: str) -> None:
    assert texts_of(text) == [span]


@pytest.mark.parametrize(("text", "span"), [
    ("一九八三年", "一九八三年"), ("２０２１年１月１日", "２０２１年１月１日"),
    ("二〇〇一年", "二〇〇一年"), ("3月5日", "3月5日"), ("20世纪50年代", "20世纪50年代"),
])
def test_dates(text: str, span: str) -> None:
    assert texts_of(text, "date") == [span]


def test_spans_sorted_non_overlapping_and_within_sentences() -> None:
    paths = sorted((CORPORA / "gov-work-reports-national").glob("19*.txt"))[:6]
    if not paths:
        pytest.skip("../shared/corpora not available")
    for path in paths:
        text = path.read_text(encoding="utf-8")
        spans = detect_spans(text)
        assert spans
        for a, b in zip(spans, spans[1:], strict=False):
            assert a.end <= b.start
        for s in spans:
            assert isinstance(s, Span) and text[s.start:s.end] == s.text
            assert not any(c in s.text for c in "\n。！？；")
        for s in figure_spans(text):
            assert not any(c in s.text for c in "，、：")
            assert s.pos in {"mq", "t", "nz"}


def test_traditional_figures_read_like_simplified_ones_at_the_same_offsets() -> None:
    from textmine.spans import simplified

    text = "全國糧食產量達到三億七千萬噸，兩個\ud800 😀 新建學校五百個。"
    # one code point for one: offsets into the simplified text are offsets into the original
    assert simplified(text) == "全国糧食产量达到三亿七千万吨，两个\ud800 😀 新建学校五百个。"
    found = figure_spans(text)
    assert [(s.start, s.end, s.text) for s in found] == [
        (8, 14, "三億七千萬噸"), (25, 28, "五百個")]
    assert all(text[s.start:s.end] == s.text for s in found)


def test_suffix_shortcut_knows_every_last_character_of_the_suffixes():
    """`_without_suffix_and_per` tries the suffix substitution only on figures ending in one of
    `_SUFFIX_LAST`: a suffix added to `_SUFFIX` with another last character must be added there
    too, or figures ending in it would keep it as part of their unit."""
    from textmine.spans import _SUFFIX_LAST, _SUFFIX_RE

    heads = ["", "以", "之", "左", "上", "倍", "年", "3"]
    missed = {chr(c) for c in range(0x20, 0xA000) for head in heads
              if _SUFFIX_RE.search(head + chr(c)) and chr(c) not in _SUFFIX_LAST}
    assert not missed
    assert {s[-1] for s in ("以上", "以下", "左右", "之内", "上下", "倍多")} <= _SUFFIX_LAST
