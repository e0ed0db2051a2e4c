"""Cleaning on the sample report, the shared corpora and arbitrary text (hypothesis)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textmine.clean import (
    _CONTENT,
    _MAY_NEED_NORMALISING,
    BLOCK_KINDS,
    BLOCK_SEPARATOR,
    CleanCorpus,
    _bounded,
    _layout_view,
    _normalise_line,
    as_clean_corpus,
    clean_corpus,
    clean_text,
    map_to_raw,
)
from textmine.corpus import Corpus

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"
CORPORA = ROOT.parent / "shared" / "corpora"


def corpus_files(name: str) -> list[Path]:
    folder = CORPORA / name
    if not folder.is_dir():
        pytest.skip("../shared/corpora not available")
    return sorted(f for f in folder.rglob("*.txt") if f.name != "MANIFEST.md")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")


def check_consistent(raw: str, doc) -> None:
    """Everything a cleaned document promises about its text, tables and ledger."""
    assert doc.restore_raw() == raw
    text = doc.text
    assert BLOCK_SEPARATOR.join(doc.blocks["text"]) == text
    for b in doc.blocks.itertuples():
        assert text[b.start:b.end] == b.text
        assert b.text and "\n" not in b.text and b.text == b.text.strip()
        assert b.kind in BLOCK_KINDS
    starts = dict(zip(doc.blocks["block_id"], doc.blocks["start"], strict=True))
    ends = dict(zip(doc.blocks["block_id"], doc.blocks["end"], strict=True))
    for s in doc.sentences.itertuples():
        assert text[s.start:s.end] == s.text and s.text.strip()
        assert starts[s.block_id] <= s.start < s.end <= ends[s.block_id]  # never crosses
    previous_end = 0
    for row in doc.ledger.sort_values("raw_start").itertuples():
        assert raw[row.raw_start:row.raw_end] == row.raw_text
        assert text[row.new_start:row.new_end] == row.new_text
        assert row.raw_text != row.new_text and row.reason and row.op
        assert row.raw_start >= previous_end
        previous_end = row.raw_end


# ---------------------------------------------------------------------------------------------
# The sample report
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample():
    raw = SAMPLE.read_text(encoding="utf-8")
    return raw, clean_text(raw)


def kind_texts(doc, kind: str) -> list[str]:
    return doc.blocks.loc[doc.blocks["kind"] == kind, "text"].tolist()


def test_sample_headline_kicker_and_byline(sample):
    _, doc = sample
    assert kind_texts(doc, "title") == ["济南：基层党建迸发新活力 党建温度让百姓更幸福"]
    assert kind_texts(doc, "subtitle") == ["高质量党建引领泉城高质量发展"]
    assert kind_texts(doc, "byline") == ["文/片 记者 夏侯凤超"]
    assert doc.metadata["title"] == "济南：基层党建迸发新活力 党建温度让百姓更幸福"
    assert doc.metadata["subtitle"] == "高质量党建引领泉城高质量发展"
    assert doc.metadata["author"] == "夏侯凤超"


def test_sample_subheadings_and_captions(sample):
    _, doc = sample
    assert kind_texts(doc, "subheading") == [
        "突出强村富民 整合资源筑堡垒促振兴",
        "多方联动优服务 党建引领基层治理",
        "重点问题攻坚克难 把服务做到百姓心里",
    ]
    assert sorted(kind_texts(doc, "caption")) == sorted([
        "姚家街道经济网格办公区域全景",
        "天桥区工人新村南村街道西区社区组织网格长、党员群众代表，召开社区停车管理圆桌会议。",
        "葫芦套村大棚内的羊肚菌长势良好。",
    ])


def test_sample_breaks_repaired(sample):
    _, doc = sample
    paragraphs = kind_texts(doc, "paragraph")
    joined = [p for p in paragraphs if "平均年龄42.7岁，是历年来选派力度最大的一次。" in p]
    assert len(joined) == 1 and joined[0].startswith("今年是贯彻落实党的二十大精神")
    assert any("专属网格员、“红”管家和“泉”管家，提供" in p for p in paragraphs)
    assert any("在反复的练习中，老年朋友们真正掌握手机的基础操作。" in p for p in paragraphs)
    joins = doc.ledger[doc.ledger["reason"].str.contains("page or column break")]
    assert sorted(joins["raw_text"]) == ["\n\n", "\n\n", "\n\n"]
    assert doc.metadata["n_repairs"] == 3


def test_sample_fragment_is_not_glued(sample):
    _, doc = sample
    assert kind_texts(doc, "fragment") == ["为助力帮扶共建落地见效，"]
    lead = [p for p in kind_texts(doc, "paragraph") if "仲夏时节" in p]
    assert len(lead) == 1 and lead[0].startswith("仲夏时节，泉城济南处处迸发生机与活力：")


def test_sample_sentences(sample):
    _, doc = sample
    sentences = doc.sentences["text"].tolist()
    assert not [s for s in sentences if s.startswith(("岁", "家"))]
    assert "岁，是历年来选派力度最大的一次。" not in sentences
    # Closing quotes stay with their sentence; 。！？；… end sentences.
    assert "“我们实行‘专属网格员+党建指导员’保姆式服务，今年已协助楼宇企业解决员工入党、" \
           "金融贷款审批等78件难题。”" in sentences
    assert "参加了这次社区组织的手机培训班，认真听了讲师的教学，" \
           "我对以后熟练地使用它越来越有信心，我一定会坚持把课上完！”" in sentences
    assert "支付需扫收款码，买药得刷医保码……" in sentences
    assert all(s[-1] in "。！？；…”’）" or doc.blocks.loc[b, "kind"] != "paragraph"
               for s, b in zip(doc.sentences["text"], doc.sentences["block_id"], strict=True))


def test_sample_punctuation_normalised(sample):
    raw, doc = sample
    assert "," in raw and ":" in raw and "(" in raw
    assert not re.search(r"[\u4e00-\u9fff][,:;!?()]|[,:;!?()][\u4e00-\u9fff]", doc.text)
    assert "为500个村（社区）配备自助服务终端" in doc.text
    assert "平均年龄42.7岁" in doc.text  # the decimal point stays
    normalised = doc.ledger[doc.ledger["op"] == "normalise"]
    assert set(normalised["raw_text"]) <= {",", ":", "(", ")", "!", "?", ";"}
    assert len(normalised) == raw.count(",") + raw.count(":") + raw.count("(") \
        + raw.count(")") + raw.count("!") + raw.count("?") + raw.count(";")


def test_sample_nothing_is_lost(sample):
    raw, doc = sample
    check_consistent(raw, doc)
    assert doc.ledger.columns.tolist() == ["op", "raw_start", "raw_end", "raw_text",
                                           "new_start", "new_end", "new_text", "reason"]


@pytest.mark.parametrize("variant", ["one paragraph a line", "CRLF", "indented",
                                     "no byline", "full-width digits", "no kicker"])
def test_sample_layout_variants(sample, variant):
    """The same report extracted differently: the same structure comes out."""
    raw, _ = sample
    raw = {"one paragraph a line": raw.replace("\n\n", "\n"),
           "CRLF": raw.replace("\n", "\r\n"),
           "indented": raw.replace("\n\n", "\n\n\u3000\u3000"),
           "no byline": raw.replace("文/片 记者 夏侯凤超\n\n", ""),
           "full-width digits": raw.replace("42.7", "４２．７"),
           "no kicker": raw.replace("高质量党建引领泉城高质量发展\n\n文/片", "文/片")}[variant]
    doc = clean_text(raw)
    check_consistent(raw, doc)
    assert doc.metadata["title"] == "济南：基层党建迸发新活力 党建温度让百姓更幸福"
    assert len(kind_texts(doc, "subheading")) == 3
    assert len(kind_texts(doc, "caption")) == 3
    assert kind_texts(doc, "fragment") == ["为助力帮扶共建落地见效，"]
    assert sum("平均年龄42.7岁，是" in p for p in kind_texts(doc, "paragraph")) == 1
    assert not doc.sentences["text"].str.match("^[岁家]").any()


@pytest.mark.parametrize(("raw", "author"), [
    ("标题\n\n■本报记者 张三 李四\n\n正文第一句。", "张三、李四"),
    ("标题\n\n文/本报记者 王五\n\n正文。", "王五"),
    ("标题\n\n记者 张三 通讯员 李四\n\n正文。", "张三、李四"),
    ("标题\n\n文 | 赵六\n\n正文。", "赵六"),
    ("标题\n\n本报讯（记者 张三 通讯员 李四）近日，某市召开会议。\n\n第二段。", "张三、李四"),
    ("标题\n\n新华社北京6月1日电（记者 王五）今天，会议召开。", "王五"),
    ("政府工作报告\n——2026年1月27日在某省第十四届人民代表大会第四次会议上\n某省省长 王小明\n"
     "各位代表：\n现在，我代表省人民政府，向大会报告工作。", "王小明"),
])
def test_bylines(raw, author):
    doc = clean_text(raw)
    assert doc.metadata["author"] == author
    assert doc.metadata["title"] in ("标题", "政府工作报告")


# ---------------------------------------------------------------------------------------------
# Normalisation on small, hand-checked strings
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "expected"), [
    ("１９９７年ＧＤＰ增长８．８％", "1997年GDP增长8.8%"),
    ("本届政府从1 9 9 3 年3 月就职", "本届政府从1993年3月就职"),
    ("4 月 23 日，60 余名学生参加", "4月23日，60余名学生参加"),
    ("会议于10:30开始,持续2小时!", "会议于10:30开始，持续2小时！"),
    ("人口1,000万;增长(初步统计)?", "人口1,000万；增长（初步统计）？"),
    ("详见https://example.com/a?b=1,2:3 网页", "详见https://example.com/a?b=1,2:3 网页"),
    ("Hello, world: fine (really)!", "Hello, world: fine (really)!"),
    ("零\u200b宽\u200d字符\ufeff和\x07控制符", "零宽字符和控制符"),
    ("国务院总理\u3000\u3000李克强", "国务院总理 李克强"),
    ("**“国潮奇遇记”** 如期而至", "“国潮奇遇记”如期而至"),
])
def test_normalisation(raw, expected):
    doc = clean_text(raw)
    assert doc.text == expected
    check_consistent(raw, doc)


def test_soft_line_breaks_joined_in_blank_line_documents():
    raw = "政府工作报\n告\n\n各位代表：\n\n现在，我代表国务院，向大会报告政\n府工作。\n\n" \
          "鄧同志\n[\n4\n]\n在唐山工作。\n"
    doc = clean_text(raw)
    assert doc.blocks["text"].tolist() == [
        "政府工作报告", "各位代表：", "现在，我代表国务院，向大会报告政府工作。",
        "鄧同志在唐山工作。"]
    check_consistent(raw, doc)


def test_other_line_separators():
    raw = "第一段。\u2028第二段。\u2029第三段。\r第四段。\x0c第五段。"
    doc = clean_text(raw)
    assert doc.blocks["text"].tolist() == [f"第{n}段。" for n in "一二三四五"]
    check_consistent(raw, doc)


def test_one_paragraph_a_line_documents_keep_lines():
    raw = "一、2025年工作回顾\n过去一年，我们砥砺前行。\n（一）稳增长\n经济总量迈上新台阶。\n"
    doc = clean_text(raw)
    assert doc.blocks["kind"].tolist() == ["subheading", "paragraph", "subheading", "paragraph"]


def test_empty_and_blank_documents():
    for raw in ("", "   \n\n\u200b\n", "\ufeff", "**", "# **\n"):
        doc = clean_text(raw)
        assert doc.text == "" and doc.blocks.empty and doc.sentences.empty
        assert doc.restore_raw() == raw
    with pytest.raises(TypeError, match="expects a str"):
        clean_text(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="surrogate"):
        clean_text("正文\udc80")


def test_map_to_raw(sample):
    raw, doc = sample
    to_full = str.maketrans({",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（",
                             ")": "）", "\n": None})
    spans = [p for s in doc.sentences.itertuples() for p in (s.start, s.end)]
    mapped = map_to_raw(doc.ledger, spans)
    for k, s in enumerate(doc.sentences.itertuples()):
        # The raw span of a sentence is the sentence before normalisation and repairs.
        assert raw[mapped[2 * k]:mapped[2 * k + 1]].translate(to_full) == s.text


# ---------------------------------------------------------------------------------------------
# Property: nothing is lost, on arbitrary text
# ---------------------------------------------------------------------------------------------
_ALPHABET = list(
    "济南党建岁家管为助力。，、；：！？…“”‘’（）《》【】—·"
    "０１２３４５６７８９ＡＢＣａｂｃ％．"
    "0123456789abcXYZ.,:;!?()[]#*>-_/|↑ "
    "\n\n\n\r\t\u3000\u00a0\u200b\u200c\u200d\u2060\ufeff\x00\x07\x1f\x7f\x85\u2028")
# Any Unicode text; unpaired surrogates are not text (decoding never produces them).
_TEXT = st.text(alphabet=st.sampled_from(_ALPHABET)
                | st.characters(blacklist_categories=("Cs",)), max_size=400)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_ledger_restores_arbitrary_text(raw):
    check_consistent(raw, clean_text(raw))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([
    "为助力帮扶共建落地见效，", "平均年龄42.7", "岁，是历年来选派力度最大的一次。", "政府工作报",
    "告", "下载", "来源：大众日报", "文/片 记者 夏侯凤超", "一、工作回顾", "[\n4\n]", "---",
    "aliases:\n  - 标题", "![图片](https://x.cn/a.png)", "1 9 9 3 年", "ｆｕｌｌ１２", "\u200b"]),
    max_size=30), st.lists(st.sampled_from(["\n", "\n\n", "\n \n\n", "  \n", ""]), max_size=30))
def test_ledger_restores_report_like_text(pieces, gaps):
    raw = "".join(p + (gaps[i] if i < len(gaps) else "\n") for i, p in enumerate(pieces))
    check_consistent(raw, clean_text(raw))


# Short lines: plain text with a few characters that may need normalising (or look as if).
_PLAIN = st.text(alphabet="党建岁1A。“）", max_size=3)
_SPECIAL = st.sampled_from([
    " ", "  ", ",", ":", ";", "!", "?", "(", ")", "[1]", "[", "*", "**", "#", "１", "Ａ", "％",
    "．", "\u3000", "\u00a0", "\u200b", "\t", "\n"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(_PLAIN, _SPECIAL), max_size=3).map(
    lambda parts: "".join(a + b for a, b in parts) + "党"))
def test_lines_the_normalising_precheck_skips_need_no_edit(raw):
    """`_MAY_NEED_NORMALISING` is a superset: a line it finds nothing in is kept as it is."""
    for m in _CONTENT.finditer(_layout_view(raw)):
        s, e = m.span()
        if raw[s] != "#" and not _MAY_NEED_NORMALISING.search(raw, s, e):
            line = _normalise_line(raw, s, e)
            assert (line.text, line.edits, line.heading) == (raw[s:e], [], 0)


_PER_BLOCK_SENTENCE = re.compile(r"[^。！？；…!?;]*(?:[。！？；!?;]+|…+|$)[”’」』）)\]】》\"']*")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_sentences_of_the_whole_text_are_those_of_each_block(raw):
    """One pass over the text splits as a pass over each block would (spaces trimmed)."""
    doc = clean_text(raw)
    expected = []
    for b in doc.blocks.itertuples():
        for m in _PER_BLOCK_SENTENCE.finditer(doc.text, b.start, b.end):
            for ss, se in _bounded(doc.text, *m.span()):
                piece = doc.text[ss:se]
                if piece.strip(" "):
                    start = ss + len(piece) - len(piece.lstrip(" "))
                    expected.append((b.block_id, start, piece.strip(" ")))
    assert list(zip(doc.sentences["block_id"], doc.sentences["start"], doc.sentences["text"],
                    strict=True)) == expected


# ---------------------------------------------------------------------------------------------
# The shared corpora
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [
    "gov-work-reports-national", "gov-work-reports-provincial-2025",
    "gov-work-reports-provincial-2026", "cpc-congress-reports", "party-building-news"])
def test_every_corpus_file_cleans_and_restores(name):
    for path in corpus_files(name):
        raw = read(path)
        doc = clean_text(raw)
        check_consistent(raw, doc)
        assert (doc.blocks["kind"] != "boilerplate").any(), path.name


def test_bench_laws_sample_cleans_and_restores():
    files = corpus_files("bench-laws")
    for path in files[::60]:
        raw = read(path)
        doc = clean_text(raw)
        check_consistent(raw, doc)
        assert doc.blocks["kind"].iloc[0] == "title", path.name
        assert "<!-- INFO END -->" in kind_texts(doc, "boilerplate") or \
            "<!-- INFO END -->" not in raw


def test_national_reports_words_joined_and_digits_normalised():
    files = {p.name: p for p in corpus_files("gov-work-reports-national")}
    broken = 0
    for path in files.values():
        raw = read(path)
        doc = clean_text(raw)
        broken += raw.count("政府工作报\n告")
        assert "政府工作报\n告" not in doc.text
        assert not any(b.endswith("政府工作报") for b in doc.blocks["text"]), path.name
        assert not re.search(r"[０-９Ａ-Ｚａ-ｚ]", doc.text), path.name
        assert not re.search(r"\d \d \d", doc.text), path.name
        assert "\u200b" not in doc.text and "\u200d" not in doc.text
    assert broken >= 2
    for year in ("2017", "2021"):
        doc = clean_text(read(files[f"{year}.txt"]))
        assert doc.metadata["title"] == "政府工作报告"
        assert doc.metadata["author"] == "李克强"
    assert "本届政府从1993年3月就职" in clean_text(read(files["1998.txt"])).text
    assert "刚刚过去的1984年" in clean_text(read(files["1985.txt"])).text
    # A sentence cut by a blank line in the 1957 report is joined into one paragraph.
    doc = clean_text(read(files["1957.txt"]))
    assert any("社会财产沒有遭到損坏" in p for p in kind_texts(doc, "paragraph"))
    # The Wikisource licence at the end is boilerplate, not text to analyse.
    assert kind_texts(doc, "boilerplate")[-1].startswith("Public domain")
    assert not any("著作权法" in p for p in kind_texts(doc, "paragraph"))


def test_provincial_2026_page_chrome_is_boilerplate():
    chrome = {"下载", "打印", "全屏", "收藏", "【字号：", "加大", "还原", "减小", "】",
              "相关报道：", "扫一扫在手机打开当前页", "首页", ">", "打印本页", "关闭窗口"}
    for path in corpus_files("gov-work-reports-provincial-2026"):
        doc = clean_text(read(path))
        analysed = doc.blocks[doc.blocks["kind"].isin(["paragraph", "subheading"])]
        assert not set(analysed["text"]) & chrome, path.name
        assert not analysed["text"].str.match(r"^(?:来源|时间|发表时间|责任编辑)[:：]").any()
        assert "政府工作报告" in doc.metadata.get("title", ""), path.name
        head = doc.blocks.iloc[:12]
        assert not (head["text"].isin(chrome) & (head["kind"] != "boilerplate")).any()
    shandong = clean_text(read(CORPORA / "gov-work-reports-provincial-2026" /
                               "2026-shandong.txt"))
    assert shandong.metadata["title"] == "2026年山东省政府工作报告"
    assert shandong.metadata["author"] == "周乃翔"
    assert "来源：大众日报" in kind_texts(shandong, "boilerplate")


def test_line_broken_words_in_provincial_reports_joined():
    sichuan = clean_text(read(CORPORA / "gov-work-reports-provincial-2026" / "2026-sichuan.txt"))
    assert any("“双向揭榜挂帅”的简称" in b for b in sichuan.blocks["text"])
    yunnan = clean_text(read(CORPORA / "gov-work-reports-provincial-2026" / "2026-yunnan.txt"))
    assert "（三）改革开放持续深化、互促共进。" in yunnan.blocks["text"].tolist()


def test_party_building_markdown_debris():
    files = {p.name: p for p in corpus_files("party-building-news")}
    doc = clean_text(read(files["hust-001.txt"]))
    assert doc.metadata["title"].startswith("党建专栏 | 心有光，入红巷！")
    debris = doc.blocks[doc.blocks["text"].str.contains(r"!\[|mmbiz|aliases|^---$", regex=True)]
    assert (debris["kind"] == "boilerplate").all() and len(debris) > 10
    assert "来源：公共管理学院本科生党建工作中心" in kind_texts(doc, "boilerplate")
    doc = clean_text(read(files["hust-027.txt"]))
    assert "处暑迎新，公管启航" in kind_texts(doc, "subheading")  # "#### " removed
    assert "✦✦" in kind_texts(doc, "boilerplate")


def test_cpc_footnote_markers_removed():
    doc = clean_text(read(CORPORA / "cpc-congress-reports" / "cpc03.txt")
                     if CORPORA.is_dir() else pytest.skip("../shared/corpora not available"))
    assert "鄧同志在唐山和科烏礦工罷工時犯了嚴重錯誤" in doc.text
    assert doc.ledger["reason"].str.contains("footnote").any()


# ---------------------------------------------------------------------------------------------
# Corpora
# ---------------------------------------------------------------------------------------------
def test_clean_corpus_tables_and_metadata():
    raw = SAMPLE.read_text(encoding="utf-8")
    corpus = Corpus.from_texts({"jinan": raw, "short": "第一句。第二句！"})
    cleaned = clean_corpus(corpus)
    docs = cleaned.documents.set_index("doc_id")
    assert docs.loc["jinan", "title"] == "济南：基层党建迸发新活力 党建温度让百姓更幸福"
    assert docs.loc["jinan", "author"] == "夏侯凤超"
    assert docs.loc["jinan", "raw_text"] == raw
    assert docs.loc["jinan", "text"] == clean_text(raw).text
    assert cleaned.blocks.columns.tolist()[:2] == ["doc_id", "block_id"]
    assert cleaned.sentences.columns.tolist() == ["doc_id", "sent_id", "block_id", "start", "end",
                                                  "text", "kind"]
    assert cleaned.ledger.columns.tolist()[0] == "doc_id"
    analysed = cleaned.analysis_sentences()
    assert set(analysed["kind"]) == {"paragraph", "subheading"}
    assert not analysed["text"].str.startswith("葫芦套村大棚内").any()
    assert len(cleaned.analysis_sentences(None)) == len(cleaned.sentences)
    short = cleaned.sentences[cleaned.sentences["doc_id"] == "short"]["text"].tolist()
    assert short == ["第一句。", "第二句！"]
    text = docs.loc["jinan", "text"]
    for s in cleaned.sentences[cleaned.sentences["doc_id"] == "jinan"].itertuples():
        assert text[s.start:s.end] == s.text


def test_clean_corpus_headline_replaces_the_first_line_guess(tmp_path):
    from textmine.corpus import load_corpus

    (tmp_path / "report.txt").write_text(SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    cleaned = clean_corpus(load_corpus(tmp_path))  # no metadata.csv: title guessed by loader
    row = cleaned.documents.iloc[0]
    assert row["title"] == "济南：基层党建迸发新活力 党建温度让百姓更幸福"
    assert row["author"] == "夏侯凤超"


def test_clean_corpus_keeps_given_metadata_and_handles_empty_documents():
    corpus = Corpus.from_texts({"a": "标题\n\n正文第一句。", "empty": ""})
    corpus.documents.loc[corpus.documents["doc_id"] == "a", "title"] = "给定标题"
    cleaned = clean_corpus(corpus)
    docs = cleaned.documents.set_index("doc_id")
    assert docs.loc["a", "title"] == "给定标题"
    assert docs.loc["empty", "text"] == ""
    assert (cleaned.blocks["doc_id"] == "empty").sum() == 0


def test_as_clean_corpus():
    cleaned = as_clean_corpus("济南:基层党建。")
    assert isinstance(cleaned, CleanCorpus)
    assert cleaned.documents["text"].tolist() == ["济南：基层党建。"]
    assert as_clean_corpus(cleaned) is cleaned
    with pytest.raises(TypeError):
        as_clean_corpus(42)  # type: ignore[arg-type]


def test_cleaned_columns_survive_pickling_without_sending_block_texts() -> None:
    """Between processes the block texts travel as offsets into the text; what arrives equals
    what was sent, columns in the same order, and the pickle is shorter for it."""
    import pickle

    from textmine.clean import _clean_columns

    cols = _clean_columns(SAMPLE.read_text(encoding="utf-8"))
    data = pickle.dumps(cols)
    back = pickle.loads(data)
    assert back == cols
    assert list(back.blocks) == list(cols.blocks)
    assert back.blocks["text"] == [cols.text[a:b] for a, b in
                                   zip(cols.blocks["start"], cols.blocks["end"], strict=True)]
    whole = pickle.dumps((cols.text, cols.blocks, cols.sentences, cols.ledger, cols.metadata))
    assert len(data) < len(whole) - sum(len(t.encode("utf-8")) for t in cols.blocks["text"]) / 2
