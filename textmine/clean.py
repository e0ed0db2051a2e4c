"""Cleaning: normalise characters, repair page breaks, classify blocks, split sentences.

`clean_text(raw)` returns a `CleanDocument`; every change is recorded in its ledger so that the
raw text can be rebuilt exactly (`CleanDocument.restore_raw()`).

The analysis text (`CleanDocument.text`) is the document's blocks in reading order, separated by
one blank line (``"\\n\\n"``); a block never contains a newline. Every block is kept, boilerplate
included, and `blocks.kind` says what it is (one of `BLOCK_KINDS`); analyses use paragraphs and
subheadings by default (`CleanCorpus.analysis_sentences`).

How it works, in raw-text coordinates throughout (so that the ledger maps back exactly):

1. Lines: each line's content (without leading/trailing whitespace, zero-width or control
   characters) is normalised: full-width digits and Latin letters to half-width, half-width
   ``, : ; ! ? ( )`` in Chinese context to full-width (decimals, times, URLs and Latin text stay),
   spaced digits (``1 9 9 3 年``) joined, zero-width/control characters removed, whitespace runs
   tidied, Markdown emphasis, links and heading marks and Wikisource footnote markers removed.
2. Units: documents whose paragraphs are separated by blank lines treat a single newline as a
   soft break inside a word or sentence (Wikisource's ``政府工作报\\n告``) and join it; documents
   with one paragraph a line (Word/web extractions) keep every line as a unit.
3. Repairs: a unit that does not end a sentence is joined to the next one when the evidence says
   a page or column break cut it (``平均年龄42.7 | 岁``; a long paragraph stopping mid-clause);
   a short isolated clause whose continuation is missing stays alone as a `fragment`.
4. Blocks are classified (title, subtitle, byline, subheading, caption, paragraph, fragment,
   boilerplate) and split into sentences after 。！？；… with closing quotes kept.

The ledger has one row per change: `op` (``normalise`` a character form, ``remove`` invisible
characters or markup, ``join`` a line or page break, ``break`` a block separator rewritten to
``"\n\n"``, ``strip`` leading/trailing whitespace), the raw span (`raw_start`, `raw_end`,
`raw_text`), the cleaned span (`new_start`, `new_end`, `new_text`) and a `reason` in words.
Rows never overlap; outside them the raw and cleaned texts are identical, so
`CleanDocument.restore_raw()` rebuilds the raw text exactly and `map_to_raw` maps offsets back.

`CleanDocument.metadata` holds what the text says about itself: ``title`` (headline, or the
title in Markdown front matter), ``subtitle`` (kicker or dateline), ``author`` (from a byline:
文/片 记者 夏侯凤超 → 夏侯凤超; 本报讯（记者 …）; a report's speaker 省长 王清宪), and
``n_repairs`` (page or column breaks rejoined).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from textmine.config import DEFAULT_ANALYSIS_KINDS
from textmine.corpus import Corpus

BLOCK_KINDS = ("title", "subtitle", "byline", "subheading", "caption", "paragraph", "fragment",
               "boilerplate")
BLOCK_COLUMNS = ["block_id", "kind", "text", "start", "end"]
SENTENCE_COLUMNS = ["sent_id", "block_id", "start", "end", "text"]
LEDGER_COLUMNS = ["op", "raw_start", "raw_end", "raw_text", "new_start", "new_end", "new_text",
                  "reason"]
#: Metadata keys that `clean_corpus` copies into empty document fields.
COPIED_METADATA = ("title", "author")
BLOCK_SEPARATOR = "\n\n"

# --------------------------------------------------------------------------------------------
# Character classes
# --------------------------------------------------------------------------------------------
_INVISIBLE = r"\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
_BLANK = r"\s" + _INVISIBLE
_CONTENT = re.compile(rf"[^{_BLANK}](?:[^\n]*[^{_BLANK}])?")

_HAN_RANGES = (("\u3400", "\u9fff"), ("\uf900", "\ufaff"))
_CJK_PUNCT = "，。、；：！？（）《》〈〉「」『』【】〔〕“”‘’…—·～﹏"


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _is_cjk(ch: str) -> bool:
    """Han character or Chinese (full-width) punctuation: the context that wants full-width."""
    return (_is_han(ch) or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"
            or ch in _CJK_PUNCT)


_FULLWIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)},
     **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
     **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
     "．": ".", "％": "%"})
_TO_FULL_PUNCT = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}

# One pass over a line finds everything that may need normalising; `_normalise_line` decides.
_NORM_FIRST = (r"hfw!\[" + _INVISIBLE + r"0-9０-９Ａ-Ｚａ-ｚ％*\s,:;!?()")
_NORM = re.compile(
    rf"(?=[{_NORM_FIRST}])(?:"
    r"(?P<url>(?:https?|ftp)://[!-~]+|www\.[A-Za-z0-9][!-~]*)"
    r"|(?P<img>!\[[^\]\n]*\]\([^)\n]*\))"
    r"|(?P<link>\[(?P<label>[^\]\n]+)\]\((?P<href>(?:https?://|www\.)[^)\s]*)\))"
    r"|(?P<fn>(?<=[\u3400-\u9fff，。；：”）》」])\[(?:CPC\s?)?\d{1,3}\])"
    rf"|(?P<inv>[{_INVISIBLE}]+)"
    r"|(?P<sd>(?<![0-9０-９.．])[0-9０-９](?:[ \u3000\u00a0][0-9０-９]){2,}(?![0-9０-９])"
    r"|(?<![0-9０-９.．])[0-9０-９](?:[ \u3000\u00a0][0-9０-９])+(?=[ \u3000]?[\u3400-\u9fff]))"
    r"|(?P<fw>[０-９Ａ-Ｚａ-ｚ％]+(?:．[０-９]+％?)*)"
    r"|(?P<md>\*\*)"
    r"|(?P<ws>[^\S\n]+)"
    r"|(?P<p>[,:;!?()]))"
)
# Everything in a line that may lead `_normalise_line` to an edit (a superset: a trigger may turn
# out to need nothing). A line without one (most lines of running Chinese text) is kept as it is.
# Every alternative starts with a listed character, so that the regex engine can skip ahead.
_HAN = r"\u3400-\u9fff\uf900-\ufaff"
_OTHER_WHITESPACE = "".join(ch for ch in map(chr, range(0x3001))  # what \s matches but \n and " "
                            if ch.isspace() and ch not in "\n ")
_MAY_NEED_NORMALISING = re.compile(
    r"[\[" + _INVISIBLE + re.escape(_OTHER_WHITESPACE) + r"０-９Ａ-Ｚａ-ｚ％,:;!?()]"
    r"|\*\*"  # Markdown emphasis
    rf"| (?:(?![{_HAN}])|(?<![{_HAN}] ))"  # a space not alone between two Han characters
)
_OTHER_BREAK_CHARS = re.compile("[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_OTHER_BREAK = re.compile("\r(?!\n)|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Either of the two above: one scan over a text finds whether it holds any (most hold neither).
_SURROGATE_OR_OTHER_BREAK = re.compile("[\ud800-\udfff\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_MD_HEADING = re.compile(r"#{1,6}[ \t]+")
_FOOTNOTE_BREAK = re.compile(r"\n?\[[^\S\n]*\n\s*(?:CPC\s?)?\d{1,3}\s*\n[^\S\n]*\]\n?")

# --------------------------------------------------------------------------------------------
# Block-level patterns
# --------------------------------------------------------------------------------------------
_FINAL = "。！？；!?;…"
_FINAL_OR_COLON = frozenset(_FINAL + "：:")
_CLOSERS = "”’」』）)】〕》\"'"
_CLAUSE_END = "，、,“‘《（(—〔【"
_OPENING = "（(《“‘「『〔"
_JOINABLE_PUNCT = frozenset("（《“‘「『〔、，。；：！？）》”’」』〕…—·,.;:!?()")
_FINAL_RE = re.compile(f"[{_FINAL}]")
_STOP_PUNCT = re.compile("[。；;]")
_EXCLAIM = re.compile("[！？!?]")
_CANNOT_END = "第的和与及或对把被从向之并而且其各每该"
_CANNOT_START = "，。、；：？！）》”’」』】〕…%,.;:?!)的们岁"
_NUMBERED = re.compile(
    r"^(?:[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十百\d]+[）)]|"
    r"第[一二三四五六七八九十百千\d]+[章节部分编篇]|\d{1,2}[.、](?!\d)|［\d+］|[①-⑳])")
_LIST_MARKER = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|"
    r"第[一二三四五六七八九十]+[，、]?|\d{1,2}[.、])$")
_OPENER = re.compile(r"^[\u3400-\u9fff]{2,6}[，：]")
_DATELINE = re.compile(r"^[（(]?\d{4}年\d{1,2}月\d{1,2}日.{0,50}$")
_CAPTION_WORDS = re.compile(r"全景|合影|留影|掠影|一角|资料图|图为|供图|航拍|剪影")
_PHOTO_CREDIT = re.compile(
    r"(?:记者|通讯员|摄影师?)\s*[\u3400-\u9fff·]{2,4}\s*摄[）)]?$|^图为|供图[）)]?$")
_POLICY_VERB = re.compile(
    r"^(?:推动|推进|大力|打造|保持|促进|实施|加强|办好|壮大|加快|深化|持续|坚持|提升|强化|完善|"
    r"健全|着力|扎实|全面|积极|稳步|巩固|培育|发展|建设|构建|优化|落实|扩大|提高|增强|防范|维护|"
    r"守牢|筑牢|激发|释放|聚焦|聚力|做好|抓好|抓实|统筹|深入|切实|不断|更加|努力|坚决|严格|有效|"
    r"围绕|突出|用好|稳定|提振|支持|鼓励|引导|保障|确保|开展|探索|创新|夯实|锚定|纵深)")

_CHROME_EXACT = frozenset("""
下载 打印 全屏 收藏 加大 还原 减小 大 中 小 【 】 分享 分享到 分享到微信 首页 > › » | × 打印本页
关闭窗口 扫一扫在手机打开当前页 相关报道： 相关文档： 相关附件>> 相关链接>> 当前位置：
您的位置: 您的位置： 阅读量： 发表时间： 来源： 来源: 时间： 时间: 责任编辑： 编辑： 分享： 分享:
分享到: 分享到： Public domain false true 返回顶部 上一篇 下一篇 【打印】 【关闭】 打印本文
关闭本页 字号 字体 默认 A+ A- 纠错 复制链接 微信 微博 QQ空间 朋友圈 二维码 返回 字号：
""".split()) | {"Public domain"}
#: First characters of menu words: a menu line begins with one, or with a separator
#: (never alphanumeric).
_MENU_WORD_STARTS = frozenset(w[0] for w in _CHROME_EXACT)
_SITE_FOOTER = re.compile(r"版权所有|ICP备|网站地图|联系我们|网站标识码|公网安备|Copyright|©")
_MENU_SPLIT = re.compile(r"[\s|｜【】\[\]/]+")
_TAIL_MARKERS = frozenset({
    "相关新闻", "相关阅读", "延伸阅读", "相关新闻：", "相关阅读：", "【相关阅读】", "网站地图",
    "相关报道：", "相关文档：", "扫一扫在手机打开当前页", "责任编辑：", "打印本页", "关闭窗口",
    "相关附件>>", "相关链接>>"})
_LABELS = frozenset({"来源：", "来源:", "时间：", "时间:", "发表时间：", "阅读量：", "责任编辑：",
                     "编辑：", "作者："})
_CHROME_RE = re.compile(
    r"^(?:【?字[号体][:：].{0,12}】?"
    r"|[（(【]?(?:来源|稿源|出处|发布时间|发表时间|时间|日期|阅读量|浏览次数|点击数|责任编辑|编辑|责编|"
    r"审核|校审|校对|出品|特别支持|图片|摄影|视频|排版|美编|监制|统筹|终审|初审|复审|新媒体编辑|"
    r"网址|链接|原标题|字号|aliases|title|tags)\s*[:：].{0,60}"
    r"|(?:责任编辑|编辑|责编|审核|校审|校对|出品|图片|摄影|视频|排版|美编|监制|统筹|负责|策划|设计|"
    r"视觉)\s*[/／|｜]\s*.{1,40}"
    r"|\d{4}[-/年.]\d{1,2}[-/月.]\d{1,2}日?\s*(?:星期[一二三四五六日天]|周[一二三四五六日])?\s*"
    r"(?:\d{1,2}[:：时]\d{2}(?:[:：分]\d{2})?[秒分]?)?"
    r"|[0-9a-f]{32}:?"
    r"|(?:!\[[^\]]*\]\(.*\)\s*)+"
    r"|<.*>"
    r"|》》.*《《"
    r"|(?:https?://|www\.)\S+"
    r"|(?:扫一扫|扫码|长按|点击).{0,20}"
    r"|>\s.*"
    r"|↑.*"
    r"|[\W_]+"
    r")$")
_LICENCE_START = re.compile(
    r"^(?:本作品(?:是|在|属于|来自|由)|注：中文维基文库|Public domain$|[^。]{0,30}属于公有领域)")
_BREADCRUMB_MARKS = frozenset({">", "›", "»"})
_FRONT_MATTER = re.compile(r"\A[\s\ufeff]*---[ \t]*\n(?P<body>.*?\n)---[ \t]*(?:\n|\Z)", re.S)
_FM_TITLE = re.compile(r"^(?:aliases:\s*\n\s*-\s*|title:\s*)(?P<title>.+)$", re.M)

# Bylines: newspaper ("文/片 记者 夏侯凤超"), credits ("文字：…"), speakers of government reports.
_NAME = r"[\u3400-\u9fff][\u3400-\u9fff·]{0,9}"
_NEWS_BYLINE = re.compile(
    r"^[■●◆□▲★◎\s]*"
    r"(?:(?:文|图|文图|图文|摄影|文字)\s*(?:[/／|｜、]\s*(?:图|片|文|摄影|视频))?\s*[/／：:|｜]?\s*)?"
    r"(?:本报|本刊|新华社|人民日报|央视|中新社|[\u3400-\u9fff]{2,4}日报)?"
    r"(?:全媒体|融媒体|首席|特约|见习|实习)*"
    r"\s*(?:记者|通讯员)\s*[/／:：|｜]?\s*(?P<names>[\u3400-\u9fff·、， ]{2,40})$")
#: A byline inside a lead paragraph: 本报讯（记者 张三 通讯员 李四）…
#: or 新华社北京6月1日电（记者 王五）….
_DATELINE_BYLINE = re.compile(
    r"^(?:本报讯|[\u3400-\u9fff]{2,8}\d{1,2}月\d{1,2}日(?:电|讯))\s*[（(]\s*"
    r"(?:(?:本报|全媒体|融媒体|首席|特约|见习)*记者|通讯员)\s*"
    r"(?P<names>[\u3400-\u9fff·、， ]{2,40})[）)]")
_CREDIT_BYLINE = re.compile(
    r"^(?:文|作者|撰稿|文字|撰文)\s*[/／：:|｜]\s*(?P<names>[\u3400-\u9fff·、，, ]{2,30})$")
_SPEAKER_BYLINE = re.compile(
    r"^(?P<role>.{0,20}?(?:省长|市长|主席|总理))(?:[ \u3000]+(?P<spaced>" + _NAME
    + r"(?: " + _NAME + r")?)|(?P<close>[\u3400-\u9fff](?: ?[\u3400-\u9fff]){1,3}))$")
_SUBTITLE_START = ("—", "－", "―", "(", "（")
_NAME_ALONE = re.compile(r"^[\u3400-\u9fff](?: ?[\u3400-\u9fff]){1,3}$")
_NAME_SPLIT = re.compile(r"[\s、，,]+|记者|通讯员|摄影|摄|报道")

# A sentence of the analysis text, or the "\n\n" between two blocks (a block holds no newline):
# the parts tile the text, so their lengths give their offsets.
_SENTENCE_OR_BREAK = re.compile(
    r"\n+|[^。！？；…!?;\n]*(?:[。！？；!?;]+|…+|(?=\n)|\Z)[”’」』）)\]】》\"']*")


# --------------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------------
@dataclass
class CleanDocument:
    """The analysis text with its blocks, sentences and the ledger of every change made."""

    raw: str
    text: str
    blocks: pd.DataFrame
    sentences: pd.DataFrame
    ledger: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)

    def restore_raw(self) -> str:
        """Apply the ledger in reverse: the raw text, character for character."""
        out, pos = [], 0
        ledger = self.ledger.sort_values("new_start", kind="stable")
        for new_start, new_end, raw_text in zip(ledger["new_start"], ledger["new_end"],
                                                ledger["raw_text"], strict=True):
            out.append(self.text[pos:new_start])
            out.append(raw_text)
            pos = new_end
        out.append(self.text[pos:])
        return "".join(out)


@dataclass
class _Line:
    start: int  # raw offsets of the content (no surrounding blanks)
    end: int
    text: str  # normalised
    edits: list[tuple[int, int, int, str, str, str]]  # raw_s, raw_e, rel_new_s, new, op, reason
    heading: int = 0  # Markdown heading level (# … is 1), 0 if none
    fixed: bool = False  # never joined to a neighbour (front matter)


def _neighbour_cjk(raw: str, i: int, lo: int, hi: int) -> bool:
    return lo <= i < hi and _is_cjk(raw[i])


def _paren_targets(raw: str, s: int, e: int) -> set[int]:
    """Raw positions of half-width parentheses that belong to Chinese text."""
    targets, stack = set(), []
    for i in range(s, e):
        ch = raw[i]
        if ch == "(":
            stack.append(i)
        elif ch == ")":
            if stack:
                o = stack.pop()
                inner_han = any(_is_han(c) for c in raw[o + 1:i])
                if inner_han or _neighbour_cjk(raw, o - 1, s, e):
                    targets.update((o, i))
            elif _neighbour_cjk(raw, i - 1, s, e) or _neighbour_cjk(raw, i + 1, s, e):
                targets.add(i)
    for o in stack:
        if _neighbour_cjk(raw, o - 1, s, e) or _neighbour_cjk(raw, o + 1, s, e):
            targets.add(o)
    return targets


def _normalise_line(raw: str, s: int, e: int) -> _Line:
    """Normalise one line's content raw[s:e]; edits are in raw coordinates."""
    edits: list[tuple[int, int, int, str, str, str]] = []
    pieces: list[str] = []
    new_len = 0
    last = s
    heading = 0

    def emit(rs: int, re_: int, new: str, op: str, reason: str) -> None:
        nonlocal last, new_len
        if rs > last:
            chunk = raw[last:rs]
            pieces.append(chunk)
            new_len += len(chunk)
        edits.append((rs, re_, new_len, new, op, reason))
        pieces.append(new)
        new_len += len(new)
        last = re_

    if raw[s] == "#":
        m = _MD_HEADING.match(raw, s, e)
        if m:
            heading = len(m.group().rstrip())
            emit(s, m.end(), "", "remove", "Markdown heading mark")
    parens = _paren_targets(raw, s, e) if ("(" in raw[s:e] or ")" in raw[s:e]) else None
    url_end = -1
    for m in _NORM.finditer(raw, last, e):
        kind = m.lastgroup
        ms, me = m.span()
        if kind in ("url", "img"):
            url_end = me
            continue
        if kind == "link":
            ls, le = m.span("label")
            emit(ms, ls, "", "remove", "Markdown link mark")
            emit(le, me, "", "remove", "Markdown link target")
        elif kind == "fn":
            emit(ms, me, "", "remove", "footnote marker")
        elif kind == "inv":
            emit(ms, me, "", "remove", "zero-width or control character")
        elif kind == "sd":
            digits = re.sub(r"[ \u3000\u00a0]", "", m.group()).translate(_FULLWIDTH)
            emit(ms, me, digits, "normalise", "spaced digits joined")
        elif kind == "fw":
            emit(ms, me, m.group().translate(_FULLWIDTH), "normalise",
                 "full-width digits or letters to half-width")
        elif kind == "md":
            emit(ms, me, "", "remove", "Markdown emphasis mark")
        elif kind == "ws":
            if ms == url_end:
                continue  # the space that ends a URL stays
            prev, nxt = raw[ms - 1], raw[me]
            if prev == "*" and raw[ms - 2:ms] == "**" and ms - 2 > s:
                prev = raw[ms - 3]
            if nxt == "*" and raw[me:me + 2] == "**" and me + 2 < e:
                nxt = raw[me + 2]
            if ((_is_cjk(prev) and not _is_han(prev)) or (_is_cjk(nxt) and not _is_han(nxt))
                    or (_is_han(prev) and (nxt.isdigit() or nxt in ",:;!?"))
                    or (_is_han(nxt) and prev.isdigit())):
                emit(ms, me, "", "remove", "space in Chinese text")
            elif m.group() != " ":
                emit(ms, me, " ", "normalise", "whitespace run to one space")
        else:  # half-width punctuation
            ch = m.group()
            if ch in "()":
                if parens is not None and ms in parens:
                    emit(ms, me, _TO_FULL_PUNCT[ch], "normalise",
                         "half-width punctuation in Chinese text to full-width")
                continue
            prev = raw[ms - 1] if ms > s else ""
            nxt = raw[me] if me < e else ""
            prev_cjk = bool(prev) and (_is_cjk(prev) or (parens is not None and ms - 1 in parens))
            if not prev_cjk and not (nxt and _is_cjk(nxt)):
                continue
            if ch in ",:" and prev.isdigit() and nxt.isdigit():
                continue  # 1,000 and 10:30 stay
            emit(ms, me, _TO_FULL_PUNCT[ch], "normalise",
                 "half-width punctuation in Chinese text to full-width")
    if not edits:
        return _Line(s, e, raw[s:e], edits, heading)
    if last < e:
        pieces.append(raw[last:e])
    return _Line(s, e, "".join(pieces), edits, heading)


