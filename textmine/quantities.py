"""Figures: every quantity a report states, with value, unit, qualifier, what it counts and when.

`extract_quantities(corpus_or_text)` returns one row per figure found by the shared span
detector (`textmine.spans.detect_spans`, so the tokenizer keeps exactly these spans whole).

Columns
    doc_id, sent_id; start, end (offsets into the cleaned document text); surface (the span);
    value (float); value_max (float, upper end of a range, NaN otherwise); unit; kind;
    qualifier; measure; time; sentence.

Conventions
- value applies the multipliers to the number in the unit as written: 40余万元 → 400000, unit
  元; 1.3万多名 → 13000, unit 名; 3.5亿千瓦 → 350000000, unit 千瓦; 5.2% → 5.2, unit %;
  百分之三十 → 30, unit %; 0.5个百分点 → 0.5, unit 百分点; 三分之一 → 0.333…, unit "";
  2倍 → 2 and 翻一番 → 2, 翻两番 → 4, unit 倍. A number with a multiplier but no unit
  (人口14亿) has unit "" and kind count.
- Changes keep their sign as written: 下降2.3% has value 2.3 (not −2.3); the direction stays
  in `measure` (…下降) where the text puts it. Only an explicit minus sign (−2.3%, 负2.3%) makes
  a value negative.
- Ranges (3至5年, 30%—40%, 五六百人, 三四十): value is the lower end, value_max the upper end,
  qualifier "range".
- qualifier, first that applies: range; at_least (以上, 不少于, 至少, 不低于); at_most (以下,
  以内, 不超过, 至多, 最多); less_than (不到, 不足, 不满, 少于, 低于); about (约, 大约, 左右,
  上下, 近, 将近, 接近, 大概); more_than (余, 多, 来, 几 inside the number; 超过, 逾, 超 before
  it); average (平均, 年均 shortly before it in the clause: 平均年龄42.7岁); else exact.
  近 before a number of years (近五年) reads "the last five years" and stays exact.
- kind: from the unit — count, money, weight, area, length, volume, energy, duration, age,
  percent, percentage_point, multiple, fraction, ordinal (第十一个五年规划, 第三次, 二十大,
  十八届三中全会: value is the ordinal number, unit the classifier), year (2024年, 一九八三年:
  value the year, unit 年), date (2021年年底, 3月5日, 20世纪50年代: value the year when the
  date names one, else NaN; unit "").
- measure: the noun phrase the figure counts, as written. A classifier followed by a noun takes
  that noun (805名优秀带头人 → 优秀带头人); otherwise the words before the number in its
  clause, without leading adverbs and verbs of reporting (共选派第一书记2278人 → 第一书记;
  累计销售新鲜羊肚菌300余斤 → 新鲜羊肚菌; 国内生产总值增长5%左右 → 国内生产总值增长).
- measure and time are read in simplified characters (a traditional-character report gives
  simplified ones); surface and sentence are always the text as written.
- time: the nearest time reference before the figure in its sentence (今年, 去年, 2021年年底,
  2024年, “十四五”时期, 过去五年 …), else the first one after it in the sentence, else "".
- By default every block kind except byline and boilerplate is read: headlines and captions of
  news reports state figures too (`kinds=` narrows it, e.g. ("subheading", "paragraph")).
- Not figures (see `textmine.spans`): numerals inside words, list markers, phone and document
  numbers, numbered formulations — those go to `textmine.formulations`.

The figures are exactly the quantity and date spans of `detect_spans` on each sentence; for
speed the grammar runs once over a document and the formulation scan only on sentences where a
formulation could take a figure away (`spans.needs_formulation_check`). The hand-annotated
gold set and its conventions: tests/annotations/quantities.jsonl and quantities-README.md.
"""

from __future__ import annotations

import functools
import math
import re
from bisect import bisect_left
from decimal import Decimal
from typing import Any

import pandas as pd

