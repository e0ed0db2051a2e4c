"""Rebuild part 1 of textmine/data/lexicon.txt: terms extracted from development corpora.

Part 1 holds word sequences that jieba cuts but the reports use as one term (零基预算, 有效投资,
工业增加值 …). They are found by a statistical rule on named corpus folders; the hand-curated
parts 2 and 3 are read from the lexicon and kept, words and tags as they are, frequencies
raised only where two curated entries overlap (see ``curated_frequencies``). The rules, and why each
exists, are in textmine/data/LEXICON.md ("Part 1"); in short:

1. every document is tokenized by jieba's default dictionary (HMM on, through textmine's
   Tokenizer without its lexicon or protected spans); runs of Han tokens are kept;
2. sequences of 2–6 tokens, 3–10 Han characters, are counted (occurrences, documents, and
   the same in each *period*: file names starting with a year ≥ 2018, or an earlier year);
3. a sequence is a candidate when it is frequent enough in all documents (general tier) or in
   one period (period tiers, lower cohesion: new policy vocabulary is rare in the decades of
   older reports, and the vocabulary of those decades is diluted by the recent ones),
   shaped like a noun phrase (function words, rhetoric verbs, trend words and numerals
   excluded at the edges; jieba's dictionary words that it mis-tags as person names, 养老
   幼儿园, may end one after a noun), not a fragment of a dictionary word or of a longer
   sequence, and holds no commissioned or curated term; a sequence that passes a period
   tier only must not hide a shorter candidate ending it (its head, frequent on its own)
   behind a free modifier in half or more of the head's occurrences (经济发展新常态, 发展新常态
   would hide 新常态);
4. the documents are tokenized with all three parts and an entry is pruned when one of its
   tokens crosses an occurrence of a curated (part 2 or 3) or commissioned term, when one
   of its tokens starts inside an occurrence of an entry at least as frequent (it took that
   entry's head: 建设长效机制 after 重大项目建设), or when more than a quarter of its
   occurrences start inside a dictionary word plain jieba makes there and that is at least as
   frequent (市场 / 经济规律 in 市场经济规律); repeated until none is.

Frequency of an entry: ``max(3 × suggest_freq, 1000 + crc32(word) mod 997)``. Where two
curated entries overlap by three characters or more (全国统一大市场, 统一大市场建设), the left
one's frequency is raised, at most fourfold, until it is the token in the joined string.

Deterministic: the same folders and lexicon give the same bytes. Usage::

    python scripts/build_lexicon.py                    # all development corpora, in place
    python scripts/build_lexicon.py --exclude gov-work-reports-provincial-2026 --out /tmp/l.txt
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textmine.segment import (  # noqa: E402
    Tokenizer,
    bundled_lexicon_path,
    bundled_stopwords_path,
    read_stopwords,
)

CORPORA = ROOT.parent / "shared" / "corpora"
#: The development corpora, in ../shared/corpora, plus the sample report (corpus/).
DEFAULT_FOLDERS = ("gov-work-reports-national", "gov-work-reports-provincial-2025",
                   "gov-work-reports-provincial-2026", "cpc-congress-reports",
                   "party-building-news")

#: The terms the project was commissioned to count: never inside (or crossed by) an entry.
COMMISSIONED = ("羊肚菌", "葫芦套村", "党建引领", "第一书记", "网格员", "网格长", "乡村振兴",
                "党群服务中心", "新就业群体", "老旧小区", "高质量发展", "强省会", "基层治理",
                "两委", "二十大")

PART1_HEADER = "# == part 1: extracted terms"
PART2_HEADER = "# == part 2:"

# -- thresholds (see LEXICON.md) ---------------------------------------------------------
MIN_TOKENS, MAX_TOKENS = 2, 6
MIN_CHARS, MAX_CHARS = 3, 10
RECENT_YEAR = 2018
#: general tier: occurrences, documents, cohesion over all documents
GENERAL_FREQ, GENERAL_DOCS, GENERAL_COHESION = 4, 3, 0.10
#: period tiers: the documents whose file name starts with a year in [first, end): recent
#: (2018 on) and older reports; each period's vocabulary is measured against that period's
#: documents only, with the same measures
PERIODS = ((RECENT_YEAR, 10000), (0, RECENT_YEAR))
PERIOD_FREQ, PERIOD_DOCS, PERIOD_COHESION = 4, 3, 0.04
#: hidden head: a sequence that passes a period tier only is left out when its last tokens
#: are a shorter candidate (the head) that occurs ≥ PERIOD_FREQ times without it, its
#: occurrences are at least HEAD_SHARE of the head's (it would hide the head in most of its
#: uses) and under PERIOD_COHESION of those of the tokens before the head (a free modifier,
#: not part of a term): 经济 / 发展新常态 and 发展 / 新常态 hid 新常态; None: not checked
HEAD_SHARE: float | None = 0.5
#: fragment: one character on a side this often, forming a dictionary word with the edge token
FRAGMENT_SHARE = 0.60
#: bound: one token next to this share of the occurrences
BOUND_SHARE = 0.90
#: an entry whose tokens cut another entry's occurrence this often is a fragment
CUT_SHARE = 0.0
#: established words: an entry is a fragment when more than this share of its occurrences
#: start inside a word of jieba's dictionary that plain jieba makes at that place and that is
#: at least as frequent in the documents (市场 / 经济规律 in 市场经济规律); None: not checked
ESTABLISHED_SHARE: float | None = 0.25
#: curated entries sharing at least this many characters at an edge are resolved
OVERLAP_CHARS = 3
#: raise step and final margin of a curated frequency that must win an overlap, and the most
#: it may be raised to, as a multiple of the frequency rule's value (`entry_freq`)
RAISE_STEP, RAISE_MARGIN, RAISE_CAP = 1.25, 1.25, 4

HAN = re.compile("[\u4e00-\u9fff]+")
YEAR = re.compile(r"(\d{4})")
TIME = re.compile("[年月日时今去明前后]")
#: age groups jieba tags as time words: they start terms (青年人才, 老年助餐)
AGE_GROUPS = frozenset("青年 老年 中年 少年 壮年".split())

#: POS tags that may not occur anywhere in a term (particles, conjunctions, prepositions,
#: pronouns), may not start one, or may not end one.
POS_NOWHERE = {"d", "ad", "u", "uj", "ul", "uz", "ug", "uv", "ud", "c", "p", "r", "y", "e", "o"}
POS_NO_START = POS_NOWHERE | {"q", "f", "d", "ad", "m", "mq", "zg", "rr", "rz", "dg", "k"}
POS_NO_END = POS_NOWHERE | {"m", "mq", "q", "a", "ad", "d", "b", "f", "t", "z", "nr",
                            "nrfg", "nrt", "dg", "ag", "tg", "k"}
#: words that make a clause wherever they stand (幸福生活是头等大事), and characters of the
#: page furniture of web copies (版权, 模板: Wikisource notices)
CLAUSE_WORDS = frozenset("是 为 有 把 将 被 让 使".split())
FURNITURE = ("版权", "模板", "失效", "维基")
#: verbs of report rhetoric: a sequence starting with one is a phrase, not a term (the
#: single-character ones make slogans: 稳市场 would read 稳市场 / 主体 in 稳市场主体)
RHETORIC_START = frozenset("""
加快 深入 推进 推动 加强 扎实 持续 积极 大力 不断 进一步 着力 坚持 切实 努力 更加 更好 全力 坚决
取得 实现 完成 确保 深化 落实 统筹 强化 健全 完善 优化 提升 提高 促进 支持 鼓励 引导 做好
抓好 加大 扩大 巩固 稳步 有序 有力 认真 继续 开展 实施 建立 构建 打造 培育 发挥 增强 保持 维护
贯彻 坚定 始终 全方位 大幅 显著 明显 初步 逐步 主动 广泛 充分 创建 召开 举办 启动 出台
制定 印发 发布 形成 打好 打赢 用好 管好 办好 守住 筑牢 夯实
稳 保 促 抓 强 扩 提 降 减 增 防 兴 办
""".split())
#: generic heads: a sequence ending with one names an attribute of something, not a policy,
#: programme or institution (市场主体活力, 疫情冲击, 创新能力)
GENERIC_HEADS = frozenset("""
活力 冲击 影响 作用 能力 水平 效益 效率 速度 比重 意识 地位 优势 潜力 动力 压力 形势 态势 趋势
情况 特点 要求 需要 愿望 信心 热情 积极性 主动性 创造性 重要性 必要性
""".split())
#: jieba dictionary tags of the single characters that may not begin or end an HMM word
#: (function words, verbs and measure words: 对受, 降费及, 个省)
EDGE_CHAR_TAGS = POS_NOWHERE | {"p", "c", "v", "q"}
#: tokens after which a dictionary word tagged as a person name may end a term (a name noun
#: before it, not a verb: 建设高素质 is a clause)
NOUN_BEFORE_NAME = {"n", "nz", "nt", "ns", "nl", "ng", "an", "j", "l", "x", "s"}
#: dictionary "names" that are adverbial phrases (明显提高, 严格执行): they end no term
NAME_RHETORIC_PREFIXES = ("明显", "严格", "广泛", "大力")
#: tags of nominal tokens (a verb may head a term only after one of these: 民生保障, 环保督察)
NOMINAL = {"n", "vn", "nz", "nt", "ns", "nl", "ng", "an", "j", "l", "x", "s"}
#: generic verbs that do not head a term even after a noun (步伐加快, 发展作出, 中国成立)
GENERIC_VERBS = frozenset("""
作出 做出 进行 成立 召开 举行 开展 加快 推进 推动 加强 提高 提升 实现 完成 取得 形成 发挥 坚持
开始 出现 需要 成为 得到 受到 表示 认为 指出 强调 要求 决定 通过 参加 参与 组织 领导 带领 学习
贯彻 落实 支持 鼓励 保持 增强 扩大 加大 改善 促进 发生 存在 具有 坚决 不断 努力 相 办
反映 上榜 用于 作 建成 回顾 占 入选 获批 荣获 获得 列入 纳入 位居 达到 达 超 创 用 作为
没有 进入 接受 超过 危害 弘扬 开来 区别 走在 居于 位于 属于 来自
""".split())
#: rhetoric adverbs also start the longer words jieba makes of them (切实加强, 认真贯彻)
RHETORIC_PREFIXES = ("切实", "认真", "深入", "积极", "大力", "坚决", "充分", "广泛", "始终", "坚定",
                     "全力", "努力", "不断", "进一步", "着力", "持续", "扎实")
#: trend words: a sequence ending with one is a statement about a figure, not a term
TREND_END = frozenset("""
增长 下降 提高 增加 突破 局面 以上 以下 左右 减少 上升 扩大 提升 翻番 超过 达到 实现 取得 完成
明显 显著 成效 进展 成绩 成果 方面 力度 步伐
""".split())


class Stats:
    """Counts of one token sequence, in all documents and in each period (slots: millions of
    them are counted)."""

    __slots__ = ("freq", "docs", "last_doc", "period_freq", "period_docs", "period_last")

    def __init__(self) -> None:
        self.freq = self.docs = 0
        self.last_doc = -1
        self.period_freq = [0] * len(PERIODS)
        self.period_docs = [0] * len(PERIODS)
        self.period_last = [-1] * len(PERIODS)


class Vocabulary(NamedTuple):
    """Word lists the shape rules consult."""

    #: stopwords: no term starts or ends with one
    stop: frozenset[str]
    #: function characters (one-character stopwords that are prepositions, conjunctions,
    #: particles, adverbs, verbs or measure words): a word jieba's HMM made does not begin or
    #: end with one (对受, 降费及 are not words, but 零碳, 多式 are: 零 and 多 are stopwords
    #: yet numerals, not function characters)
    edge_chars: frozenset[str]
    #: words of jieba's dictionary it tags as person names although most are not (养老, 幼儿园,
    #: 林权, 高新区): they may end a term after a noun (普惠养老, 公办幼儿园, 集体林权)
    dictionary_names: frozenset[str]


def vocabulary(stop: frozenset[str]) -> Vocabulary:
    """The stopwords, the function characters among them and jieba's "person names"."""
    import jieba.posseg

    tags = jieba.posseg.dt.word_tag_tab
    edge_chars = frozenset(w for w in stop if len(w) == 1 and tags.get(w) in EDGE_CHAR_TAGS)
    names = frozenset(w for w, t in tags.items()
                      if t == "nr" and len(w) >= 2 and w not in stop
                      and not w.startswith(RHETORIC_PREFIXES + NAME_RHETORIC_PREFIXES))
    return Vocabulary(stop, edge_chars, names)