# --------------------------------------------------------------------------------------------
# Units and repairs
# --------------------------------------------------------------------------------------------
def _soft_separator(a: str, b: str) -> str:
    """What replaces a joined line break: a space between two Latin words, else nothing."""
    if a and b and a[-1].isascii() and b[0].isascii() and a[-1].isalnum() and b[0].isalnum():
        return " "
    return ""


def _is_chrome(text: str) -> bool:
    """Web-page or Markdown debris: menus, source and editor lines, images, symbols."""
    if len(text) > 100 and text[0] not in "!<↑>本注":
        return False
    if text in _CHROME_EXACT or _CHROME_RE.match(text):
        return True
    if len(text) <= 80 and _SITE_FOOTER.search(text):
        return True
    # A menu on one line: 【打印本页】【关闭窗口】, 下载 打印 全屏 收藏.
    if (len(text) <= 60 and (" " in text or "】" in text or "|" in text or "/" in text)
            and (text[0] in _MENU_WORD_STARTS or not text[0].isalnum())):
        words = [w for w in _MENU_SPLIT.split(text) if w]
        return len(words) > 1 and all(w in _CHROME_EXACT or w + "：" in _CHROME_EXACT
                                      for w in words)
    return False


def _heading_like(text: str, exclaim: bool = False) -> bool:
    """Short and without sentence punctuation: a headline, heading or caption line.

    With `exclaim`, a final ！ or ？ is allowed (headlines have them; body headings do not).
    """
    if not text or len(text) > 40 or text[-1] in "，、：:,":
        return False
    body = text[:-1] if exclaim else text
    return _STOP_PUNCT.search(text) is None and _EXCLAIM.search(body) is None