from textmine.spans import (  # the grammar's building blocks are shared on purpose
    _APPROX,
    _ARABIC,
    _CN,
    _MULT,
    _NUM,
    _PER,
    _RANGE_SEP,
    _SUFFIX,
    _UNIT,
    UNIT_KINDS,
    Span,
    figure_spans,
    formulation_spans_of,
    merge_spans,
    needs_formulation_check,
    simplified,
)

# Small patterns used on the hot path, compiled once.
_VAGUE_MARKS = re.compile("^数|[余多几来]")
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_ADJACENT_DIGITS = re.compile("([一二三四五六七八九])([二三四五六七八九])")
_WAN_YI = re.compile("[万亿]")
_PER_SLASH = re.compile("[/／]")
_CN_YEAR = re.compile("[一二][〇○零一二三四五六七八九]{3}")
_BIG_MULT_CHAR = re.compile("[万亿萬億]")
_TRAILING_BIG_MULT = re.compile("[万亿萬億]+$")
_CHANGE_VERB = re.compile("(?:增加|增长|提高|下降|减少)了?$")

QUANTITY_COLUMNS = ["doc_id", "sent_id", "start", "end", "surface", "value", "value_max", "unit",
                    "kind", "qualifier", "measure", "time", "sentence"]
#: Block kinds read by default: all but bylines and page boilerplate.
QUANTITY_KINDS = ("title", "subtitle", "subheading", "caption", "paragraph", "fragment")
QUANTITY_KIND_NAMES = ("count", "money", "weight", "area", "length", "volume", "energy",
                       "duration", "age", "percent", "percentage_point", "multiple", "fraction",
                       "ordinal", "date", "year", "other")

_FULLWIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")
_CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9, "壹": 1, "贰": 2, "貮": 2, "叁": 3, "肆": 4,
              "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9,
              **{str(i): i for i in range(10)}}
_SMALL_MULT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_BIG_MULT = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_NUMBER_TOKEN = re.compile(r"[0-9]+(?:\.[0-9]+)?|.")

_PARTS = re.compile(
    rf"^(?P<pre>百分之|第)?(?P<n1>{_NUM})(?P<u1>[%％‰]|(?:{_UNIT}){_PER}?|分之)?"
    rf"(?:(?P<sep>{_RANGE_SEP})(?:百分之)?(?P<n2>{_NUM})(?P<u2>[%％‰]|(?:{_UNIT}){_PER}?)?)?"
    rf"(?P<suf>{_SUFFIX})?$"
)
_ORDINAL = re.compile(
    rf"^第(?P<n>{_NUM})(?P<u>.*)$|^(?P<n2>{_CN})(?P<u2>届|大|次|中全会)"
    rf"(?:(?P<n3>{_CN})中全会|(?:全体)?会议)?$")
_CN_POINT = re.compile(f"[点點]([{''.join(_CN_DIGITS)}]+)")
_INNER_APPROX = re.compile(rf"(?:{_ARABIC}|{_CN}){_APPROX}|{_MULT}{_APPROX}")
_FRACTION = re.compile(rf"^(?P<d>{_NUM})分之(?P<n>{_NUM})$")
_FAN = re.compile(r"^翻了?(?P<n>[一两二三四五])番(?P<more>多)?$")
_DATE_YEAR = re.compile(r"^(?P<y>[12１２][0-9０-９]{3}|[一二][〇○零一二三四五六七八九０-９]{3})年")

_PREFIX_QUALIFIERS = [
    ("at_least", ("不少于", "至少", "不低于", "最少", "不止")),
    ("at_most", ("不超过", "至多", "最多", "不高于", "不大于")),
    ("less_than", ("不到", "不足", "不满", "少于", "低于", "未满", "未达")),
    ("about", ("大约", "约为", "约", "将近", "接近", "大概", "近", "大体")),
    ("more_than", ("超过", "逾", "超", "多于", "突破")),
]
_PREFIX_QUALIFIER = {word: qualifier for qualifier, words in _PREFIX_QUALIFIERS
                     for word in words}
_PREFIX_RE = re.compile("(?:" + "|".join(sorted(_PREFIX_QUALIFIER, key=len, reverse=True))
                        + ")$")
