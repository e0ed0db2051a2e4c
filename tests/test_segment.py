"""Segmentation: tokens table, lexicons, protected spans, jieba's boundaries, cache, pickling."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import jieba
import pandas as pd
import pytest

from textmine.cache import Cache
from textmine.clean import as_clean_corpus, clean_corpus
from textmine.corpus import Corpus, load_corpus
from textmine.segment import (
    TOKEN_COLUMNS,
    LexiconError,
    Tokenizer,
    entities,
    entity_class,
    lexicon_check,
    parse_lexicon_line,
    read_lexicon,
    term_coverage,
    tokenize,
)
from textmine.spans import detect_spans

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "jinan-party-building-report.txt"
CORPORA = ROOT.parent / "shared" / "corpora"
TERMS = Path(__file__).parent / "annotations" / "governance_terms.txt"
NATURAL_TERMS = Path(__file__).parent / "annotations" / "governance_terms_natural.txt"
PARTY_NEWS_TERMS = Path(__file__).parent / "annotations" / "governance_terms_party_news.txt"

#: The terms the project was commissioned to count: single tokens wherever they occur.
COMMISSIONED = ("羊肚菌 葫芦套村 党建引领 第一书记 网格员 网格长 乡村振兴 党群服务中心 新就业群体 "
                "老旧小区 高质量发展 强省会 基层治理 两委 二十大").split()


def corpora(name: str) -> Path:
    path = CORPORA / name
    if not path.is_dir():
        pytest.skip("../shared/corpora not available")
    return path


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer()


@pytest.fixture(scope="module")
def reference(tok):
    """jieba itself (a jieba.Tokenizer) loaded with the same lexicons."""
    return tok.reference_jieba()


@pytest.fixture(scope="module")
def sample_clean():
    return as_clean_corpus(Corpus.from_texts({"jinan": SAMPLE.read_text(encoding="utf-8")}))


@pytest.fixture(scope="module")
def sample_tokens(tok, sample_clean) -> pd.DataFrame:
    return tokenize(sample_clean, tok, kinds=None, use_cache=False)


# -- the table contract -------------------------------------
def test_tokens_table_contract(sample_clean, sample_tokens):
    df = sample_tokens
    text = sample_clean.documents["text"].iloc[0]
    assert list(df.columns) == TOKEN_COLUMNS
    assert len(df) > 1000
    assert all(text[s:e] == t for t, s, e in zip(df["token"], df["start"], df["end"],
                                                 strict=True))
    assert not df["token"].str.isspace().any()
    assert df["token_id"].tolist() == list(range(len(df)))
    assert (df["start"].diff().dropna() > 0).all()  # in text order, no overlap
    sents = sample_clean.sentences.set_index("sent_id")
    bounds = sents.loc[df["sent_id"], ["start", "end"]].to_numpy()
    assert ((df["start"].to_numpy() >= bounds[:, 0]) & (df["end"].to_numpy() <= bounds[:, 1])).all()


def test_default_kinds_are_the_analysis_kinds(tok, sample_clean, sample_tokens):
    default = tokenize(sample_clean, tok, use_cache=False)
    kinds = sample_clean.sentences.set_index("sent_id")["kind"]
    assert set(kinds[default["sent_id"]]) <= {"subheading", "paragraph"}
    assert len(default) <= len(sample_tokens)


def test_deterministic(tok, sample_clean, sample_tokens):
    again = tokenize(sample_clean, Tokenizer(), kinds=None, use_cache=False)
    pd.testing.assert_frame_equal(again, sample_tokens)


def test_string_input_and_empty_text(tok):
    df = tokenize("党建引领基层治理。", tok, use_cache=False)
    assert df["token"].tolist() == ["党建引领", "基层治理", "。"]
    assert df["is_stop"].tolist() == [False, False, True]
    empty = tokenize("", tok, use_cache=False)
    assert list(empty.columns) == TOKEN_COLUMNS and len(empty) == 0


# -- the sample report --------------------------------------
def test_commissioned_terms_are_single_tokens_everywhere(sample_clean, sample_tokens):
    text = sample_clean.documents["text"].iloc[0]
    spans = set(zip(sample_tokens["start"], sample_tokens["end"], strict=True))
    for term in COMMISSIONED:
        where = [i for i in range(len(text)) if text.startswith(term, i)]
        assert where, term
        missed = [i for i in where if (i, i + len(term)) not in spans]
        assert not missed, (term, [text[max(0, i - 5):i + len(term) + 5] for i in missed])


def test_twenty_congress_is_not_a_person(sample_tokens):
    pos = set(sample_tokens.loc[sample_tokens["token"] == "二十大", "pos"])
    assert pos and not any(p.startswith("nr") for p in pos)


def test_every_quantity_of_the_sample_is_one_token(sample_clean, sample_tokens):
    text = sample_clean.documents["text"].iloc[0]
    tokens = dict(zip(zip(sample_tokens["start"], sample_tokens["end"], strict=True),
                      sample_tokens["pos"], strict=True))
    quantities = [s for s in detect_spans(text) if s.kind in ("quantity", "date")]
    assert len(quantities) >= 15
    for span in quantities:
        assert (span.start, span.end) in tokens, span
    for surface in ("40余万元", "42.7岁", "1.3万多名", "14万多名", "2021年年底"):
        assert surface in set(sample_tokens["token"]), surface
    assert set(sample_tokens.loc[sample_tokens["token"] == "40余万元", "pos"]) == {"mq"}


def test_sample_entities(sample_tokens):
    ents = entities(sample_tokens)
    classes = dict(zip(ents["token"], ents["entity_class"], strict=True))
    for place in ("葫芦套村", "柳埠街道", "姚家街道", "历下区", "天桥区", "南村街道", "济南"):
        assert classes.get(place) == "place", place
    for org in ("市委组织部", "街道党工委", "党群服务中心"):
        assert classes.get(org) == "organisation", org
    for person in ("李女士", "杨文平"):
        assert classes.get(person) == "person", person
    for common in ("城市", "楼宇", "二十大", "羊肚菌"):
        assert common not in classes, common
    assert list(ents.columns) == ["doc_id", "token", "entity_class", "count"]
    assert classes and ents.loc[ents["token"] == "葫芦套村", "count"].item() == 7


@pytest.mark.parametrize("token, pos, expected", [
    ("陈甜", "nr", "person"), ("习近平总书记", "nr", "person"), ("李女士", "n", "person"),
    ("高级教授", "n", ""),
    ("明白", "nr", ""), ("任重道远", "nr", ""), ("崇尚", "nrt", ""),  # jieba's mis-tags
    ("恩施州", "nr", "place"), ("安顺", "nr", "place"), ("梁子湖", "nr", "place"),
    ("试点城市", "ns", ""), ("雄安新区", "ns", "place"),
    ("中共湖北省委", "nt", "organisation"), ("省政府", "n", "organisation"),
    ("公安局", "nt", "organisation"), ("研究生支教团", "nt", "organisation"),
    ("新格局", "nt", ""), ("国际化", "nt", ""), ("新发展格局", "n", ""),
    ("地方政府", "n", ""), ("数字政府", "n", ""),
])
def test_entity_class_takes_a_tag_only_with_the_shape_of_what_it_names(token, pos, expected):
    assert entity_class(token, pos) == expected


def entity_scores(annotation: Path) -> dict[str, tuple[float, float]]:
    """(precision, recall) per class of `entities` on the hand-labelled tokens of one file.

    The documents named in its `# documents:` line are tokenized; each labelled token the
    tokenizer produces is predicted the class most of its occurrences get (none if it gets
    none) and compared with its label.
    """
    lines = annotation.read_text(encoding="utf-8").splitlines()
    documents = next(ln for ln in lines if ln.startswith("# documents:")).split(":", 1)[1]
    paths = [p for pattern in documents.split() for p in sorted(
        corpora(pattern.split("/")[0]).glob(pattern.split("/", 1)[1]))]
    gold = dict(ln.split("\t")[:2] for ln in lines[1:] if ln and not ln.startswith("#"))
    gold.pop("token")
    tokens = tokenize(as_clean_corpus(Corpus.from_texts(
        {p.name: p.read_text(encoding="utf-8") for p in paths})), use_cache=False)
    found = entities(tokens)
    predicted = (found.groupby(["token", "entity_class"])["count"].sum().reset_index()
                 .sort_values(["token", "count", "entity_class"], ascending=[True, False, True])
                 .drop_duplicates("token"))
    classes = dict(zip(predicted["token"], predicted["entity_class"], strict=True))
    produced = set(tokens["token"])
    scores = {}
    for cls in ("person", "place", "organisation"):
        pairs = [(gold[t], classes.get(t, "none")) for t in gold if t in produced]
        tp = sum(g == cls and p == cls for g, p in pairs)
        n_pred, n_gold = sum(p == cls for _, p in pairs), sum(g == cls for g, _ in pairs)
        scores[cls] = (tp / n_pred if n_pred else 0.0, tp / n_gold if n_gold else 0.0)
    return scores


@pytest.mark.parametrize("annotation, minimum", [
    # (precision, recall) per class, a little below the measured figures
    ("entities_party_news.tsv", {"person": (0.85, 0.93), "place": (0.35, 0.80),
                                 "organisation": (0.93, 0.78)}),
    ("entities_provincial.tsv", {"person": (0.10, 0.45), "place": (0.68, 0.90),
                                 "organisation": (0.40, 0.62)}),
    # labelled after the rules were settled: held-out figures
    ("entities_reports.tsv", {"person": (0.10, 0.95), "place": (0.66, 0.85),
                              "organisation": (0.58, 0.65)}),
])
def test_entity_classes_on_hand_labelled_reports(annotation, minimum):
    """jieba tags thousands of common words as names, places or bodies (明白, 任重道远 nr;
    国际化, 新格局 nt): the entity classes must not take them at their word."""
    scores = entity_scores(Path(__file__).parent / "annotations" / annotation)
    for cls, (precision, recall) in minimum.items():
        assert scores[cls][0] >= precision, (cls, scores[cls])
        assert scores[cls][1] >= recall, (cls, scores[cls])


# -- lexicons -----------------------------------------------
def test_bundled_lexicon_is_documented_and_well_formed():
    entries = read_lexicon(ROOT / "textmine" / "data" / "lexicon.txt")
    assert len(entries) >= 400
    assert all(e.freq and e.tag for e in entries)
    assert len({e.word for e in entries}) == len(entries)
    assert (ROOT / "textmine" / "data" / "LEXICON.md").is_file()


@pytest.mark.parametrize("line, expected", [
    ("羊肚菌 20 n", ("羊肚菌", 20, "n")),
    ("羊肚菌 n", ("羊肚菌", None, "n")),
    ("羊肚菌 20", ("羊肚菌", 20, None)),
    ("羊肚菌", ("羊肚菌", None, None)),
    ("\ufeff银龄乐学 智享生活 nz", ("银龄乐学 智享生活", None, "nz")),
    ("New York 5 ns", ("New York", 5, "ns")),
    ("党建+店小二\t100\tnz", ("党建+店小二", 100, "nz")),
    ("  # comment", None),
    ("", None),
])
def test_parse_lexicon_line(line, expected):
    assert parse_lexicon_line(line) == expected


def test_user_lexicon_with_bom_crlf_spaces_and_punctuation(tmp_path):
    userdict = tmp_path / "userdict.txt"
    userdict.write_bytes("\ufeff强新优富美高 nz\r\n银龄乐学 智享生活 nz\r\n党建+店小二 nz\r\n"
                         "单独成格、一企一格 nz\r\n泉新泉驿\r\n".encode())
    tok = Tokenizer(userdicts=[userdict], protect_spans=False)
    text = "打造“强新优富美高”，开展银龄乐学 智享生活活动，推行单独成格、一企一格和泉新泉驿。"
    tokens = tok.cut(text)
    for word in ("强新优富美高", "银龄乐学 智享生活", "单独成格、一企一格", "泉新泉驿"):
        assert word in tokens, (word, tokens)
    tagged = {w: p for w, p, _, _ in tok.tag(text)}
    assert tagged["银龄乐学 智享生活"] == "nz" and tagged["强新优富美高"] == "nz"
    # without any lexicon jieba invents words
    assert "强新优富美高" not in Tokenizer(bundled_lexicon=False, protect_spans=False).cut(text)


def test_user_lexicon_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes("好词 3 n\n坏词\t3.5\tn\n".encode())
    with pytest.raises(LexiconError, match=r"bad\.txt, line 2"):
        Tokenizer(userdicts=[bad]).cut("好词")
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("网格员 n\n".encode("gbk"))
    with pytest.raises(LexiconError, match=r"gbk\.txt: not UTF-8"):
        read_lexicon(gbk)
    with pytest.raises(LexiconError, match="missing.txt"):
        read_lexicon(tmp_path / "missing.txt")


def test_jieba_global_default_is_never_changed():
    before = jieba.lcut("村里的羊肚菌和网格员")
    tok = Tokenizer(words=[("羊肚菌", 5000, "n")])
    assert "羊肚菌" in tok.cut("村里的羊肚菌和网格员")
    tok.reference_jieba()
    assert jieba.lcut("村里的羊肚菌和网格员") == before == ["村里", "的", "羊肚", "菌", "和",
                                                            "网格", "员"]


def test_two_configurations_side_by_side():
    plain = Tokenizer(bundled_lexicon=False)
    domain = Tokenizer()
    text = "葫芦套村的羊肚菌"
    assert plain.cut(text) != domain.cut(text)
    assert domain.cut(text) == ["葫芦套村", "的", "羊肚菌"]


def test_stopwords_bundled_user_and_punctuation(tmp_path):
    extra = tmp_path / "stopwords.txt"
    extra.write_bytes("\ufeff# report boilerplate\r\n增收\r\n".encode())
    tok = Tokenizer(stopwords=[extra])
    df = tokenize("我们的合作社增收40余万元！", tok, use_cache=False)
    stops = dict(zip(df["token"], df["is_stop"], strict=True))
    assert stops["增收"] and stops["我们"] and stops["的"] and stops["！"]
    assert not stops["40余万元"] and not stops["合作社"]
    assert not Tokenizer().is_stop("增收")
    assert tok("我们的合作社增收40余万元，") == ["合作社", "40余万元"]


def test_corpus_folder_userdict_and_stopwords(tmp_path):
    (tmp_path / "userdict.txt").write_text("泉新泉驿 nz\n", encoding="utf-8")
    (tmp_path / "stopwords.txt").write_text("村里\n", encoding="utf-8")
    tok = Tokenizer.from_config(None, corpus_root=tmp_path)
    assert "泉新泉驿" in tok.cut("泉新泉驿在村里")
    assert tok.is_stop("村里")


def test_lexicon_check_names_the_deciding_entry(tok):
    table = lexicon_check(["羊肚菌", "40余万元", "杨文平", "乡村振兴大比武"], tok)
    rows = table.set_index("term")
    assert rows.loc["羊肚菌", "single"]
    assert rows.loc["羊肚菌", "decided_by"].startswith("lexicon.txt:")
    assert rows.loc["40余万元", "decided_by"] == "protected span (mq)"
    assert rows.loc["杨文平", "decided_by"] == "jieba HMM" and rows.loc["杨文平", "pos"] == "nr"
    assert not rows.loc["乡村振兴大比武", "single"]
    assert rows.loc["乡村振兴大比武", "tokens"].startswith("乡村振兴 / ")


def test_vocabulary_table_starting_afresh_changes_no_token(monkeypatch):
    """The per-process table of distinct tokens is bounded: past its limit it starts again,
    and the tokens, tags and flags stay those of an unbounded table."""
    import textmine.segment as segment

    text = SAMPLE.read_text(encoding="utf-8")
    expected = Tokenizer().tokenize_document(text, [(0, 0, len(text))])
    monkeypatch.setattr(segment, "_VOCABULARY_LIMIT", 50)
    small = Tokenizer()
    tables = []
    for _ in range(2):  # the second pass meets a full table, which starts again
        got = small.tokenize_document(text, [(0, 0, len(text))])
        tables.append(small._vocab.index)
        for column, values in expected.items():
            assert got[column].tolist() == values.tolist(), column
    assert tables[0] is not tables[1]


def test_tokens_table_is_the_same_by_every_route(tmp_path, monkeypatch):
    """Serially without a cache the table is assembled from the vocabulary's rows; with a
    cache, or when a document could make the vocabulary start afresh, from per-document
    codes. Both give the same table, and the table is the documents' own tokens."""
    import textmine.segment as segment

    corpus = Corpus.from_texts({"a": SAMPLE.read_text(encoding="utf-8"),
                                "b": "共选派第一书记2278人，平均年龄42.7岁。", "c": "",
                                "d": "葫芦套村村集体增收40余万元，党建引领基层治理。"})
    by_rows = tokenize(corpus, Tokenizer(), use_cache=False)
    by_codes = tokenize(corpus, Tokenizer(), cache_dir=tmp_path)
    pd.testing.assert_frame_equal(by_rows, by_codes)
    texts = dict(zip(corpus.documents["doc_id"], clean_corpus(corpus).documents["text"],
                     strict=True))
    assert all(texts[d][s:e] == t for d, s, e, t in zip(
        by_rows["doc_id"], by_rows["start"], by_rows["end"], by_rows["token"], strict=True))
    monkeypatch.setattr(segment, "_VOCABULARY_LIMIT", 50)  # starts afresh between documents
    pd.testing.assert_frame_equal(tokenize(corpus, Tokenizer(), use_cache=False), by_rows)