def read_folders(folders: Sequence[Path]) -> list[tuple[str, str, int]]:
    """(name, text, period) for every .txt file of the folders, in sorted order; period is the
    index in PERIODS of the year starting the file name, -1 for none."""
    docs = []
    for folder in folders:
        for path in sorted(folder.glob("*.txt")):
            if path.name.upper().startswith(("MANIFEST", "README")):
                continue
            m = YEAR.match(path.stem)
            year = int(m.group(1)) if m else None
            period = next((i for i, (a, b) in enumerate(PERIODS)
                           if year is not None and a <= year < b), -1)
            docs.append((f"{folder.name}/{path.name}", path.read_text(encoding="utf-8"), period))
    return docs


def curated_parts(lexicon: Path) -> tuple[list[str], list[str]]:
    """(lines from the part-2 header to the end, part-2 and part-3 words)."""
    lines = lexicon.read_text(encoding="utf-8").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(PART2_HEADER))
    tail = lines[start:]
    words = [line.split()[0] for line in tail if line.strip() and not line.startswith("#")]
    return tail, words


def part2_words(tail: list[str]) -> list[str]:
    """The words of part 2 only (before the part-3 header)."""
    out = []
    for line in tail[1:]:
        if line.startswith("# == part"):
            break
        if line.strip() and not line.startswith("#"):
            out.append(line.split()[0])
    return out