def _prose(text: str) -> bool:
    """Running text (several clauses), as opposed to a heading or a lone clause."""
    if len(text) >= 40:
        return True
    return len(text) >= 15 and any(c in "，。；、：" for c in text[:-1])


def _ends_sentence(text: str) -> bool:
    """Ends with 。！？；…： (closing quotes allowed), or with a citation after such an end."""
    if text[-1] in _FINAL_OR_COLON:
        return True
    stripped = text.rstrip(_CLOSERS)
    if stripped and stripped[-1] in _FINAL_OR_COLON:
        return True
    if text[-1] in "）)":  # 。”（《列宁全集》第六页）
        opening = max(text.rfind("（"), text.rfind("("))
        before = text[:opening].rstrip(_CLOSERS) if opening > 0 else ""
        return bool(before) and before[-1] in _FINAL_OR_COLON
    return False


def _join_score(a: str, b: str) -> int:
    """Evidence that unit `b` continues unit `a` across a page or column break."""
    if _ends_sentence(a) or _has_photo_credit(a):
        return -9
    last, first = a.rstrip(_CLOSERS)[-1:] or a[-1], b[0]
    still_open = (last in _OPENING or a.count("“") > a.count("”")
                  or a.count("《") > a.count("》"))
    if _NUMBERED.match(a) and _heading_like(a) and not _LIST_MARKER.match(a) and not still_open:
        return -9
    if _LIST_MARKER.match(a):
        return 5
    score = 0
    if first in _CANNOT_START:
        score += 3
    if (last.isdigit() or last == ".") and not first.isdigit() and _is_han(first):
        score += 3  # a number cut from its unit: 42.7 | 岁
    if last in _CANNOT_END:
        score += 5
    # Running text cut mid-sentence: long, or with a finished sentence before the cut (a line
    # of clauses without any sentence end is a heading more often than a cut paragraph).
    running = len(a) >= 60 or _FINAL_RE.search(a, 0, len(a) - 1) is not None
    if (running and (_is_han(last) or last.isalnum())) or (_prose(a) and last in "，、,"):
        score += 2
    elif last in _CLAUSE_END:
        score += 1
    if still_open:
        score += 3  # an open bracket or quotation is not the end of anything
    if _NUMBERED.match(b) or (_heading_like(b) and len(b) > 4):
        score -= 3
    if _OPENER.match(b) and not _prose(a):
        score -= 2
    if len(b) <= 10 and b[-1] in "：:！!":
        score -= 3  # a salutation (各位代表：) opens a new part
    lead_end = b.find("。", 0, 13)
    if lead_end > 0 and _POLICY_VERB.match(b) and "，" not in b[:lead_end]:
        score -= 3  # a new paragraph with a lead-in phrase: 深化污染防治攻坚。…
    return score