def test_term_coverage_counts_terms_and_occurrences(tok):
    texts = ["实施乡村振兴战略。", "乡村振兴。"]
    figures = term_coverage(["乡村振兴", "振兴战略"], texts, tok)
    assert figures["occurrences"] == 3
    assert figures["isolated"] == 0.5  # 振兴战略 alone is 振兴 / 战略
    assert figures["never cut"] == 0.5  # 乡村振兴 / 战略 cuts 振兴战略
    assert figures["exact everywhere"] == 0.5
    assert figures["occurrences uncut"] == figures["occurrences exact"] == 2 / 3


def test_a_formulation_inside_a_longer_lexicon_word_yields_to_it(tok):
    """八项规定 is a numbered formulation and a lexicon word; 中央八项规定精神 is a longer one."""
    from textmine.formulations import extract_formulations

    text = "严格落实中央八项规定精神，落实八项规定。"
    assert tok.cut(text)[2:4] == ["中央八项规定精神", "，"]
    assert "八项规定" in tok.cut(text)[4:]  # alone, the formulation is still one token
    assert extract_formulations(text)["surface"].tolist() == ["八项规定", "八项规定"]
    userdict = Tokenizer(words=[("坚持四个一批工作法", 2000, "n")])
    assert "坚持四个一批工作法" in userdict.cut("大家坚持四个一批工作法。")
    assert "四个一批" in tok.cut("大家坚持四个一批工作法。")