def overlaps(words: Sequence[str]) -> list[tuple[str, str, str]]:
    """(left, right, joined) for the pairs of words where the end of one is the start of the
    other by at least OVERLAP_CHARS characters (全国统一大市场 + 统一大市场建设), neither holding
    the other and the joined string not itself a word."""
    ordered = sorted(set(words))
    known = set(ordered)
    by_prefix: dict[str, list[str]] = {}
    for w in ordered:
        for k in range(OVERLAP_CHARS, len(w)):
            by_prefix.setdefault(w[:k], []).append(w)
    out = []
    for x in ordered:
        for k in range(len(x) - 1, OVERLAP_CHARS - 1, -1):
            for y in by_prefix.get(x[-k:], ()):
                joined = x + y[k:]
                if y != x and y not in x and x not in y and joined not in known:
                    out.append((x, y, joined))
    return out


def curated_frequencies(tail: list[str]) -> list[str]:
    """Parts 2–3 with the frequency raised where two curated entries overlap, so that in the
    joined string the left one is a token: 全国统一大市场 / 建设, not 全国 / 统一大市场建设.

    Chinese terms are head-final: the right entry's extra characters are usually a head
    that takes the whole left term as modifier (建设, 全国统筹, 比例); step 6 of part 1 keeps
    the left entry for the same reason. A commissioned term always wins its overlaps. Depends
    only on jieba's dictionary and the curated words, so building twice changes nothing.
    """
    import jieba

    base = jieba.Tokenizer()
    base.initialize()
    tk = jieba.Tokenizer()
    tk.initialize()
    entries = [p for p in (line.split() for line in tail if not line.startswith("#"))
               if len(p) > 1 and p[1].isdigit()]
    for word, freq, *_ in entries:
        tk.add_word(word, int(freq))
    pairs = overlaps([e[0] for e in entries if HAN.fullmatch(e[0])])
    commissioned = set(COMMISSIONED)
    for _ in range(20):
        changed = False
        for left, right, joined in pairs:
            winner = right if right in commissioned and left not in commissioned else left
            if winner in tk.lcut(joined, HMM=False):
                continue
            before = freq = tk.FREQ[winner]
            cap = RAISE_CAP * entry_freq(winner, base)
            while freq < cap:
                freq = min(int(freq * RAISE_STEP) + 1, cap)
                tk.add_word(winner, freq)
                if winner in tk.lcut(joined, HMM=False):
                    tk.add_word(winner, min(int(freq * RAISE_MARGIN), cap))
                    changed = True
                    break
            else:  # it would take a larger frequency (a joined string of no real use): leave
                tk.add_word(winner, before)
        if not changed:
            break
    out = []
    for line in tail:
        parts = line.split()
        if not line.startswith("#") and len(parts) > 1 and parts[1].isdigit() \
                and tk.FREQ.get(parts[0], 0) > int(parts[1]):
            line = " ".join([parts[0], str(tk.FREQ[parts[0]]), *parts[2:]])
        out.append(line)
    return out