_SUFFIX_QUALIFIERS = {"以上": "at_least", "以下": "at_most", "以内": "at_most", "内": "at_most",
                      "之内": "at_most", "左右": "about", "上下": "about", "多": "more_than"}
_AVERAGE = re.compile(r"(平均每年|平均|年均)([^，,；;。：:]{0,8})$")
_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]*")
_LIST_JOIN = re.compile(r"[、和及]|(?:提高|增加|上升|下降|减少|降低|延长|缩短)?[到至]")
_CLAUSE_END = re.compile(r"[，,；;：:。！？!?、（）()“”\"\s]")
_LEADING = re.compile(
    r"^(?:其中|全年|全市|全省|全国|今年|去年|目前|已经|已|共计|共有|总计|合计|累计|共|先后|"
    r"总共|分别|新增加|完成|实现|达到|达|为|有|是|选派|销售|培训|帮助|推动|引导|带动|"
    r"组织|建成|新建|改扩建|建设|解决|协助|提供|投入|安排|发放|争取|吸引|引进|引|招募|"
    r"开展|举办|累计|超过|超|约|近|将近|不到|不足|逾|平均|年均|比上年|比去年|同比|比|较)+"
)
_TIME = re.compile(
    r"(?:[12][0-9]{3}|[一二][〇○零一二三四五六七八九]{3})年(?:[0-9一二三四五六七八九十]{1,3}月"
    r"(?:[0-9一二三四五六七八九十]{1,3}日)?|年?(?:底|初|末|上半年|下半年|前三季度|以来))?"
    r"|“[^”]{2,6}”时期|“[^”]{2,6}”期间|[一二三四五六七八九十]{2,4}五(?:时期|期间)"
    r"|(?:今年|去年|前年|明年|上年|当年|本年|近年|近几年|近些年)(?:以来|上半年|下半年|年底|年初|"
    r"前三季度|一季度|底|初|来)?"
    r"|过去(?:[一二三四五六七八九十]|[0-9]{1,2})年|今后(?:[一二三四五六七八九十]|[0-9]{1,2})年"
    r"|近日|目前|当前|本世纪末|上世纪末|到本世纪末"
)
#: Every match of `_TIME` holds one of these words: a text without them has no time reference.
#: Keep it in step when `_TIME` gains a form.
_TIME_HINT = re.compile("年|时期|期间|近日|目前|当前|世纪末")


def chinese_to_number(numeral: str) -> float | None:
    """The value of a written number: Arabic, Chinese (一千零五十三, 壹万贰仟), mixed (1.3万)."""
    s = numeral.translate(_FULLWIDTH).replace(",", "").replace(" ", "")
    s = _VAGUE_MARKS.sub("", s)
    point = _CN_POINT.search(s)
    if point:  # 四点九, 三十六點九億: the Chinese decimal point
        whole = chinese_to_number(s[:point.start()])
        decimals = "".join(str(_CN_DIGITS[c]) for c in point.group(1))
        if whole is None:
            return None
        s = f"{int(whole)}.{decimals}{s[point.end():]}"
    if not s:
        return None
    if _PLAIN_NUMBER.fullmatch(s):
        return float(s)
    if len(s) >= 2 and all(c in _CN_DIGITS for c in s):  # digit by digit: 一九八三, 二〇二四
        return float("".join(str(_CN_DIGITS[c]) for c in s))
    yi = wan = section = Decimal(0)
    current: Decimal | None = None
    for token in _NUMBER_TOKEN.findall(s):
        if token[0].isdigit() and token not in _CN_DIGITS or "." in token:
            current = Decimal(token)
        elif token in _CN_DIGITS:
            current = Decimal(_CN_DIGITS[token])
        elif token in _SMALL_MULT:
            section += (Decimal(1) if current is None else current) * _SMALL_MULT[token]
            current = None
        elif token == "万" or token == "萬":
            wan = (wan + section + (current or 0)) * 10_000
            if wan == 0:
                wan = Decimal(10_000)
            section, current = Decimal(0), None
        elif token in ("亿", "億"):
            yi = (yi + wan + section + (current or 0)) * 100_000_000
            if yi == 0:
                yi = Decimal(100_000_000)
            wan, section, current = Decimal(0), Decimal(0), None
        else:
            return None
    return float(yi + wan + section + (current or 0))