# -- jieba's boundaries outside protected spans -------------
def test_boundaries_equal_jieba_with_the_same_lexicons_on_the_national_reports(tok, reference):
    folder = corpora("gov-work-reports-national")
    ref = reference
    checked = 0
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for line in text.split("\n"):
            pos = 0
            for s, e, _ in [*tok.protected_spans(line), (len(line), len(line), "")]:
                gap = line[pos:s]
                if gap:
                    assert tok.cut_unprotected(gap) == ref.lcut(gap), (path.name, gap)
                    checked += 1
                pos = e
    assert checked > 15_000


@pytest.mark.parametrize("text", ["5G-A网络", "COVID-19疫情", "PM_2.5浓度", "访问www.gov.cn/a.html",
                                  "2-3年", "13.EFlops算力"])
def test_ascii_runs_cut_like_jieba(tok, reference, text):
    assert tok.cut_unprotected(text) == reference.lcut(text)


def test_ascii_runs_cut_like_jieba_between_spans(tok, reference):
    """Odd ASCII runs are split in place among spans, repeated runs and ordinary tokens."""
    text = ("访问www.gov.cn，5G-A网络覆盖40余万元，2-3年内5G-A用户达1.3万多名，"
            "见www.gov.cn/a.html与COVID-19报告")
    rows = tok.tag(text)
    spans = tok.protected_spans(text)
    assert spans, "the text holds figures"
    expected, pos = [], 0
    for s, e, _ in [*spans, (len(text), len(text), "")]:
        expected += reference.lcut(text[pos:s]) if s > pos else []
        expected += [text[s:e]] if e > s else []
        pos = e
    assert [w for w, _, _, _ in rows] == expected
    assert all(text[s:e] == w for w, _, s, e in rows)
    assert "www" in expected and "5G" in expected  # the runs were split