def han_runs(tagged: list[tuple[str, str, int, int]], text: str
             ) -> Iterable[tuple[list[str], list[str], list[int], list[int]]]:
    """Maximal runs of Han-only tokens: (words, tags, starts, ends)."""
    words: list[str] = []
    tags: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for w, t, s, e in tagged:
        if HAN.fullmatch(w):
            words.append(w)
            tags.append(t)
            starts.append(s)
            ends.append(e)
        elif words:
            yield words, tags, starts, ends
            words, tags, starts, ends = [], [], [], []
    if words:
        yield words, tags, starts, ends


def tagged_runs(docs: list[tuple[str, str, int]], tok: Tokenizer
                ) -> list[tuple[int, str, list[str], list[str], list[int], list[int]]]:
    """(document index, line, words, tags, starts, ends) of every Han run of every line."""
    out = []
    for d, (_, text, _) in enumerate(docs):
        for line in text.split("\n"):
            if HAN.search(line):
                out.extend((d, line, *run) for run in han_runs(tok.tag(line), line))
    return out


def sequences(runs, vocab: Vocabulary
              ) -> Iterable[tuple[int, tuple[str, ...], str, int, int, list[str]]]:
    """(document, token sequence, line, first and last token index, the run's tokens) of every
    sequence shaped like a term: 2–6 tokens, 3–10 characters, no function word or adverb
    inside (an adverb makes a clause: 积极性充分调动), allowed first and last tokens."""
    stop, edge_chars, names = vocab
    for d, line, words, tags, _, _ in runs:
        n = len(words)
        for i in range(n - 1):
            w, t = words[i], tags[i]
            if t in POS_NO_START or t == "v" or w in stop or w in RHETORIC_START \
                    or w.startswith(RHETORIC_PREFIXES) or w in CLAUSE_WORDS \
                    or (t == "t" and TIME.search(w) and w not in AGE_GROUPS) \
                    or (t == "x" and (w[0] in edge_chars or w[-1] in edge_chars)):
                continue
            chars = len(words[i])
            for j in range(i + 1, min(n, i + MAX_TOKENS)):
                w = words[j]
                if tags[j] in POS_NOWHERE or w in CLAUSE_WORDS or any(
                        f in w for f in FURNITURE) or (tags[j] == "x" and (w[0] in edge_chars
                                                                          or w[-1] in edge_chars)):
                    break
                chars += len(words[j])
                if chars > MAX_CHARS:
                    break
                if chars < MIN_CHARS:
                    continue
                if tags[j] == "nr" and words[j] in names and tags[j - 1] in NOUN_BEFORE_NAME \
                        and words[j] not in GENERIC_HEADS and words[j][-2:] not in TREND_END:
                    yield d, tuple(words[i:j + 1]), line, i, j, words
                    continue
                if tags[j] in POS_NO_END or words[j] in stop or words[j] in TREND_END \
                        or words[j][-2:] in TREND_END or words[j] in GENERIC_HEADS:
                    continue
                if tags[j][0] == "v" and tags[j] != "vn" and (
                        tags[j - 1] not in NOMINAL or words[j] in GENERIC_VERBS
                        or words[j] in RHETORIC_START):
                    continue
                yield d, tuple(words[i:j + 1]), line, i, j, words