def _number_range(numeral: str) -> tuple[float | None, float | None]:
    """Value and upper value of a number; 五六百 → (500, 600), 三四十 → (30, 40)."""
    m = _ADJACENT_DIGITS.search(numeral)
    if m and _CN_DIGITS[m.group(2)] == _CN_DIGITS[m.group(1)] + 1 and not all(
            c in _CN_DIGITS for c in numeral.rstrip("余多几来")):
        low = numeral[:m.start(2)] + numeral[m.end(2):]
        high = numeral[:m.start(1)] + numeral[m.end(1):]
        return chinese_to_number(low), chinese_to_number(high)
    if m and len(numeral) == 2 and _CN_DIGITS[m.group(2)] == _CN_DIGITS[m.group(1)] + 1:
        return float(_CN_DIGITS[m.group(1)]), float(_CN_DIGITS[m.group(2)])
    return chinese_to_number(numeral), None


def _kind_of_unit(unit: str, number: str = "") -> str:
    if not unit:
        return "other" if "." in number and not _WAN_YI.search(number) else "count"
    return UNIT_KINDS.get(_PER_SLASH.split(unit)[0], "other")


#: Units reported under a shorter or standard name.
_UNIT_NAMES = {"％": "%", "个百分点": "百分点", "元人民币": "元", "个小时": "小时",
               "个工作日": "工作日", "个星期": "星期", "个部门": "部门"}


def _unit_name(unit: str) -> str:
    return _UNIT_NAMES.get(unit, unit)


def parse_quantity(surface: str, span_kind: str = "quantity") -> dict[str, Any] | None:
    """Value, value_max, unit, kind and the qualifier written inside one figure span.

    Memoised: a report repeats its figures (dates, 第一条, 5%), and parsing is pure; each
    call returns its own dict.
    """
    parsed = _parse_quantity_memo(surface, span_kind)
    return None if parsed is None else dict(parsed)


@functools.lru_cache(maxsize=1 << 16)
def _parse_quantity_memo(surface: str, span_kind: str) -> dict[str, Any] | None:
    return _parse_quantity(surface, span_kind)


def _parse_quantity(surface: str, span_kind: str) -> dict[str, Any] | None:
    approx = _INNER_APPROX.search(surface)
    inner = "more_than" if surface[:1] in "几数" or approx else "exact"
    m = _FAN.match(surface)
    if m:
        value = 2.0 ** (_CN_DIGITS[m.group("n")])
        return _row(value, None, "倍", "multiple", "more_than" if m.group("more") else "exact")
    if span_kind == "date":
        if _CN_YEAR.fullmatch(surface):  # 一九八○比一九七五年
            return _row(chinese_to_number(surface), None, "年", "year", "exact")
        year = _DATE_YEAR.match(surface)
        if year is None:
            return _row(math.nan, None, "", "date", "exact")
        y = chinese_to_number(year.group("y"))
        return _row(y, None, "年", "year", "exact") if surface == year.group() else _row(
            y, None, "", "date", "exact")
    m = _ORDINAL.match(surface)
    if m:
        number = m.group("n") or m.group("n2")
        unit = (m.group("u") or m.group("u2") or "")
        unit = unit[:1] if unit.startswith("个") else unit
        return _row(chinese_to_number(number), None, unit, "ordinal", "exact")
    m = _FRACTION.match(surface) if "分之" in surface else None
    if m:
        denominator = chinese_to_number(m.group("d"))
        numerator = chinese_to_number(m.group("n"))
        if not denominator or numerator is None:
            return None
        if denominator == 100:
            return _row(numerator, None, "%", "percent", inner)
        return _row(numerator / denominator, None, "", "fraction", "exact")
    m = _PARTS.match(surface)
    if not m:
        return None
    pre, n1, u1, n2, u2, suffix = m.group("pre", "n1", "u1", "n2", "u2", "suf")
    if u1 == "分之" and n2 is None:
        return None
    if pre == "百分之":
        value, value_max = _number_range(n1)
        if n2:
            value_max = chinese_to_number(n2)
        unit, kind = "%", "percent"
    else:
        value, value_max = _number_range(n1)
        if n2:
            value_max = chinese_to_number(n2)
        unit = _unit_name(u2 or u1 or "")
        kind = _kind_of_unit(u2 or u1 or "", n1.translate(_FULLWIDTH))
        if n2 and u1 and u2 and u1 != u2:  # 3月至5年: not one range; keep the first figure
            value_max = None
    if value is None:
        return None
    if value_max is not None and n2 and not _BIG_MULT_CHAR.search(n1):
        # 3万至5万 parses as written; 30—40万 means 300000—400000: borrow the multiplier
        mult = _TRAILING_BIG_MULT.search(n2.rstrip("余多几来"))
        if mult:
            value = chinese_to_number(n1 + mult.group()) or value
    qualifier = "range" if value_max is not None else (
        _SUFFIX_QUALIFIERS.get(suffix or "", "") or inner)
    return _row(value, value_max, unit, kind, qualifier)


