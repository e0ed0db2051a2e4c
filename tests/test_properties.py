"""Property tests over every document stage: no exception on any string, offsets always valid.

For arbitrary text — Chinese report prose cut at random, digits and numerals, every kind of
whitespace, NULs and other control characters, zero-width and private-use characters, emoji
(with joiners and skin tones), traditional characters, combining marks, Markdown debris —

* clean: the ledger accounts for every raw character (`restore_raw()` gives the raw text back
  exactly), blocks and sentences are slices of the cleaned text, sentences lie in their block;
* tokenize: every token is `text[start:end]`, inside its sentence, tokens in order without
  overlap;
* spans: sorted, non-overlapping, inside the text, `span.text == text[start:end]`;
* quantities and formulations: `surface == text[start:end]`, inside their sentence.

Lone surrogates are valid Python strings but can never come out of a decoded file; the cleaner
refuses them with a ValueError that names the offset (tested below) rather than guessing.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from textmine.clean import as_clean_corpus, clean_text
from textmine.formulations import extract_formulations, scan_formulations
from textmine.quantities import extract_quantities
from textmine.segment import Tokenizer, tokenize
from textmine.spans import detect_spans

REPORT = ("村里人都知道，葫芦套村有个“红”管家。2023年，全村集体收入达到40余万元，"
          "平均年龄42.7岁的党员志愿者服务群众2278人次。坚持“四个一批”，推进“万人下乡、千村提升”。"
          "全年粮食产量１.４万亿斤，增长5%左右，比上年提高0.3个百分点，三分之一的村庄。"
          "二〇二四年三月五日，第十四届全国人民代表大会第二次会议。")
PIECES = [
    "\n", "\n\n", "\r\n", "\r", " ", "  ", "\t", "\u3000", "\u2028", "\u2029", "\x0c", "\x85",
    "\x00", "\x01", "\x1b", "\x7f", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad",
    "\ue000", "\uf8ff", "\U000f0000", "😀", "👨‍👩‍👧", "🇨🇳", "👍🏽", "e\u0301", "體國發萬億",
    "臺灣", "1 9 9 3 年", "２０２４年", "三百余万元", "3至5年", "30%—40%", "一是", "（１）",
    "# ", "**", "> ", "| a | b |", "---\ntitle: x\n---\n", "[1]", "http://a.b/c?d=1",
    "文/图 记者 夏侯凤超", "下载 打印 全屏 收藏", "。", "，", "“", "”", "《", "》", "（", ")",
    "……", "!", "?", ";", ":", ",", "42.7", "%", "万", "亿", "第", "个", "人", "元",
]

texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(st.sampled_from(PIECES),
                       st.integers(0, len(REPORT) - 1).flatmap(
                           lambda i: st.integers(i, min(len(REPORT), i + 40)).map(
                               lambda j: REPORT[i:j])),
                       st.text(max_size=6)), max_size=30).map("".join),
)
SETTINGS = settings(max_examples=70, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
NASTY = [
    "", " ", "\n\n\n", "\x00", "\ufeff", "\u200b\u200b", "。", "“", "2278人", "\r\n\r\n",
    "开头\u200b零宽\ue000私用😀表情\x00一个NUL。", "1 9 9 3 年\n\n岁，", "政府工作报\n告",
    "👨‍👩‍👧" * 5, "體國發" * 10, "\u2028\u2029\x85", "---\n---\n", "**\n**",
]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


def check_clean(raw: str) -> None:
    doc = clean_text(raw)
    text = doc.text
    assert doc.restore_raw() == raw
    ledger = doc.ledger
    for rs, re_, raw_text, ns, ne, new_text in zip(
            ledger["raw_start"], ledger["raw_end"], ledger["raw_text"], ledger["new_start"],
            ledger["new_end"], ledger["new_text"], strict=True):
        assert raw[rs:re_] == raw_text
        assert text[ns:ne] == new_text
    for s, e, t in zip(doc.blocks["start"], doc.blocks["end"], doc.blocks["text"], strict=True):
        assert 0 <= s <= e <= len(text) and text[s:e] == t
    blocks = doc.blocks.set_index("block_id")
    for s, e, t, b in zip(doc.sentences["start"], doc.sentences["end"], doc.sentences["text"],
                          doc.sentences["block_id"], strict=True):
        assert text[s:e] == t and t
        assert blocks.loc[b, "start"] <= s and e <= blocks.loc[b, "end"]
    assert list(doc.sentences["start"]) == sorted(doc.sentences["start"])


def check_spans(text: str) -> None:
    spans = detect_spans(text)
    last_end = 0
    for span in spans:
        assert last_end <= span.start < span.end <= len(text)
        assert text[span.start:span.end] == span.text
        assert span.kind in ("quantity", "date", "formulation")
        last_end = span.end


def check_tokens(raw: str, tok: Tokenizer) -> None:
    clean = as_clean_corpus(raw)
    text = clean.documents["text"].iloc[0]
    tokens = tokenize(clean, tok, kinds=None, use_cache=False)
    sentences = clean.sentences.set_index("sent_id")
    last_end = 0
    for sent_id, token, start, end in zip(tokens["sent_id"], tokens["token"], tokens["start"],
                                          tokens["end"], strict=True):
        assert text[start:end] == token and token
        assert start >= last_end
        last_end = end
        assert sentences.loc[sent_id, "start"] <= start and end <= sentences.loc[sent_id, "end"]


def check_figures_and_formulations(raw: str) -> None:
    clean = as_clean_corpus(raw)
    text = clean.documents["text"].iloc[0]
    sentences = clean.sentences.set_index("sent_id")
    for table in (extract_quantities(clean, kinds=None),
                  extract_formulations(clean, include_quotes=True, kinds=None)):
        for sent_id, start, end, surface in zip(table["sent_id"], table["start"], table["end"],
                                                table["surface"], strict=True):
            assert text[start:end] == surface and surface
            assert sentences.loc[sent_id, "start"] <= start
            assert end <= sentences.loc[sent_id, "end"]
    for sentence in clean.sentences["text"]:
        for f in scan_formulations(sentence, include_quotes=True):
            assert sentence[f.start:f.end] == f.surface


@SETTINGS
@given(texts)
def test_clean_accounts_for_every_character(raw: str) -> None:
    check_clean(raw)


@pytest.mark.parametrize("raw", NASTY)
def test_clean_on_nasty_strings(raw: str) -> None:
    check_clean(raw)


@SETTINGS
@given(texts)
@example("四个一批、三个代表、两个维护")
def test_spans_sorted_disjoint_and_inside(text: str) -> None:
    check_spans(text)


@settings(max_examples=50, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(texts)
def test_tokens_are_slices_inside_their_sentence(tokenizer: Tokenizer, raw: str) -> None:
    check_tokens(raw, tokenizer)


@settings(max_examples=50, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_figures_and_formulations_are_slices(raw: str) -> None:
    check_figures_and_formulations(raw)


@pytest.mark.parametrize("raw", NASTY)
def test_every_stage_on_nasty_strings(raw: str, tokenizer: Tokenizer) -> None:
    check_spans(raw)
    check_tokens(raw, tokenizer)
    check_figures_and_formulations(raw)


@pytest.mark.parametrize("raw", ["\ud800", "正文\udfff。", "a\ud83d"])
def test_lone_surrogates_refused_with_offset(raw: str) -> None:
    # not valid Unicode text: no file decodes to it, so it is refused, never guessed at
    with pytest.raises(ValueError, match=r"unpaired surrogate \(U\+D[89A-F][0-9A-F]{2}\) at "
                                         r"offset \d+"):
        clean_text(raw)


def test_empty_stage_tables_keep_their_columns(tokenizer: Tokenizer) -> None:
    clean = as_clean_corpus("\u200b \n\x00")
    assert clean.documents["text"].iloc[0] == ""
    for table in (tokenize(clean, tokenizer, use_cache=False), extract_quantities(clean),
                  extract_formulations(clean)):
        assert isinstance(table, pd.DataFrame) and table.empty
        assert {"doc_id", "sent_id", "start", "end"} <= set(table.columns)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.one_of(st.binary(max_size=400),
                 st.builds(lambda t, codec: t.encode(codec, errors="ignore"), texts,
                           st.sampled_from(["utf-8", "gbk", "big5", "utf-16", "utf-16-le",
                                            "shift_jis", "euc_kr", "gb18030"]))))
def test_decoding_any_bytes_gives_text_the_codec_reproduces_or_input_error(data: bytes) -> None:
    from textmine.corpus import InputError, decode_bytes

    try:
        text, codec = decode_bytes(data, "x.txt")
    except InputError as exc:
        assert str(exc).startswith("x.txt: ")
        return
    assert text.strip()
    if "+" not in codec:  # mixed files are decoded stretch by stretch
        assert data.decode(codec) == text