def count(docs: list[tuple[str, str, int]], runs, vocab: Vocabulary
          ) -> tuple[dict[tuple[str, ...], Stats], Counter, list[Counter], dict[str, Counter]]:
    """Sequence statistics, token counts (all and per period) and each token's POS counts."""
    seqs: dict[tuple[str, ...], Stats] = {}
    unigrams: Counter = Counter()
    period_unigrams: list[Counter] = [Counter() for _ in PERIODS]
    pos: dict[str, Counter] = {}
    for d, _, words, tags, _, _ in runs:
        period = docs[d][2]
        for w, t in zip(words, tags, strict=True):
            unigrams[w] += 1
            if period >= 0:
                period_unigrams[period][w] += 1
            pos.setdefault(w, Counter())[t] += 1
    for d, key, _, _, _, _ in sequences(runs, vocab):
        st = seqs.get(key)
        if st is None:
            st = seqs[key] = Stats()
        st.freq += 1
        if st.last_doc != d:
            st.docs += 1
            st.last_doc = d
        period = docs[d][2]
        if period >= 0:
            st.period_freq[period] += 1
            if st.period_last[period] != d:
                st.period_docs[period] += 1
                st.period_last[period] = d
    return seqs, unigrams, period_unigrams, pos


def contexts(runs, vocab: Vocabulary, keys: set[tuple[str, ...]]
             ) -> dict[tuple[str, ...], tuple[Counter, Counter]]:
    """The Han token before and after each occurrence of the given sequences ("" for none)."""
    out: dict[tuple[str, ...], tuple[Counter, Counter]] = {k: (Counter(), Counter()) for k in keys}
    for _, key, _, i, j, words in sequences(runs, vocab):
        sides = out.get(key)
        if sides is not None:
            sides[0][words[i - 1] if i > 0 else ""] += 1
            sides[1][words[j + 1] if j + 1 < len(words) else ""] += 1
    return out


def head_tag(pos: Counter) -> str:
    """Entry POS from the head (last) token's most common jieba tag."""
    tag = pos.most_common(1)[0][0] if pos else "n"
    if tag in ("n", "vn", "nz", "nt", "ns"):
        return tag
    if tag.startswith("v"):
        return "vn"
    if tag in ("x", "l", "i", "j"):
        return "nz"
    return "n"