def _row(value: float | None, value_max: float | None, unit: str, kind: str,
         qualifier: str) -> dict[str, Any]:
    return {"value": math.nan if value is None else float(value),
            "value_max": math.nan if value_max is None else float(value_max),
            "unit": unit, "kind": kind, "qualifier": qualifier}


#: Kinds whose qualifier is "exact" (or "range") whatever the words around them say.
_EXACT_KINDS = ("date", "year", "ordinal", "fraction")


def _context_qualifier(text: str, start: int, surface: str, kind: str) -> str:
    before = text[max(0, start - 5):start]
    if before.endswith(("上", "数")) and surface[:1] in "百千万":
        return "more_than"  # 上百万, 数千
    if before[-1:] in ("有", "为", "达", "计") and not before.endswith(("约为", "达到")):
        before = before[:-1]  # 约有六百个, 超过为 …
    m = _PREFIX_RE.search(before)
    if m:
        word = m.group()
        if not (word == "近" and kind == "duration") and not before.endswith(("赶超", "超超")):
            return _PREFIX_QUALIFIER[word]
    if kind in ("count", "money", "weight", "area", "length", "volume", "energy",
                "duration", "age", "percent", "percentage_point", "multiple", "other"):
        clause = text[max(0, start - 12):start]
        m = _AVERAGE.search(clause)
        if m and "人均" not in clause[-6:] and not (
                m.group(1) == "平均" and _CHANGE_VERB.search(m.group(2))):
            return "average"
    return ""


_MEASURE_WINDOW = 400
#: Where the counted noun after a figure ends (3000名群众参加 → 群众).
_NOUN_END = re.compile(r"(?:和|与|及|的|在|到|参加|参与|回村|脱颖|全覆盖|受益|实现|得到|获得|"
                       r"进行|开展|提供|配备|实行|全部|纳入|等)")
#: Approximations and verbs that end the clause before a figure (累计达 → dropped).
_TRAILING_VERBS = re.compile(r"(?:约|大约|近|将近|超过|逾|不到|不足|不少于|至少|达到|达|为|共|累计|"
                             r"有|是|突破|以上|左右|了)+$")


def _measure(text: str, start: int, end: int, unit: str, sent_start: int) -> str:
    """What the figure text[start:end] counts: the noun after its classifier, else the
    clause before it (see the module docstring)."""
    after = text[end:end + 12]
    if unit and UNIT_KINDS.get(unit) == "count" and after and "\u4e00" <= after[0] <= "\u9fff":
        noun = _CLAUSE_END.split(after, maxsplit=1)[0]
        noun = _NOUN_END.split(noun, maxsplit=1)[0]
        if noun:
            return noun[:10]
    if start <= sent_start:
        return ""  # the figure opens its sentence (第一条 …): no clause before it
    # the clause before the figure, read from at most _MEASURE_WINDOW characters back: the
    # label is its last 16 characters, and a whole sentence without clause punctuation read
    # for every figure in it made long sentences quadratic
    before = text[max(sent_start, start - _MEASURE_WINDOW):start]
    parts = _CLAUSE_END.split(before)
    clause = parts[-1] if parts else ""
    if _TIME_HINT.search(clause):
        clause = _TIME.sub("", clause)
    clause = _TRAILING_VERBS.sub("", clause)
    clause = _LEADING.sub("", clause)
    return clause[-16:]