def test_jieba_reference_engine_agrees_with_the_fast_one():
    text = SAMPLE.read_text(encoding="utf-8")
    fast = Tokenizer().tag(text)
    slow = Tokenizer(engine="jieba").tag(text)
    assert [(w, s, e) for w, _, s, e in fast] == [(w, s, e) for w, _, s, e in slow]


# -- held-out terms -----------------------------------------
def _coverage(tok: Tokenizer, term_list: Path, corpus: str, at_least: int) -> dict:
    """`term_coverage` of a term list (one a line, # comments) on a corpus's .txt reports."""
    folder = corpora(corpus)
    terms = [t.strip() for t in term_list.read_text(encoding="utf-8").splitlines()
             if t.strip() and not t.startswith("#")]
    assert len(terms) >= at_least
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
    return term_coverage(terms, texts, tok)


def test_governance_terms_on_the_2026_provincial_reports(tok):
    """Governance terms stay whole on the 2026 provincial reports: measured, kept from regressing.

    In-sample for the shipped lexicon: its part 1 was extracted from all development corpora,
    these reports included. The procedure's held-out figures (part 1 rebuilt without them:
    `benchmarks/lexicon_holdout.py`) are lower on some measures and are in
    textmine/data/LEXICON.md, with the 95% target this still misses.
    """
    figures = _coverage(tok, TERMS, "gov-work-reports-provincial-2026", at_least=200)
    isolated, never_cut = figures["isolated"], figures["never cut"]
    uncut = figures["occurrences uncut"]
    # measured, in-sample: 90.7% isolated, 85.2% never cut, 94.0% of 9,247 occurrences uncut
    # (75.6% never cut and 86.6% uncut with the lexicon before scripts/build_lexicon.py)
    assert isolated >= 0.90, isolated
    assert never_cut >= 0.85, never_cut
    assert uncut >= 0.93, uncut