def select(seqs: dict[tuple[str, ...], Stats], unigrams: Counter, period_unigrams: list[Counter],
           pos: dict[str, Counter], dictionary: dict[str, int], forbidden: Sequence[str],
           runs, vocab: Vocabulary) -> dict[str, tuple[int, str]]:
    """word → (occurrences, POS) for the sequences that pass the rules."""
    frequent: list[tuple[str, ...]] = []
    period_only: set[tuple[str, ...]] = set()
    for key, st in seqs.items():
        general = (st.freq >= GENERAL_FREQ and st.docs >= GENERAL_DOCS
                   and st.freq >= GENERAL_COHESION * min(unigrams[w] for w in key))
        period = any(n >= PERIOD_FREQ and st.period_docs[i] >= PERIOD_DOCS
                     and n >= PERIOD_COHESION * min(period_unigrams[i][w] for w in key)
                     for i, n in enumerate(st.period_freq))
        if not (general or period):
            continue
        word = "".join(key)
        if any(f in word for f in forbidden):
            continue
        frequent.append(key)
        if not general:
            period_only.add(key)
    sides = contexts(runs, vocab, set(frequent))
    words = {"".join(k) for k in frequent}
    chosen: dict[str, tuple[int, str]] = {}
    kept: set[tuple[str, ...]] = set()
    for key in sorted(frequent):
        left, right = sides[key]
        freq = seqs[key].freq
        if _fragment(left, freq, key[0], True, dictionary, words) or \
                _fragment(right, freq, key[-1], False, dictionary, words):
            continue
        word = "".join(key)
        if word in chosen:  # the same characters cut two ways: keep the counts of both
            freq += chosen[word][0]
        chosen[word] = (freq, head_tag(pos[key[-1]]))
        kept.add(key)
    if HEAD_SHARE is not None:
        for word in hidden_heads(seqs, period_only & kept, kept, runs):
            chosen.pop(word, None)
    return chosen


def hidden_heads(seqs: dict[tuple[str, ...], Stats], period_only: set[tuple[str, ...]],
                 kept: set[tuple[str, ...]], runs) -> list[str]:
    """The candidates of `period_only` that would hide a shorter candidate ending them (the
    head): they hold at least HEAD_SHARE of the head's occurrences, the head occurs at least
    PERIOD_FREQ times without them (a term in its own right), and the tokens before the head
    are a free modifier (the candidate's occurrences are under PERIOD_COHESION of the
    modifier's). 发展 / 新常态 and 经济 / 发展新常态 (经济发展新常态) hid 新常态."""
    pairs = [(key, i) for key in sorted(period_only) for i in range(1, len(key) - 1)
             if key[i:] in kept and seqs[key].freq >= (HEAD_SHARE or 0) * seqs[key[i:]].freq
             and seqs[key[i:]].freq - seqs[key].freq >= PERIOD_FREQ]
    modifiers = {key[:i] for key, i in pairs}
    if not modifiers:
        return []
    longest = max(map(len, modifiers))
    counts: Counter = Counter()
    for _, _, words, _, _, _ in runs:
        for a in range(len(words)):
            for b in range(a + 1, min(len(words), a + longest) + 1):
                if tuple(words[a:b]) in modifiers:
                    counts[tuple(words[a:b])] += 1
    return sorted({"".join(key) for key, i in pairs
                   if seqs[key].freq < PERIOD_COHESION * counts[key[:i]]})


def _fragment(side: Counter, freq: int, edge: str, before: bool, dictionary: dict[str, int],
              words: set[str]) -> bool:
    """Whether the neighbours on one side (`before`: the tokens preceding the sequence, else
    those following it) show the sequence to be a piece cut out of longer terms:
    - one Han character next to most occurrences makes a dictionary word or a frequent
      sequence with the edge token (新 + 时代 in 新时代中国特色, 新 + 业态 in 新业态新模式), or
    - one token follows nearly every occurrence (人均可支配 + 收入): the sequence modifies a
      head it is never without. (Nearly always preceded by one token is fine: the head-final
      term 制造业集群 is still itself in 先进制造业集群.)
    """
    chars: Counter = Counter()
    for token, n in side.items():
        chars[token[-1:] if before else token[:1]] += n
    for ch, n in chars.most_common(1):
        joined = ch + edge if before else edge + ch
        if ch and n > FRAGMENT_SHARE * freq and (dictionary.get(joined, 0) > 0
                                                 or joined in words):
            return True
    return not before and any(token and n > BOUND_SHARE * freq
                              for token, n in side.most_common(1))