def _times_in(text: str, start: int, end: int) -> list[tuple[int, str]]:
    """(offset, surface) of the time references in text[start:end]."""
    if _TIME_HINT.search(text, start, end) is None:
        return []  # most sentences: one literal search instead of the full pattern
    return [(m.start(), m.group()) for m in _TIME.finditer(text, start, end)]


def _time(times: list[tuple[int, str]], offset: int) -> str:
    """The nearest time reference before `offset`, else the first after it, else ""."""
    best = ""
    for start, surface in times:
        if start >= offset:
            return best or surface
        best = surface
    return best


def _sentences_of(text: str) -> list[tuple[int, int, int]]:
    return [(i, m.start(), m.end()) for i, m in enumerate(_SENTENCE.finditer(text))]


def _spans_by_sentence(original: str, text: str, sentences: list[tuple[int, int, int]],
                       figures: list[Span] | None = None,
                       formulations: dict[int, list[Span]] | None = None
                       ) -> list[tuple[int, int, int, list[Span]]]:
    """The figure spans of each sentence, after the formulations have taken theirs.

    One scan of the whole document; the formulation scan runs only on sentences where a
    formulation could take a figure away (`spans.needs_formulation_check`), with the same
    merge rules as `detect_spans`. `figures` (`figure_spans` of `original`) and
    `formulations` (sent_id → `formulation_spans_of` the sentence) reuse scans already made.
    """
    if figures is None:
        figures = figure_spans(text)
    elif text is not original:
        # the grammar reads the simplified text anyway: the same spans, their text simplified
        figures = [Span(f.start, f.end, f.kind, text[f.start:f.end]) for f in figures]
    if formulations is None:
        formulations = {}
    starts = [f.start for f in figures]
    out = []
    for sent_id, s_start, s_end in sentences:
        i, j = bisect_left(starts, s_start), bisect_left(starts, s_end)
        if i == j:
            continue  # most sentences hold no figure
        found = [f for f in figures[i:j] if f.end <= s_end]
        scanned = formulations.get(sent_id)
        if found and scanned != [] and needs_formulation_check(found):
            if scanned is None:
                scanned = formulation_spans_of(original[s_start:s_end])
            if scanned:  # without formulations the merge keeps every figure
                local = [Span(f.start - s_start, f.end - s_start, f.kind, f.text)
                         for f in found]
                merged = merge_spans(local, scanned)
                found = [Span(f.start + s_start, f.end + s_start, f.kind, f.text)
                         for f in merged if f.kind != "formulation"]
        if found:
            out.append((sent_id, s_start, s_end, found))
    return out