def _header_continuation(a: str, b: str) -> bool:
    """A numbered heading broken over two lines: 三、持续提升政府 | 治理效能和服务水平."""
    return (bool(_NUMBERED.match(a)) and _heading_like(a) and _heading_like(b)
            and not _NUMBERED.match(b) and not _is_chrome(b) and len(a) + len(b) <= 30
            and not any(c in "，、：" for c in a + b))


def _layout_view(raw: str, other_breaks: bool = True) -> str:
    """`raw` as the layout sees it, same length: other line separators (a lone \\r, U+2028 …)
    as newlines, and Wikisource footnote markers spread over lines ([\\n4\\n]) folded.

    `other_breaks` False says that `raw` is known to hold no other line separator.
    """
    view = raw
    if other_breaks and _OTHER_BREAK_CHARS.search(view):
        view = _OTHER_BREAK.sub("\n", view)
    if "[" in view:
        view = _FOOTNOTE_BREAK.sub(lambda m: "\n" + " " * (len(m.group()) - 1), view)
    return view


def _front_matter(raw: str) -> tuple[int, str | None]:
    """End offset of a YAML front matter block (0 if none) and the title it names."""
    if "---" not in raw[:20]:
        return 0, None
    m = _FRONT_MATTER.match(raw)
    if not m:
        return 0, None
    t = _FM_TITLE.search(m.group("body"))
    if not t:
        return m.end(), None
    title = t.group("title").strip().strip("'\"")
    if title in ("|", "|-", ">", ">-"):  # a YAML block scalar: the indented lines below
        rest = m.group("body")[t.end():].split("\n")
        kept = [line.strip() for line in rest[1:] if line.startswith("    ")]
        title = "".join(kept) or None
    return m.end(), title


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------
def _byline_names(text: str) -> list[str] | None:
    """The names in a byline (news, credit or a report's speaker), None if `text` is none.

    Each pattern is tried only if the words it needs occur (most blocks are no byline).
    """
    news = "记者" in text or "通讯员" in text
    for pattern in (_NEWS_BYLINE, _CREDIT_BYLINE) if news else (_CREDIT_BYLINE,):
        m = pattern.match(text)
        if m:
            names = [n for n in _NAME_SPLIT.split(m.group("names")) if 2 <= len(n) <= 10]
            return names or None
    if "长" not in text and "主席" not in text and "总理" not in text:
        return None  # no speaker's office (省长, 市长, 主席, 总理)
    m = _SPEAKER_BYLINE.match(text)
    if m:
        name = (m.group("spaced") or m.group("close")).replace(" ", "")
        return [name] if 2 <= len(name) <= 10 else None
    return None