def entry_freq(word: str, jieba_tk) -> int:
    """``max(3 × suggest_freq, 1000 + crc32(word) mod 997)``, never below jieba's own frequency."""
    floor = 1000 + zlib.crc32(word.encode("utf-8")) % 997
    own = jieba_tk.FREQ.get(word, 0)
    return max(3 * jieba_tk.suggest_freq(word, False), floor, own)


def render(entries: list[tuple[str, int, str]], tail: list[str], folders: Sequence[str],
           lexicon: Path) -> str:
    """The whole lexicon file: preamble, generated part 1, then parts 2–3 (`tail`)."""
    text = lexicon.read_text(encoding="utf-8")
    head = text[: text.index(PART1_HEADER)] if PART1_HEADER in text else ""
    lines = [f"{PART1_HEADER} (generated by scripts/build_lexicon.py; do not edit by hand)",
             f"# from: {', '.join(folders)}",
             f"# {len(entries)} entries; rules and thresholds: textmine/data/LEXICON.md",
             *(f"{w} {f} {t}" for w, f, t in entries), ""]
    return head + "\n".join(lines) + "\n" + "\n".join(tail)


def crossings(docs: list[tuple[str, str, int]], lexicon_text: str, part1: set[str],
              protected: Sequence[str], words: dict[str, int],
              established: dict[str, list[tuple[int, int, int]]] | None = None
              ) -> tuple[Counter, Counter, Counter, Counter]:
    """How part-1 entries cut other terms on the documents tokenized with `lexicon_text`.

    Returns (crossings of a protected term, occurrences that cut another entry, occurrences
    that cut an established word, occurrences) per part-1 entry. A token crosses a term
    occurrence when one of its ends falls strictly inside it; a commissioned term inside a
    longer token is crossed as well (it must be exact).
    A token cuts another entry when its start falls inside an occurrence of an entry at least
    as frequent (`words`: entry → occurrences): it has taken that entry's head; it cuts an
    established word when its start falls inside one at least as frequent (`established`:
    line → (start, end, occurrences) of the dictionary words plain jieba makes there).
    """
    established = established or {}
    longest = max(map(len, words), default=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lexicon.txt"
        path.write_text(lexicon_text, encoding="utf-8")
        tok = Tokenizer(bundled_lexicon=False, userdicts=[path])
        bad: Counter = Counter()
        cuts: Counter = Counter()
        broken: Counter = Counter()
        seen: Counter = Counter()
        for _, text, _ in docs:
            for line in text.split("\n"):
                tokens = [(w, s, e) for w, _, s, e in tok.tag(line) if w in part1]
                if not tokens:
                    continue
                hits = [(i, i + len(t)) for t in protected if t in line
                        for i in _find_all(line, t)]
                n = len(line)
                for w, s, e in tokens:
                    seen[w] += 1
                    if any(s < a < e < b or a < s < b < e or (s <= a and b <= e and
                           (s, e) != (a, b) and line[a:b] in COMMISSIONED)
                           for a, b in hits):
                        bad[w] += 1
                    if any(words.get(line[a:b], -1) >= words.get(w, 0)
                           for a in range(max(0, s - longest + 1), s)
                           for b in range(s + 1, min(n, a + longest) + 1)):
                        cuts[w] += 1
                    if any(a < s < b and k >= words.get(w, 0)
                           for a, b, k in established.get(line, ())):
                        broken[w] += 1
        return bad, cuts, broken, seen


def established_words(runs, unigrams: Counter, dictionary: dict[str, int]
                      ) -> dict[str, list[tuple[int, int, int]]]:
    """line → (start, end, occurrences in the documents) of the words of jieba's dictionary
    that plain jieba makes in it (HMM words are not established)."""
    out: dict[str, set[tuple[int, int, int]]] = {}
    for _, line, words, _, starts, ends in runs:
        spans = out.setdefault(line, set())
        spans.update((s, e, unigrams[w]) for w, s, e in zip(words, starts, ends, strict=True)
                     if len(w) > 1 and dictionary.get(w, 0) > 0)
    return {line: sorted(spans) for line, spans in out.items() if spans}


def _find_all(text: str, term: str) -> Iterable[int]:
    i = text.find(term)
    while i >= 0:
        yield i
        i = text.find(term, i + 1)


def build(folders: Sequence[Path], lexicon: Path, sample: Path | None = None,
          verbose: bool = False, report: Path | None = None) -> str:
    """The lexicon text with part 1 extracted from `folders` (and the sample report folder)."""
    import jieba

    t0 = time.process_time()
    all_folders = list(folders) + ([sample] if sample is not None else [])
    docs = read_folders(all_folders)
    tail, curated = curated_parts(lexicon)
    tail = curated_frequencies(tail)
    stop = frozenset(read_stopwords(bundled_stopwords_path()))
    tok = Tokenizer(bundled_lexicon=False, protect_spans=False)
    vocab = vocabulary(stop)
    runs = tagged_runs(docs, tok)
    seqs, unigrams, period_unigrams, pos = count(docs, runs, vocab)
    jieba_tk = jieba.Tokenizer()
    jieba_tk.initialize()
    forbidden = sorted(set(COMMISSIONED) | set(curated))
    chosen = select(seqs, unigrams, period_unigrams, pos, jieba_tk.FREQ, forbidden, runs,
                    vocab)
    curated_set = set(curated)
    chosen = {w: v for w, v in chosen.items() if w not in curated_set}
    if verbose:
        print(f"{len(docs)} documents, {len(seqs):,} sequences, {len(chosen):,} candidates "
              f"({time.process_time() - t0:.1f}s)", file=sys.stderr)
    entries = sorted(((w, entry_freq(w, jieba_tk), t) for w, (n, t) in chosen.items()),
                     key=lambda e: (-chosen[e[0]][0], e[0]))
    protected = sorted(set(curated) | set(COMMISSIONED), key=lambda w: (-len(w), w))
    names = [f.name for f in all_folders]
    pruned: list[tuple[str, int, int, int, int]] = []
    established = (established_words(runs, unigrams, jieba_tk.FREQ)
                   if ESTABLISHED_SHARE is not None else None)
    for _ in range(6):
        text = render(entries, tail, names, lexicon)
        part1 = {w for w, _, _ in entries}
        weights = {w: chosen[w][0] for w in part1} | dict.fromkeys(curated, 1 << 30)
        bad, cuts, broken, seen = crossings(docs, text, part1, protected, weights, established)
        drop = set(bad) | {w for w, n in cuts.items() if n > CUT_SHARE * seen[w]} | {
            w for w, n in broken.items() if n > (ESTABLISHED_SHARE or 0) * seen[w]}
        for w in sorted(drop):
            pruned.append((w, bad[w], cuts[w], broken[w], seen[w]))
        if verbose:
            print(f"pruned {len(bad)} crossing curated terms, {len(drop) - len(bad)} cutting "
                  f"other entries or established words", file=sys.stderr)
        if not drop:
            break
        entries = [e for e in entries if e[0] not in drop]
    if report is not None:
        report.write_text("".join(f"{w}\t{b}\t{c}\t{k}\t{n}\n" for w, b, c, k, n in pruned),
                          encoding="utf-8")
    if verbose:
        print(f"{len(entries):,} entries ({time.process_time() - t0:.1f}s)", file=sys.stderr)
    return render(entries, tail, names, lexicon)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpora", type=Path, default=CORPORA,
                        help="folder holding the corpus folders (default ../shared/corpora)")
    parser.add_argument("--folders", nargs="+", default=list(DEFAULT_FOLDERS),
                        help="corpus folder names (or paths) to extract from")
    parser.add_argument("--exclude", nargs="*", default=[],
                        help="folder names to leave out (e.g. a held-out corpus)")
    parser.add_argument("--sample", type=Path, default=ROOT / "corpus",
                        help="the sample report folder, also read ('' to skip)")
    parser.add_argument("--lexicon", type=Path, default=bundled_lexicon_path(),
                        help="lexicon whose parts 2–3 are kept (default: the bundled one)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write (default: overwrite --lexicon)")
    parser.add_argument("--report", type=Path, default=None,
                        help="write the pruned entries (word, crossings of curated terms, "
                             "occurrences cutting other entries, occurrences cutting "
                             "established words, occurrences) to this file")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    folders = [f if Path(f).is_absolute() else args.corpora / f
               for f in args.folders if Path(f).name not in set(args.exclude)]
    missing = [str(f) for f in folders if not Path(f).is_dir()]
    if missing:
        parser.error(f"missing corpus folders: {', '.join(missing)}")
    sample = args.sample if str(args.sample) not in ("", ".") else None
    text = build([Path(f) for f in folders], args.lexicon, sample, verbose=not args.quiet,
                 report=args.report)
    out = args.out or args.lexicon
    out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