def test_natural_governance_terms_on_the_cpc_congress_reports(tok):
    """Terms as they come (plain jieba keeps some whole) stay whole on the CPC congress reports.

    In-sample for the shipped lexicon, like the test above; the held-out figure (part 1 built
    without these reports) is printed by `benchmarks/lexicon_holdout.py` and is in LEXICON.md.
    """
    figures = _coverage(tok, NATURAL_TERMS, "cpc-congress-reports", at_least=300)
    # measured, in-sample: 81.2% never cut, 93.2% of 4,874 occurrences uncut
    # (plain jieba: 40.8% and 51.8%; 75.9% and 89.9% before the reform-era field of part 3,
    # 71.0% and 85.2% before the older-period tier)
    assert figures["never cut"] >= 0.80, figures
    assert figures["occurrences uncut"] >= 0.92, figures


def test_party_building_terms_on_the_party_building_news(tok):
    """Party-building and grassroots terms as they come, on the news genre of the sample.

    In-sample for the shipped lexicon; the held-out figure is in LEXICON.md. Still below the
    government reports' figures: many cut terms are compounds of common words or local names
    (实践/活动, 公管/之声).
    """
    figures = _coverage(tok, PARTY_NEWS_TERMS, "party-building-news", at_least=200)
    # measured, in-sample: 63.2% isolated, 75.4% of occurrences uncut (plain jieba: 30.2%
    # and 51.7%; 52.4% and 70.6% before the new-era and news fields of part 3, 50.0% and
    # 69.9% before the grassroots field)
    assert figures["isolated"] >= 0.62, figures
    assert figures["occurrences uncut"] >= 0.75, figures