def quantities_of_text(text: str, sentences: list[tuple[int, int, int]] | None = None,
                       doc_id: str = "doc0", *, figures: list[Span] | None = None,
                       formulations: dict[int, list[Span]] | None = None,
                       sentence_texts: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """Figure rows of one cleaned document; `sentences` are (sent_id, start, end) to read
    (default: the whole text, split at 。！？； and line breaks). `figures` (`figure_spans` of
    `text`) and `formulations` (sent_id → formulation spans of that sentence's text) let a
    caller that already ran those scans share them, and `sentence_texts` (sent_id → the
    sentence's text) lets the rows hold the caller's own strings (pickled once with them);
    the rows are the same either way."""
    if sentences is None:
        sentences = _sentences_of(text)
    rows: list[dict[str, Any]] = []
    original, text = text, simplified(text)
    for sent_id, s_start, s_end, spans in _spans_by_sentence(original, text, sentences,
                                                             figures, formulations):
        # one string shared by the sentence's rows
        sentence = sentence_texts[sent_id] if sentence_texts is not None \
            else original[s_start:s_end]
        times: list[tuple[int, str]] | None = None  # read when a row first needs them
        for span in spans:
            surface = span.text.replace(" ", "").replace("\u00a0", "")  # parsed without blanks
            parsed = _parse_quantity_memo(surface, span.kind)
            if parsed is None:
                continue
            start, end = span.start, span.end
            value, kind, qual = parsed["value"], parsed["kind"], parsed["qualifier"]
            if kind in _EXACT_KINDS:
                # the context cannot change these: they are "exact" unless a range
                qual = "exact" if qual != "range" else qual
            elif qual in ("exact", "more_than"):
                context = _context_qualifier(text, start, span.text, kind)
                if context and (qual == "exact" or context != "average"):
                    qual = context
            if text[max(0, start - 1):start] in ("-", "−", "负") and not math.isnan(
                    value) and kind in ("percent", "percentage_point"):
                value = -value
                start -= 1
            if qual == "exact" and rows and rows[-1]["qualifier"] == "average" and (
                    rows[-1]["sent_id"] == sent_id and _LIST_JOIN.fullmatch(
                        text[rows[-1]["end"]:start])):
                qual = "average"  # 平均标准分别提高至778元/月、6818元/年
            measure = when = ""
            if kind not in ("date", "year"):
                measure = _measure(text, start, end, parsed["unit"], s_start)
                if times is None:
                    times = _times_in(text, s_start, s_end)
                when = _time(times, start)
            rows.append({
                "doc_id": doc_id, "sent_id": sent_id, "start": start, "end": end,
                "surface": original[start:end], "value": value,
                "value_max": parsed["value_max"], "unit": parsed["unit"], "kind": kind,
                "qualifier": qual, "measure": measure, "time": when, "sentence": sentence,
            })
    return rows


def quantities_of_document(item: tuple[str, str, list[tuple[int, int, int]]]
                           ) -> list[dict[str, Any]]:
    """Per-document worker for `parallel.map_documents`: (doc_id, text, sentences) → rows."""
    doc_id, text, sentences = item
    return quantities_of_text(text, sentences, doc_id)


def extract_quantities(corpus_or_text: Any, *, kinds: tuple[str, ...] | None = QUANTITY_KINDS,
                       n_jobs: int | None = 1, scheduler: Any = None,
                       quiet: bool = True) -> pd.DataFrame:
    """The figures table of a text or corpus, one row a quantity (columns: module docstring).

    `kinds` selects the block kinds read (None: all); n_jobs/scheduler as in `map_documents`.
    """
    from textmine.clean import as_clean_corpus
    from textmine.parallel import map_documents

    clean = as_clean_corpus(corpus_or_text, n_jobs=n_jobs, scheduler=scheduler)
    sentences = clean.analysis_sentences(kinds)
    by_doc: dict[str, list[tuple[int, int, int]]] = {}
    for doc_id, sent_id, start, end in zip(sentences["doc_id"], sentences["sent_id"],
                                           sentences["start"], sentences["end"], strict=True):
        by_doc.setdefault(doc_id, []).append((int(sent_id), int(start), int(end)))
    items = [(doc_id, text, by_doc.get(doc_id, []))
             for doc_id, text in zip(clean.documents["doc_id"], clean.documents["text"],
                                     strict=True)]
    results = map_documents(quantities_of_document, items, n_jobs=n_jobs, scheduler=scheduler,
                            desc="quantities", quiet=quiet)
    rows = [row for doc_rows in results for row in doc_rows]
    table = pd.DataFrame(rows, columns=QUANTITY_COLUMNS)
    for col in ("sent_id", "start", "end"):
        table[col] = table[col].astype("int64")
    for col in ("value", "value_max"):
        table[col] = table[col].astype("float64")
    return table.sort_values(["doc_id", "start"], kind="stable").reset_index(drop=True)