def _has_photo_credit(text: str) -> bool:
    """`_PHOTO_CREDIT` found in `text` (searched only if 摄 or 图 occurs, as it needs one)."""
    return ("摄" in text or "图" in text) and _PHOTO_CREDIT.search(text) is not None


def _caption_like(text: str) -> bool:
    """A photo caption by its look: names a photo, or one short sentence ending in 。."""
    if len(text) > 80:
        return False
    if _has_photo_credit(text) or _CAPTION_WORDS.search(text):
        return True
    return text.endswith("。") and text.count("。") == 1


def _classify(texts: list[str], chrome: list[bool], fm_title: str | None,
              minor_headings: frozenset[int] = frozenset()) -> tuple[list[str], dict[str, Any]]:
    """Kind of every block and the metadata found (title, subtitle, author).

    `minor_headings` are blocks marked as Markdown headings below level 1 (never the title).
    """
    n = len(texts)
    kinds = ["paragraph"] * n
    meta: dict[str, Any] = {}
    for i in range(n):
        if chrome[i]:
            kinds[i] = "boilerplate"
    # Label/value pairs and breadcrumbs (looked for block by block only if there is one).
    crumbs: set[str] = set()
    if not (_LABELS.isdisjoint(texts) and _BREADCRUMB_MARKS.isdisjoint(texts)):
        for i, t in enumerate(texts):
            if (t in _LABELS and i + 1 < n and len(texts[i + 1]) <= 20
                    and _heading_like(texts[i + 1])):
                kinds[i + 1] = "boilerplate"
            if t in _BREADCRUMB_MARKS:
                for j in (i - 1, i + 1):
                    if 0 <= j < n and len(texts[j]) <= 12 and _heading_like(texts[j]):
                        kinds[j] = "boilerplate"
                        crumbs.add(texts[j])
    if crumbs:
        for i, t in enumerate(texts):
            if t in crumbs:
                kinds[i] = "boilerplate"  # a site section named again near the headline
    # Licence and page-chrome tails.
    for i, t in enumerate(texts):
        if _LICENCE_START.match(t) or (t in _TAIL_MARKERS and i >= n // 2):
            for j in range(i, n):
                kinds[j] = "boilerplate"
            break
    content = [i for i in range(n) if kinds[i] != "boilerplate"]

    # Header: byline first, then headline and kicker just before it.
    byline_at = None
    for i in content[:15]:
        t = texts[i]
        if len(t) >= 60 and _ends_sentence(t):
            break  # body text has begun: a byline comes before it
        names = None if _CREDIT_BYLINE.match(t) else _byline_names(t)
        if names:
            byline_at = i
            kinds[i] = "byline"
            meta["author"] = "、".join(dict.fromkeys(names))
            break
    title_at = None
    if byline_at is not None:
        pos = content.index(byline_at)
        run: list[int] = []
        mains = 0
        for i in reversed(content[:pos]):
            t = texts[i]
            if (not _heading_like(t, exclaim=True) or _LIST_MARKER.match(t)
                    or _CAPTION_WORDS.search(t) or _has_photo_credit(t)):
                break
            extra = t.startswith(_SUBTITLE_START) or bool(_DATELINE.match(t))
            if not extra:
                if mains == 2:
                    break
                mains += 1
            run.append(i)
        run.reverse()
        mains_in_run = [i for i in run if not texts[i].startswith(_SUBTITLE_START)
                        and not _DATELINE.match(texts[i])]
        if mains_in_run:
            title_at = mains_in_run[0]
            for i in run:
                kinds[i] = "subtitle" if i != title_at else "title"
            for i in content[:pos]:
                if i < run[0] and len(texts[i]) <= 80:
                    kinds[i] = "caption"
        body_from = pos + 1
    else:
        body_from = 0
        # Photo captions may stand before the headline: short, ending in 。 or naming a photo.
        lead = 0
        while lead < min(3, len(content) - 1) and _caption_like(texts[content[lead]]):
            lead += 1
        if lead and not _heading_like(texts[content[lead]]):
            lead = 0
        if content and fm_title is None:
            first = content[lead]
            t = texts[first]
            if (_heading_like(t) and not _LIST_MARKER.match(t) and not _NUMBERED.match(t)
                    and first not in minor_headings):
                for i in content[:lead]:
                    kinds[i] = "caption"
                title_at = first
                kinds[first] = "title"
                body_from = lead + 1
                mains = 1
                for i in content[lead + 1:lead + 6]:
                    u = texts[i]
                    names = _byline_names(u)
                    if names:
                        kinds[i] = "byline"
                        meta["author"] = "、".join(dict.fromkeys(names))
                        body_from = content.index(i) + 1
                        break
                    if _NAME_ALONE.match(u):
                        kinds[i] = "byline"
                        meta["author"] = u.replace(" ", "")
                        body_from = content.index(i) + 1
                        break
                    if _heading_like(u) and not _NUMBERED.match(u):
                        extra = u.startswith(_SUBTITLE_START) or bool(_DATELINE.match(u))
                        if extra or mains < 2:
                            mains += not extra
                            kinds[i] = "subtitle"
                            body_from = content.index(i) + 1
                            continue
                    break
    if "author" not in meta:
        for i in content[:8]:
            m = _DATELINE_BYLINE.match(texts[i])
            if m:
                names = [n for n in _NAME_SPLIT.split(m.group("names")) if 2 <= len(n) <= 10]
                if names:
                    meta["author"] = "、".join(dict.fromkeys(names))
                break
    if title_at is not None:
        meta["title"] = texts[title_at]
        subs = [texts[i] for i in content if kinds[i] == "subtitle"]
        if subs:
            meta["subtitle"] = subs[0]
    if fm_title:
        meta["title"] = fm_title

    # Body blocks. Short one-sentence captions are looked for in newspaper reports only.
    news = ((byline_at is not None and bool(_NEWS_BYLINE.match(texts[byline_at])))
            or "caption" in kinds)
    previous = None
    for i in content[body_from:]:
        t = texts[i]
        if len(t) > 120:  # running text: only a missing continuation changes its kind
            if t[-1] in _CLAUSE_END or t[-1] in _CANNOT_END:
                kinds[i] = "fragment"
            previous = kinds[i]
            continue
        names = _byline_names(t) if len(t) <= 40 else None
        if names and (_CREDIT_BYLINE.match(t) or _NEWS_BYLINE.match(t)):
            kinds[i] = "byline"
            meta.setdefault("author", "、".join(dict.fromkeys(names)))
        elif _has_photo_credit(t) and len(t) <= 120:
            kinds[i] = "caption"
        elif len(t) <= 40 and "，" not in t and _CAPTION_WORDS.search(t):
            kinds[i] = "caption"
        elif _NUMBERED.match(t) and (
                (len(t) <= 50 and _FINAL_RE.search(t) is None)
                or (len(t) <= 25 and t.count("。") == 1 and t.endswith("。")
                    and not any(c in "，；：" for c in t))):
            kinds[i] = "subheading"
        elif (_heading_like(t) and not _LIST_MARKER.match(t)
              and not ("：" in t[:-1] and "，" in t)):  # 主办单位：省教育厅，各州、市人民政府
            kinds[i] = "subheading"
        elif (news and t.endswith("。") and 10 <= len(t) <= 40 and t.count("。") == 1
              and not any(c in "，、；：“”《》,;:" for c in t)):
            if _POLICY_VERB.match(t) or previous == "subheading":
                kinds[i] = "subheading"
            else:
                kinds[i] = "caption"
        elif not _ends_sentence(t) and (t[-1] in _CLAUSE_END or t[-1] in _CANNOT_END):
            kinds[i] = "fragment"
        previous = kinds[i]
    return kinds, meta


# --------------------------------------------------------------------------------------------
# Cleaning one document
# --------------------------------------------------------------------------------------------
def clean_text(raw: str) -> CleanDocument:
    """Clean one document's raw text (see the module docstring)."""
    if not isinstance(raw, str):
        raise TypeError(f"clean_text expects a str, not {type(raw).__name__}")
    c = _clean_columns(raw)
    return CleanDocument(raw=raw, text=c.text, blocks=_frame(c.blocks, BLOCK_COLUMNS),
                         sentences=_frame(c.sentences, SENTENCE_COLUMNS),
                         ledger=_frame(c.ledger, LEDGER_COLUMNS), metadata=c.metadata)


_INT_COLUMNS = frozenset({"block_id", "sent_id", "start", "end", "raw_start", "raw_end",
                          "new_start", "new_end"})


def _frame(columns: dict[str, list], order: list[str]) -> pd.DataFrame:
    """A DataFrame from column lists: offsets int64 and text columns str, even when empty."""
    return pd.DataFrame({c: (np.asarray(columns[c], dtype=np.int64) if c in _INT_COLUMNS
                             else pd.Series(columns[c], dtype="str")) for c in order},
                        columns=order)


@dataclass
class _Columns:
    """clean_text's result as plain column lists (cheap to pickle and to concatenate)."""

    text: str
    blocks: dict[str, list]
    sentences: dict[str, list]
    ledger: dict[str, list]
    metadata: dict[str, Any]

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Sent between processes without the block texts, which are slices of `text`: a
        # third less to pickle and unpickle. Sentence texts stay, as the figure and
        # formulation rows of the same document share those very strings.
        blocks = {**self.blocks, "text": None}  # the key keeps its place among the columns
        return _columns_with_block_texts, (self.text, blocks, self.sentences, self.ledger,
                                           self.metadata)


def _columns_with_block_texts(text: str, blocks: dict[str, list], sentences: dict[str, list],
                              ledger: dict[str, list], metadata: dict[str, Any]) -> _Columns:
    """A pickled `_Columns` again, its block texts cut from the text."""
    blocks["text"] = [text[a:b] for a, b in zip(blocks["start"], blocks["end"], strict=True)]
    return _Columns(text, blocks, sentences, ledger, metadata)


def _clean_columns(raw: str) -> _Columns:
    """The cleaning itself; `clean_text` and `clean_corpus` wrap its column lists."""
    special = _SURROGATE_OR_OTHER_BREAK.search(raw)
    bad = _SURROGATE.search(raw, special.start()) if special else None
    if bad:
        raise ValueError(f"text holds an unpaired surrogate (U+{ord(bad.group()):04X}) at "
                         f"offset {bad.start()}: it was not decoded as Unicode text")
    view = _layout_view(raw, other_breaks=special is not None)
    fm_end, fm_title = _front_matter(view)
    lines = []
    for m in _CONTENT.finditer(view):
        start, end = m.span()
        if raw[start] == "#" or _MAY_NEED_NORMALISING.search(raw, start, end):
            line = _normalise_line(raw, start, end)
            if not line.text:
                continue  # only markup (a lone **): removed with the line breaks around it
        else:
            line = _Line(start, end, raw[start:end], [])
        line.fixed = start < fm_end
        lines.append(line)

    # Gaps between lines: newline count decides soft break or block break.
    gaps = [view.count("\n", a.end, b.start) for a, b in zip(lines, lines[1:], strict=False)]
    multi = sum(1 for g in gaps if g >= 2)
    blank_style = multi > 0 and multi * 4 >= len(gaps) - multi

    # Units: runs of lines joined by soft breaks.
    units: list[list[int]] = []
    for i, line in enumerate(lines):
        if i == 0:
            units.append([0])
            continue
        g = gaps[i - 1]
        prev = lines[i - 1]
        soft = g == 0 or (
            blank_style and g == 1 and not prev.fixed and not line.fixed
            and not prev.heading and not line.heading
            and not raw[prev.end:line.start].startswith("  ")
            and raw[line.start] not in "#>|!-*" and raw[prev.start] not in "#>|!")
        if soft:
            units[-1].append(i)
        else:
            units.append([i])

    def unit_text(unit: list[int]) -> str:
        out = lines[unit[0]].text
        for j in unit[1:]:
            out += _soft_separator(out, lines[j].text) + lines[j].text
        return out

    utexts = [lines[u[0]].text if len(u) == 1 else unit_text(u) for u in units]
    uchrome = [lines[u[0]].fixed or _is_chrome(t) for u, t in zip(units, utexts, strict=True)]
    ujoinable = [not c or set(t) <= _JOINABLE_PUNCT for c, t in zip(uchrome, utexts,
                                                                     strict=True)]

    # Repairs: join units cut by a page or column break.
    blocks: list[list[int]] = []  # unit indices
    btexts: list[str] = []
    repaired: set[int] = set()  # units joined to the previous one
    for k, text in enumerate(utexts):
        if blocks:
            p = blocks[-1][-1]
            ptext = btexts[-1]
            if ptext == "↑" or (
                    not _ends_sentence(ptext) and ujoinable[p] and ujoinable[k]
                    and (len(ptext) > 40 or not _byline_names(ptext))
                    and (_join_score(ptext, text) >= 2 or _header_continuation(ptext, text))):
                blocks[-1].append(k)
                btexts[-1] = ptext + _soft_separator(ptext, text) + text
                repaired.add(k)
                continue
        blocks.append([k])
        btexts.append(text)

    # Assemble the text and the ledger in one pass over the lines.
    pieces: list[str] = []
    rows_op, rows_rs, rows_re, rows_ns, rows_new, rows_reason = [], [], [], [], [], []
    new_pos = 0

    def record(rs: int, re_: int, ns: int, new: str, op: str, reason: str) -> None:
        rows_op.append(op)
        rows_rs.append(rs)
        rows_re.append(re_)
        rows_ns.append(ns)
        rows_new.append(new)
        rows_reason.append(reason)

    block_texts, block_starts, block_ends = [], [], []
    prev_end = 0
    for b_index, block in enumerate(blocks):
        first_unit = True
        for k in block:
            for j_index, j in enumerate(units[k]):
                line = lines[j]
                gap_raw = raw[prev_end:line.start]
                if b_index == 0 and first_unit and j_index == 0:
                    sep, op, reason = "", "strip", "leading whitespace removed"
                elif first_unit and j_index == 0:
                    sep, op, reason = BLOCK_SEPARATOR, "break", "block separator normalised"
                else:
                    sep = _soft_separator(pieces[-1], line.text)
                    if j_index == 0:
                        op, reason = "join", "sentence cut by a page or column break rejoined"
                    else:
                        op, reason = "join", "line break inside a paragraph removed"
                    if "[" in gap_raw and _FOOTNOTE_BREAK.search(gap_raw):
                        op, reason = "remove", "footnote marker and its line breaks removed"
                if first_unit and j_index == 0:
                    if b_index:
                        block_ends.append(new_pos)
                    block_starts.append(new_pos + len(sep))
                if gap_raw != sep:
                    record(prev_end, line.start, new_pos, sep, op, reason)
                pieces.append(sep)
                new_pos += len(sep)
                for rs, re_, rel, new, op2, reason2 in line.edits:
                    record(rs, re_, new_pos + rel, new, op2, reason2)
                pieces.append(line.text)
                new_pos += len(line.text)
                prev_end = line.end
            first_unit = False
    if blocks:
        block_ends.append(new_pos)
    if prev_end < len(raw):
        record(prev_end, len(raw), new_pos, "", "strip", "trailing whitespace removed")
    text = "".join(pieces)
    block_texts = [text[s:e] for s, e in zip(block_starts, block_ends, strict=True)]

    chrome = [uchrome[block[0]] if len(block) == 1 else _is_chrome(t)
              for block, t in zip(blocks, block_texts, strict=True)]
    minor = frozenset(b for b, block in enumerate(blocks) if lines[units[block[0]][0]].heading > 1)
    kinds, meta = _classify(block_texts, chrome, fm_title, minor)

    sentence_cols = _sentences(text)
    ledger = {
        "op": rows_op, "raw_start": rows_rs, "raw_end": rows_re,
        "raw_text": [raw[a:b] for a, b in zip(rows_rs, rows_re, strict=True)],
        "new_start": rows_ns,
        "new_end": [a + len(t) for a, t in zip(rows_ns, rows_new, strict=True)],
        "new_text": rows_new, "reason": rows_reason}
    blocks_cols = {"block_id": list(range(len(blocks))), "kind": kinds, "text": block_texts,
                   "start": block_starts, "end": block_ends}
    meta["n_repairs"] = len(repaired)
    return _Columns(text, blocks_cols, sentence_cols, ledger, meta)


def _sentences(text: str) -> dict[str, list]:
    """Sentence columns of the analysis text: split after 。！？；… (closing quotes kept), long
    ones cut by `_bounded`, surrounding spaces left out.

    One regex pass over the whole text; only a part that starts or ends with a space or is too
    long needs more than its length.
    """
    s_block, s_start, s_end, s_text = [], [], [], []
    block_id, pos = 0, 0
    for part in _SENTENCE_OR_BREAK.findall(text):
        start, pos = pos, pos + len(part)
        if not part:
            continue  # the empty match at the end of the text
        if part[0] == "\n":
            block_id += 1
        elif part[0] != " " and part[-1] != " " and len(part) <= MAX_SENTENCE_CHARS:
            s_block.append(block_id)
            s_start.append(start)
            s_end.append(pos)
            s_text.append(part)
        else:
            for ss, se in _bounded(text, start, pos):
                while ss < se and text[ss] == " ":
                    ss += 1
                while se > ss and text[se - 1] == " ":
                    se -= 1
                if se > ss:
                    s_block.append(block_id)
                    s_start.append(ss)
                    s_end.append(se)
                    s_text.append(text[ss:se])
    return {"sent_id": list(range(len(s_text))), "block_id": s_block, "start": s_start,
            "end": s_end, "text": s_text}


#: A "sentence" longer than this (the longest in the development corpora has 554 characters)
#: is text without sentence punctuation — a table dump, a run-on line; it is cut at a comma
#: or space, else at the limit, so that every later stage works on bounded pieces.
MAX_SENTENCE_CHARS = 2000
_SOFT_CUT = re.compile(r"[，、：,: \u3000]")


def _bounded(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut into pieces of at most MAX_SENTENCE_CHARS, at a comma where possible."""
    pieces = []
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        cut = limit
        for m in _SOFT_CUT.finditer(text, start + MAX_SENTENCE_CHARS // 2, limit):
            cut = m.end()
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def map_to_raw(ledger: pd.DataFrame, positions: list[int]) -> list[int]:
    """Map offsets in the cleaned text back to offsets in the raw text (via the ledger)."""
    if not len(ledger):
        return list(positions)
    ledger = ledger.sort_values("new_start", kind="stable")
    new_ends = ledger["new_end"].tolist()
    shift = (ledger["raw_end"] - ledger["new_end"]).tolist()
    new_starts = ledger["new_start"].tolist()
    raw_starts = ledger["raw_start"].tolist()
    out = []
    for p in positions:
        k = bisect_right(new_ends, p) - 1
        if k + 1 < len(new_starts) and new_starts[k + 1] < p:
            out.append(raw_starts[k + 1])  # inside a replaced span: its raw start
        else:
            out.append(p + (shift[k] if k >= 0 else 0))
    return out


# --------------------------------------------------------------------------------------------
# Corpora
# --------------------------------------------------------------------------------------------
@dataclass
class CleanCorpus:
    """A cleaned corpus: documents (cleaned `text`, raw in `raw_text`) and its tables.

    `blocks`, `sentences` and `ledger` carry `doc_id` first; `sentences` also has the `kind`
    of its block so that analyses can keep the kinds they want.
    """

    documents: pd.DataFrame
    blocks: pd.DataFrame
    sentences: pd.DataFrame
    ledger: pd.DataFrame
    skipped: pd.DataFrame | None = None

    def analysis_sentences(self, kinds: tuple[str, ...] | None = DEFAULT_ANALYSIS_KINDS
                           ) -> pd.DataFrame:
        """Sentences of the given block kinds (all kinds with `kinds=None`)."""
        if kinds is None:
            return self.sentences
        return self.sentences[self.sentences["kind"].isin(kinds)]

    def texts(self) -> dict[str, str]:
        return dict(zip(self.documents["doc_id"], self.documents["text"], strict=True))


def _concat(parts: list[dict[str, list]], doc_ids: list[str], columns: list[str]
            ) -> pd.DataFrame:
    """One table from every document's column lists, `doc_id` first."""
    merged: dict[str, list] = {"doc_id": []}
    for c in columns:
        merged[c] = []
    for doc_id, part in zip(doc_ids, parts, strict=True):
        n = len(part[columns[0]])
        merged["doc_id"].extend([doc_id] * n)
        for c in columns:
            merged[c].extend(part[c])
    return _frame(merged, ["doc_id", *columns])


def clean_corpus(corpus: Corpus, *, n_jobs: int | None = 1, scheduler: Any = None,
                 quiet: bool = True) -> CleanCorpus:
    """Clean every document of `corpus` (in a process pool or on Dask if asked).

    `documents` gets the cleaned `text` (raw kept in `raw_text`), `n_chars` of the cleaned text
    and `n_repairs` (page or column breaks rejoined); empty `title`/`author` fields, and a title
    the loader guessed from the first line (`title_source` "headline"), are filled from the
    headline and byline found by the cleaner.
    """
    from textmine.parallel import map_documents

    docs = corpus.documents
    cleaned = map_documents(_clean_columns, list(docs["text"]), n_jobs=n_jobs,
                            scheduler=scheduler, desc="clean", quiet=quiet)
    documents = docs.copy()
    documents["raw_text"] = docs["text"]
    documents["text"] = [c.text for c in cleaned]
    documents["n_chars"] = [len(c.text) for c in cleaned]
    documents["n_repairs"] = np.asarray([c.metadata["n_repairs"] for c in cleaned],
                                        dtype=np.int64)
    doc_ids = [str(d) for d in docs["doc_id"]]
    for key in COPIED_METADATA:
        if key not in documents.columns:
            continue
        values = [c.metadata.get(key) for c in cleaned]
        current = documents[key]
        empty = current.isna() | (current.astype("string").str.strip() == "")
        if key == "title" and "title_source" in documents.columns:
            # The loader's guess from the first line gives way to the headline found here
            # (a photo caption often stands first on a newspaper page).
            empty = empty | (documents["title_source"] == "headline")
        fill = pd.Series(values, index=documents.index)
        mask = empty & fill.notna()
        if mask.any():
            documents[key] = documents[key].astype(object)
            documents.loc[mask, key] = fill[mask]
    for c in cleaned:
        kinds = c.blocks["kind"]
        c.sentences["kind"] = [kinds[b] for b in c.sentences["block_id"]]
    blocks = _concat([c.blocks for c in cleaned], doc_ids, BLOCK_COLUMNS)
    sentences = _concat([c.sentences for c in cleaned], doc_ids, [*SENTENCE_COLUMNS, "kind"])
    ledger = _concat([c.ledger for c in cleaned], doc_ids, LEDGER_COLUMNS)
    return CleanCorpus(documents=documents, blocks=blocks, sentences=sentences, ledger=ledger,
                       skipped=corpus.skipped)


def as_clean_corpus(obj: str | Corpus | CleanCorpus, **options: Any) -> CleanCorpus:
    """Accept what the stage functions accept: a string, a `Corpus` or a `CleanCorpus`."""
    if isinstance(obj, CleanCorpus):
        return obj
    if isinstance(obj, str):
        obj = Corpus.from_texts({"doc0": obj})
    if isinstance(obj, Corpus):
        return clean_corpus(obj, **options)
    raise TypeError(f"expected a string, Corpus or CleanCorpus, not {type(obj).__name__}")