def test_lexicon_build_is_deterministic_and_keeps_the_curated_parts(tmp_path):
    """scripts/build_lexicon.py gives the same bytes twice; parts 2–3 are copied unchanged."""
    import importlib.util

    folder = corpora("gov-work-reports-provincial-2025")
    small = tmp_path / "reports"
    small.mkdir()
    for path in sorted(folder.glob("*.txt"))[:4]:
        (small / path.name).write_bytes(path.read_bytes())
    spec = importlib.util.spec_from_file_location("build_lexicon",
                                                  ROOT / "scripts" / "build_lexicon.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    shipped = ROOT / "textmine" / "data" / "lexicon.txt"
    first = build.build([small], shipped)
    assert build.build([small], shipped) == first
    head, _, curated = first.partition("\n# == part 2:")
    assert shipped.read_text(encoding="utf-8").endswith("# == part 2:" + curated)
    extracted = [line.split()[0] for line in head.split("# == part 1:")[1].splitlines()[1:]
                 if line.strip() and not line.startswith("#")]
    assert len(extracted) >= 50
    assert all(build.HAN.fullmatch(w) for w in extracted)
    assert not [w for w in extracted if any(term in w for term in COMMISSIONED)]


def test_curated_candidates_check_finds_the_terms_a_candidate_would_cut(tok):
    """scripts/check_curated.py: a candidate overlapping a commissioned term, and one ending
    inside a longer term of the national reports, are reported with what they would cut."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_curated",
                                                  ROOT / "scripts" / "check_curated.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    assert set(check.COMMISSIONED) == set(COMMISSIONED)
    assert check.commissioned_cuts(("治理效能", 1011, "n"), tok) == ["基层治理效能"]
    assert check.commissioned_cuts(("非物质文化遗产",), tok) == []
    texts = [p.read_text(encoding="utf-8")
             for p in sorted(corpora("gov-work-reports-national").glob("199*.txt"))]
    seen, crossed = check.crossings(["社会主义市场经济", "非物质文化遗产"], texts, tok)
    assert seen["社会主义市场经济"] >= 10
    assert crossed["社会主义市场经济"].most_common(1)[0][0] == "社会主义市场经济体制"
    assert sum(crossed["非物质文化遗产"].values()) == 0


# -- pickling, scikit-learn, process pools ------------------
def _cut_in_worker(tok_and_text):
    tok, text = tok_and_text
    return tok(text)


def test_pickles_without_its_dictionary_and_rebuilds_lazily(tok):
    tok.cut("预热")
    blob = pickle.dumps(tok)
    assert len(blob) < 5_000
    clone = pickle.loads(blob)
    assert "_engine" not in clone.__dict__
    text = "葫芦套村村集体增收40余万元，党建引领基层治理。"
    assert clone(text) == tok(text)
    assert clone.get_params() == tok.get_params()


def test_works_in_a_process_pool_and_in_tokenize_with_jobs(tok, sample_clean, sample_tokens):
    text = "葫芦套村村集体增收40余万元，党建引领基层治理。"
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(_cut_in_worker, [(tok, text)] * 2)) == [tok(text)] * 2
    docs = Corpus.from_texts({"a": SAMPLE.read_text(encoding="utf-8"), "b": "网格员走访老旧小区。",
                              "c": "羊肚菌增收40余万元。"})
    serial = tokenize(docs, tok, use_cache=False)
    pooled = tokenize(docs, tok, use_cache=False, n_jobs=2)
    pd.testing.assert_frame_equal(serial, pooled)


def test_as_a_scikit_learn_tokenizer(tok):
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = ["葫芦套村的羊肚菌增收40余万元。", "网格员走进老旧小区，党建引领基层治理。"]
    vec = TfidfVectorizer(tokenizer=tok, token_pattern=None, lowercase=False)
    vec.fit(docs)
    vocab = set(vec.get_feature_names_out())
    assert {"葫芦套村", "羊肚菌", "40余万元", "网格员", "老旧小区", "党建引领"} <= vocab
    assert "的" not in vocab and "，" not in vocab
    pickle.loads(pickle.dumps(vec)).transform(docs)


# -- the on-disk cache --------------------------------------
def _counting(monkeypatch):
    calls = []
    original = Tokenizer.tokenize_document

    def counted(self, text, sentences, *args, **kwargs):
        calls.append(text[:10])
        return original(self, text, sentences, *args, **kwargs)

    monkeypatch.setattr(Tokenizer, "tokenize_document", counted)
    return calls


def test_cache_rerun_segments_nothing_and_changes_recompute_what_they_affect(tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    texts = {"a": "葫芦套村的羊肚菌增收40余万元。", "b": "网格员走进老旧小区。",
             "c": "党建引领基层治理。"}
    first = tokenize(Corpus.from_texts(texts), Tokenizer(), cache_dir=tmp_path)
    assert len(calls) == 3 and first.attrs["cache"]["misses"] == 3
    again = tokenize(Corpus.from_texts(texts), Tokenizer(), cache_dir=tmp_path)
    assert len(calls) == 3 and again.attrs["cache"]["hits"] == 3
    pd.testing.assert_frame_equal(first, again)
    # a changed document: only it is segmented again
    changed = Corpus.from_texts({**texts, "b": "网格长走进老旧小区。"})
    tokenize(changed, Tokenizer(), cache_dir=tmp_path)
    assert len(calls) == 4 and calls[-1].startswith("网格长")
    # a changed lexicon changes every document's key
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("走进 n\n", encoding="utf-8")
    tokenize(Corpus.from_texts(texts), Tokenizer(userdicts=[userdict]), cache_dir=tmp_path)
    assert len(calls) == 7
    # and so does a changed stopword list or setting
    tokenize(Corpus.from_texts(texts), Tokenizer(hmm=False), cache_dir=tmp_path)
    assert len(calls) == 10


def test_cache_corrupt_entry_is_recomputed(tmp_path, monkeypatch):
    calls = _counting(monkeypatch)
    first = tokenize("网格员走进老旧小区。", Tokenizer(), cache_dir=tmp_path)
    entries = [p for p in (tmp_path / "tokens").rglob("*") if p.is_file()]
    assert len(entries) == 1
    blob = entries[0].read_bytes()
    entries[0].write_bytes(blob[: len(blob) // 2])  # a half-written entry
    second = tokenize("网格员走进老旧小区。", Tokenizer(), cache_dir=tmp_path)
    assert len(calls) == 2
    pd.testing.assert_frame_equal(first, second)


def test_cache_place_from_environment_and_switching_off(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTMINE_CACHE_DIR", str(tmp_path / "env"))
    df = tokenize("网格员走进老旧小区。", Tokenizer())
    assert df.attrs["cache"]["directory"] == str(tmp_path / "env")
    assert any((tmp_path / "env" / "tokens").rglob("*"))
    off = tmp_path / "off"
    tokenize("网格员走进老旧小区。", Tokenizer(), cache=Cache(off, enabled=False))
    tokenize("网格员走进老旧小区。", Tokenizer(), cache_dir=off, use_cache=False)
    assert not off.exists()


# -- command line -------------------------------------------
def test_cli_tokens_and_lexicon_check(tmp_path, capsys, monkeypatch):
    from textmine.cli import main

    monkeypatch.setenv("TEXTMINE_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text("葫芦套村的泉新泉驿增收40余万元。\n", encoding="utf-8")
    (folder / "userdict.txt").write_text("泉新泉驿 nz\n", encoding="utf-8")
    out = tmp_path / "tokens.parquet"
    assert main(["tokens", str(folder), "--out", str(out), "--quiet"]) == 0
    df = pd.read_parquet(out)
    assert list(df.columns) == TOKEN_COLUMNS
    assert {"葫芦套村", "泉新泉驿", "40余万元"} <= set(df["token"])
    entities_out = tmp_path / "entities.csv"
    assert main(["entities", str(SAMPLE), "--kinds", "all", "--out", str(entities_out),
                 "--quiet"]) == 0
    found = pd.read_csv(entities_out)
    assert list(found.columns) == ["doc_id", "token", "entity_class", "count"]
    places = found[found["entity_class"] == "place"].set_index("token")["count"]
    assert places["葫芦套村"] == 7 and "柳埠街道" in places.index
    assert main(["entities", str(SAMPLE), "--classes", "person", "--out", str(entities_out),
                 "--quiet"]) == 0
    assert set(pd.read_csv(entities_out)["entity_class"]) == {"person"}
    with pytest.raises(SystemExit, match="unknown class people"):
        main(["entities", str(SAMPLE), "--classes", "people", "--quiet"])
    assert main(["lexicon", "check", "羊肚菌", "羊肚", "--corpus", str(folder)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split("\t")[:3] == ["羊肚菌", "single", "羊肚菌"]
    assert lines[0].split("\t")[4].startswith("lexicon.txt:")


def test_load_corpus_folder_tokenizes_every_document(tok, tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "x.txt").write_text("网格员走进老旧小区。", encoding="utf-8")
    (folder / "y.txt").write_text("羊肚菌增收。", encoding="utf-8")
    df = tokenize(load_corpus(folder), tok, use_cache=False)
    assert sorted(df["doc_id"].unique()) == ["x", "y"]


def test_compact_tokens_codes_point_to_the_documents_own_distinct_words(tok):
    """compact_tokens replaces each token by a code into the document's distinct words, in
    vocabulary order; the codes give back every token of tokenize_document."""
    text = SAMPLE.read_text(encoding="utf-8")
    sentences = [(0, 0, len(text))]
    full = tok.tokenize_document(text, sentences)
    compact = tok.compact_tokens(text, sentences)
    words = compact["words"]
    assert len(set(words)) == len(words)
    assert [words[c] for c in compact["token_code"].tolist()] == full["token"].tolist()
    rows = [tok.vocabulary.index[w] for w in words]
    assert rows == sorted(rows)
    assert [compact["pos_names"][c] for c in compact["pos_code"].tolist()] == \
        full["pos"].tolist()


def test_a_built_tokenizer_has_built_the_span_detector_tables():
    """Building a tokenizer also compiles the formulation scan's patterns and reads jieba's
    idioms, so its first document with a quotation costs no more than the others."""
    from textmine import formulations

    for cached in (formulations._candidate_re, formulations._lexicon_re, formulations._idioms):
        cached.cache_clear()
    Tokenizer()._ensure()  # builds the tokenizer
    for cached in (formulations._candidate_re, formulations._lexicon_re, formulations._idioms):
        assert cached.cache_info().currsize == 1, cached


def test_vocabulary_rows_stay_whole_after_an_error_while_describing_new_words():
    """A token gets its row as it is looked up; if describing the new tokens fails, the next
    lookup still fills their rows, so no row is left without its word."""
    from textmine.segment import _Vocabulary

    vocab = _Vocabulary()

    def failing(words):
        raise RuntimeError("no description")

    def describe(words):
        return [("n", False, False, False)] * len(words)

    with pytest.raises(RuntimeError):
        vocab.rows(["乡村", "振兴"], failing)
    rows = vocab.rows(["振兴", "党建"], describe)
    assert vocab.words[rows].tolist() == ["振兴", "党建"]
    assert vocab.words[vocab.rows(["乡村"], describe)].tolist() == ["乡村"]
