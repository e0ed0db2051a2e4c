"""The one span detector: quantities, dates and formulations that must stay whole.

The tokenizer protects these spans as single tokens, `textmine.quantities` parses the quantity
and date spans and `textmine.formulations` classifies the formulation spans, so all three always
agree on where a span starts and ends.

`detect_spans(text)` merges two sources:

- the figure grammar below (one compiled regex anchored on digits and numeral characters):
  a number in any form reports use (Arabic with separators and decimals, full-width digits,
  Chinese numerals, 大写 numerals, mixed 1.3万), its inner approximation (余, 多, 几), its
  multiplier (万, 亿), its unit (人, 万元, 平方公里, %, 个百分点, 倍 …) and a trailing qualifier
  (以上, 以下, 以内, 左右); percentages written 百分之三十, fractions 三分之一, 翻一番, ranges
  (3至5年, 30%—40%, 五六百), ordinals (第十一个, 二十大, 十一届三中全会) and dates and years
  (2021年年底, 一九八三年, 3月5日, 二十世纪五十年代) — kind "date" for dates and years,
  "quantity" for everything else;
- `textmine.formulations.formulation_spans(text)` (kind "formulation"), when that module
  exists. Formulation spans win over any figure span they overlap.

What the grammar refuses on purpose: a bare number without a unit (unless it carries 万/亿 or
is a decimal ratio: 倍差从2.42缩小至2.12), a numeral inside a word (第一书记, 一直以来, 统一,
一批, 一带一路, 两委, 六稳, 二人转, 五七道路), a lone 一 with a classifier (一个, 一项, 一年来:
the indefinite article), a single Chinese numeral with a generic classifier (两个方面, 三篇文章,
十项工作; but 三人, 五户, 三年, 两倍 are figures), a unit that starts a word (两千三百万台湾
同胞 keeps 两千三百万), list markers (一是, 第一，, （１）), cohort and class labels (2024级),
addresses (4 栋 607), document numbers (国发〔2024〕1号), phone numbers and digits glued to Latin
letters (5G, COVID-19), and numbered formulations such as 四个一批, 三个代表 or 两个维护. Spans
may hold one space between number and unit (news items write "18 个") but never a line break
or sentence punctuation, so they never cross a sentence boundary. Traditional characters
(萬, 億, 噸, 個, 點) are read through a one-to-one map, so offsets are those of the text.
"""

from __future__ import annotations

import bisect
import functools
import re
from typing import NamedTuple

import numpy as np

#: POS tags the tokenizer gives protected spans (jieba's tag set has none for them).
# Small patterns used on the hot path, compiled once.
_ENDS_WAN_YI = re.compile("[万亿]$")
_WAN_YI = re.compile(r"[万亿]")
_DECIMAL = re.compile(r"[0-9０-９]+[.．][0-9０-９]+")

SPAN_POS = {"quantity": "mq", "date": "t", "formulation": "nz"}


class Span(NamedTuple):
    """A half-open character span [start, end) of `text` and what it is (a named tuple: made
    by the thousand for every document, it is cheaper than a frozen dataclass)."""

    start: int
    end: int
    kind: str  # "quantity", "date" or "formulation"
    text: str

    @property
    def pos(self) -> str:
        return SPAN_POS[self.kind]


# ---------------------------------------------------------------------------------------------
# Units: surface → kind. Longest first in the regex. Shared with textmine.quantities.
UNIT_KINDS: dict[str, str] = {}


def _units(kind: str, names: str) -> None:
    for name in names.split():
        UNIT_KINDS[name] = kind


_units("money", "元 美元 欧元 日元 港元 港币 英镑 卢布 新卢布 元人民币 块钱 澳元 韩元 法郎 马克 "
       "银元")
_units("weight", "吨 千克 公斤 斤 克 毫克 担 市斤 吨标准煤 吨标煤 克拉")
_units("area", "亩 公顷 平方米 平方公里 平方千米 平米 平方英里 市亩")
_units("length", "公里 千米 米 厘米 毫米 英里 海里 延米 华里 里")
_units("volume", "立方米 立方 升 毫升 方 标准立方米")
_units("energy", "千瓦时 千瓦 兆瓦 吉瓦 瓦 度电 度 万千瓦 焦耳 千卡 伏 千伏")
_units("duration", "个月 个小时 小时 分钟 秒钟 秒 天 周年 周 个星期 星期 个工作日 工作日 年 "
       "个年头 昼夜 学时")
_units("age", "岁 周岁")
_units("percent", "% ％ ‰")
_units("percentage_point", "个百分点 百分点")
_units("multiple", "倍")
_units("count", "人次 户次 架次 车次 场次 人 名 位 个 件 处 项 家 户 所 座 条 台 辆 架 艘 套 次 批 "
       "场 起 类 种 篇 部 本 册 张 枚 头 只 匹 株 棵 支 份 对 间 栋 幢 层 级 期 轮 届 门 片 "
       "块 口 眼 道 首 集 例 宗 笔 颗 粒 箱 盒 瓶 袋 包 桶 节 列 标箱 盏 副 封 根 部门 个部门")

#: Units a bare Chinese numeral must not take (they make words: 一起, 一道, 三级, 两口 …)
_WEAK_CN_UNITS = {"起", "道", "口", "头", "门", "片", "块", "层", "级", "度", "方", "里", "对",
                  "种", "类", "部", "本", "首", "支", "批", "期", "轮", "节", "列", "间", "周",
                  "封", "副", "眼", "集", "笔", "宗", "份", "张", "只", "场", "所", "条", "处",
                  "套", "立方", "升", "米", "克", "担", "伏", "天", "秒", "位", "名", "家", "户",
                  "元", "个", "项", "次", "件", "届"}

# Traditional characters that matter to the grammar, mapped one to one (offsets are kept), so
# that the 1950s reports in traditional characters read like the others.
_T2S = str.maketrans(
    "個噸臺輛萬億點兩歲畝隻條場項種處類計劃規屆裏門間層級對張頭擔塊餘約於為達內將總數週黨會時鐘"
    "貳陸佰仟圓萬斤擔噸公頃錢價產億戶車間艘幣學區縣鄉鎮國際來過開億萬幾",
    "个吨台辆万亿点两岁亩只条场项种处类计划规届里门间层级对张头担块余约于为达内将总数周党会时钟"
    "贰陆佰仟圆万斤担吨公顷钱价产亿户车间艘币学区县乡镇国际来过开亿万几",
)
_TRADITIONAL = re.compile(
    "[個噸臺輛萬億點兩歲畝隻條場項種處類計劃規屆裏門間層級對張頭擔塊餘約於為達內將總數"
    "週黨會時鐘貳陸圓錢價產戶車幣學區縣鄉鎮國際來過開幾]")


@functools.lru_cache(maxsize=2)
def simplified(text: str) -> str:
    """`text` with the traditional characters the grammar reads mapped to simplified ones.

    Memoised for the last documents: the figure grammar and the figures table both read the
    simplified document, and the search for traditional characters runs through all of it.
    The mapping goes through a code-point table in numpy: `str.translate` looks every
    character up in a dict, 4 ms for a report of the 1950s.
    """
    if not _TRADITIONAL.search(text):
        return text
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    mapped = np.where(codes < 0x10000, _t2s_table()[codes & 0xFFFF], codes).astype("<u4")
    return mapped.tobytes().decode("utf-32-le", "surrogatepass")


@functools.cache
def _t2s_table() -> np.ndarray:
    """`_T2S` as an array over the Basic Multilingual Plane (every character maps to itself
    unless `_T2S` names it)."""
    table = np.arange(0x10000, dtype="<u4")
    for source, target in _T2S.items():
        table[source] = target
    return table


#: Count units a single Chinese numeral may take (三人, 五户); others read as words or lists.
_STRONG_CN_COUNT_UNITS = {"人", "名", "户", "家", "座", "台", "艘", "颗", "辆", "架", "匹", "枚",
                          "株", "人次"}

_D = "0-9０-９"
_CN_DIGIT = "零〇○一二两三四五六七八九壹贰叁肆伍陆柒捌玖貮两"
_CN_MULT = "十百千万亿拾佰仟萬億"
_ARABIC = rf"[{_D}]+(?:[,，][{_D}]{{3}}(?![{_D}]))*(?:[.．][{_D}]+)?"
# A run of Chinese numerals whose last character is not a multiplier starting a unit (十千瓦
# keeps 十: 千瓦 is the unit). Only the run's last character can be followed by a unit, so one
# character-class repeat with a lookbehind at its end does what a repeat of alternatives did,
# several times faster in the regex engine.
_CN = (rf"[{_CN_DIGIT}{_CN_MULT}]+(?<![{_CN_MULT}](?=[瓦米克卡伏焦分]))"
       rf"(?:[点點][{_CN_DIGIT}]+)?")
_APPROX = "(?:余|多|几|来)"
# A number: Arabic or Chinese, an inner approximation, a multiplier, another approximation.
_MULT = r"(?:[十百千万亿拾佰仟萬億](?![瓦米克卡伏焦分]))"
_NUM = rf"(?:{_ARABIC}|{_CN}|[几数](?=[十百千万亿]))(?:[ ]?{_APPROX})?(?:{_MULT}+{_APPROX}?)?"
_RANGE_SEP = r"(?:至|到|~|～|—{1,2}|－|-|–|或)"
#: Every character `_NUM` can match: a cheap lookahead over them tells what may follow a number.
_NUM_CHARS = rf"{_D},，.．{_CN_DIGIT}{_CN_MULT}点點几数 余多来"
_UNIT = "|".join(sorted((re.escape(u) for u in UNIT_KINDS), key=len, reverse=True))
# The unit alternation behind a lookahead on the units' first characters: after most numbers no
# unit follows, and the lookahead fails at once where the alternation tried every unit in turn.
_GUARDED_UNIT = rf"(?=[{re.escape(''.join(sorted({u[0] for u in UNIT_KINDS})))}])(?:{_UNIT})"
_SUFFIX = (r"(?:以上|以下|以内|之内|左右|上下(?![游级班楼])|内(?![容部外涵地陆需销河蒙乱政])"
           r"|(?<=[倍年])多)")
_SUFFIX_RE = re.compile(_SUFFIX + "$")
_SUFFIX_LAST = frozenset("上下内右多")  # the last characters of every `_SUFFIX` alternative
_PER = r"(?:[/／](?:月|年|日|天|人|户|亩|吨|斤|公斤|千克|平方米|小时|次|辆|张|座|件|头|只|个))"
_SP = "[ \u00a0]?"  # news items write "18 个", "9 月 6 日"
#: Every character that can follow the first one of a quantity (more of the number, a space,
#: a unit, a range or a suffix): a lookahead on it refuses the one-character candidates (一 in
#: 统一, 三 in 三是) in the regex engine, which the figure grammar would only drop afterwards.
_QTY_SECOND = re.escape("".join(sorted(set(
    _NUM_CHARS.replace(_D, "0123456789０１２３４５６７８９") + "\u00a0%％‰"
    + "至到~～—－-–或" + "以之左上内多" + "".join(u[0] for u in UNIT_KINDS)))))
_YEAR_DIGITS = rf"(?:[12１２][{_D}]{{3}}|[一二][〇○零一二三四五六七八九０-９]{{3}})"

_GRAMMAR = re.compile(
    rf"""
    (?=[{_D}{_CN_DIGIT}{_CN_MULT}第翻几数])  # cheap anchor: most positions fail here
    (?:(?P<date>
        (?:{_YEAR_DIGITS}{_SP}年(?:{_SP}(?:[{_D}]{{1,2}}|[一二三四五六七八九十]{{1,3}}){_SP}月
              (?:{_SP}(?:[{_D}]{{1,2}}|[一二三四五六七八九十]{{1,3}}){_SP}日)?
              |年?(?:底|初|末|上半年|下半年|前三季度|一季度|二季度|三季度|四季度))?)
      | (?<![{_D}.])(?:[{_D}]{{1,2}}|[一二三四五六七八九十]{{1,3}})
            (?:(?:至|到|—|-|－|~|～)(?:[{_D}]{{1,2}}|[一二三四五六七八九十]{{1,3}}))?{_SP}月
            (?:{_SP}(?:[{_D}]{{1,2}}|[一二三四五六七八九十]{{1,3}}){_SP}日|(?:上|中|下)旬|底|初)?
            (?:{_RANGE_SEP}(?:[{_D}]{{1,2}}|[一二三四五六七八九十]{{1,3}})月)?
      | (?:[{_D}]{{1,2}}|[一二]?十?[一二三四五六七八九十])世纪
            (?:(?:[{_D}]{{2}}|[一二三四五六七八九]?十)年代(?:[初中末]期?)?)?
      | (?:[{_D}]{{2}}|[二三四五六七八九]十)年代(?:[初中末]期?)?
      | (?<![{_D}{_CN_DIGIT}])[一二][〇○零一二三四五六七八九]{{3}}(?=比|到|至|、)
    )
  | (?P<pct>百分之{_NUM}(?:{_RANGE_SEP}(?:百分之)?{_NUM})?{_SUFFIX}?)
  | (?P<frac>(?=[{_NUM_CHARS}]*分之){_NUM}分之{_NUM})  # the guard spares parsing every number twice
  | (?P<fan>翻(?:了)?[一两二三四五]番(?:多)?)
  | (?P<ord>第[{_D}]+(?=[，。；、）)]|$)
        | 第{_NUM}(?:个(?:五年(?:计划|规划)?)?
              |次|届|批|位|名|轮|期|季度|阶段|部分|条|款|章|节|项|年)
        | (?=[一二三四五六七八九十]{{1,3}}[届大次中])  # guard: 届, 大, 次 or 中 follows
          (?:(?:[一二]?十[一二三四五六七八九]?|[一二三四五六七八九])届(?:[一二三四五六七八九]中全会)?
            | (?<=党的)[一二]?十?[一二三四五六七八九十]大
            | (?<![一二三四五六七八九十])[一二]?十[一二三四五六七八九]大
            | (?<![一二三四五六七八九十])二十大
            | (?<=[届大会])[一二三四五六七八九十]{{1,3}}次(?:全体)?会议
            | (?<![届一二三四五六七八九十])[一二三四五六七八九]中全会))
  | (?P<qty>(?=.[{_QTY_SECOND}]){_NUM}(?:{_SP}(?:[%％‰]|{_GUARDED_UNIT}{_PER}?))?
        (?:{_RANGE_SEP}{_NUM}(?:{_SP}(?:[%％‰]|{_GUARDED_UNIT}{_PER}?))?)?{_SUFFIX}?))
    """,
    re.VERBOSE,
)

_CN_ONLY = re.compile(rf"数?[{_CN_DIGIT}{_CN_MULT}余多几来]+(?:点[{_CN_DIGIT}]+[{_CN_MULT}]*)?")
_LATIN = re.compile(r"[A-Za-z]")
# Numbered formulations the grammar must never claim even without quotes.
_FORMULATION_LIKE = re.compile(
    r"[一二两三四五六七八九十](?:个|项|大|种|条|位)?(?:一批|全面|意识|自信|维护|确立|代表|务必|"
    r"有利于|毫不动摇|一百年|现代化|服务|坚持|必须|统筹|文明|攻坚战|着力|注重|不|化|一体|"
    r"为主|结合|到位|覆盖|保障|清单|体系|机制|工程|行动|战略|优先|要|是|能|讲|严|实|新|进|上|下)"
)
_YEAR_CHARS = set("〇○零一二三四五六七八九０１２３４５６７８９0123456789")
_UNIT_WORDS = tuple(UNIT_KINDS)  # bare.endswith(_UNIT_WORDS): the figure ends in a unit
_PER_RE = re.compile(_PER + "$")
_RATIO = re.compile(r"(?:倍差|系数|指数|比值|比例)(?:从|由|为|是|达到?|降至|缩小至|扩大至)?$"
                    r"|(?:倍差|系数|指数|比值|比例)[^，；。]{0,10}(?:至|到)$")
_COHORT = re.compile(r"(?:19|20)[0-9]{2}[级届]$")


#: A unit followed by one of these characters is the start of a word (台湾, 方面, 元素 …).
_UNIT_BLOCKED_BY = {
    "台": "湾州阶风", "方": "面式案向法针位", "元": "素旦首化", "度": "假过", "周": "边围",
    "克": "服隆", "升": "级学温高", "米": "饭", "头": "部", "条": "件例", "次": "数序",
    "家": "庭长属乡", "名": "单义称", "种": "子", "期": "间待望限", "场": "所地景", "级": "别",
    "个": "体性案", "道": "路理", "处": "理置罚", "里": "程面", "人": "转帮"}


def _without_suffix_and_per(surface: str) -> str:
    """`surface` without its trailing qualifier (以上, 左右 …) and then its per-unit (/年).

    The two substitutions are tried only where the last character or a slash allows them:
    most figures have neither, and this runs for every figure candidate."""
    if surface[-1:] in _SUFFIX_LAST:
        surface = _SUFFIX_RE.sub("", surface)
    if "/" in surface or "／" in surface:
        surface = _PER_RE.sub("", surface)
    return surface


def _accept_quantity(text: str, start: int, end: int, surface: str) -> int:
    """Return the end of the accepted figure (maybe shortened), or -1 to reject it."""
    nxt = text[end] if end < len(text) else " "
    last = surface[-1]
    if last in _UNIT_BLOCKED_BY and nxt in _UNIT_BLOCKED_BY[last]:
        if not _ENDS_WAN_YI.search(surface[:-1]):
            return -1
        end, surface = end - 1, surface[:-1]  # 两千三百万台湾同胞 → 两千三百万
    if surface[-1] in "栋幢层楼号室座" and text[end:end + 2].lstrip(" ")[:1].isdigit():
        return -1  # an address: 紫菘 4 栋 607, B座3层
    surface = surface.replace(" ", "").replace("\u00a0", "")
    if surface[-1] in "级届" and _COHORT.match(surface):
        return -1  # 2024级本科生, 2020届: a cohort label
    prev = text[start - 1] if start else " "
    nxt = text[end] if end < len(text) else " "
    if prev and (_LATIN.match(prev) or prev in "-_/〔[【(" and not surface[0].isdigit()):
        return -1
    if _LATIN.match(nxt) or (prev in "〔[" and surface[0].isdigit()):
        return -1
    if prev in "-－/" and surface[0].isdigit() and start >= 2 and text[start - 2].isdigit():
        return -1  # phone numbers and codes: 0531-12345678, 1/2
    if len(surface) >= 7 and len(_DIGIT_RUN.findall(surface)) >= 7 and not _NOT_PHONE.search(
            surface):
        return -1  # phone, ID, account numbers
    bare = _without_suffix_and_per(surface)
    has_unit = bare.endswith(_UNIT_WORDS) or surface[-1] in "%％‰"
    arabic = _ARABIC_DIGIT.search(surface) is not None
    if not arabic:
        return _accept_chinese(text, start, end, surface, has_unit)
    if not has_unit and not _WAN_YI.search(surface):
        if _DECIMAL.fullmatch(surface) and _RATIO.search(
                text, max(0, start - 14), start):
            return end  # 收入倍差从2.42缩小至2.12: a ratio, kind "other"
        return -1
    return end


def _accept_chinese(text: str, start: int, end: int, surface: str, has_unit: bool) -> int:
    prev = text[start - 1] if start else " "
    core = _CN_ONLY.match(surface)
    number = core.group() if core else ""
    rest = surface[len(number):]
    if not has_unit and not _WAN_YI.search(number[1:]):
        return -1
    vague = number[:1] in ("几", "数")  # 几万项, 数千人: "several"
    if vague:
        number = number[1:]
    if number[:1] in "百千万" and (prev in "上近数约逾超" and prev or number[1:2] in ("余", "多")):
        vague = True  # 上百万, 近千万, 近百个, 百余家, 千余人, 万余名
    if not number or not vague and number[0] in "百千万亿佰仟萬億":
        return -1  # 万人下乡, 千村, 百姓, 亿元楼宇
    digits_only = number.rstrip("余多几来")
    if len(digits_only) == 2 and all(c in _CN_DIGIT for c in digits_only) and (
            _CN_DIGIT.find(digits_only[1]) != _CN_DIGIT.find(digits_only[0]) + 1):
        return -1  # 五七道路, 三八红旗手: a name, not a range like 五六
    if number[0] in "余多来" or number[0] in "几数" and len(number) < 2:
        return -1
    if prev and (prev in "第单统唯万一之某初周每其逐同若这那哪" or prev.isalpha() and
                 _is_han(prev) and prev in "专合划整归均齐纯独"):
        return -1
    unit = _without_suffix_and_per(rest)
    if unit.startswith(("余", "多", "几")):
        unit = unit[1:]
    if number in ("一", "壹") and unit != "倍" or number == "两" and unit in _WEAK_CN_UNITS:
        return -1  # 一个, 一批 (indefinite), 两岸, 两级
    generic = unit in _WEAK_CN_UNITS or (UNIT_KINDS.get(unit) == "count"
                                         and unit not in _STRONG_CN_COUNT_UNITS)
    if len(number) == 1 and not vague and generic:
        return -1  # 三级, 五道, 两个方面, 三篇文章: a single numeral with a generic classifier
    if _FORMULATION_LIKE.match(text, start) and len(number) == 1:
        return -1
    nxt = text[end] if end < len(text) else " "
    if unit in ("个", "项", "条", "种", "大", "位") and len(number) == 1 and nxt and (
            nxt in _CN_DIGIT or nxt in "”\""):
        return -1  # 四个一批, “五个村居”
    if prev in "“\"‘「" and len(number) <= 2:
        return -1  # quoted numbered formulation
    if unit == "年" and (nxt in "级" or text.startswith(("计划", "规划"), end)):
        return -1
    return end


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def figure_spans(text: str) -> list[Span]:
    """Quantity and date spans of the figure grammar alone (no formulations)."""
    spans: list[Span] = []
    original, text = text, simplified(text)
    for m in _GRAMMAR.finditer(text):
        start, end = m.span()
        surface = m.group()
        group = m.lastgroup
        if group == "date":
            if start and text[start - 1] in "〔[第":  # document numbers
                continue
            if _COHORT.match(surface):
                continue
            spans.append(Span(start, end, "date", original[start:end]))
            continue
        if group in ("pct", "frac", "fan"):
            spans.append(Span(start, end, "quantity", original[start:end]))
            continue
        if group == "ord":
            nxt = text[end] if end < len(text) else " "
            if surface.endswith("个") and nxt in "”\"":
                continue
            spans.append(Span(start, end, "quantity", original[start:end]))
            continue
        if len(surface) == 1 or surface[0] == "一" and len(surface) == 2 and surface[1] != "倍":
            continue  # the bulk of candidates: 一, 三, 一个, 一批 — never figures alone
        end = _accept_quantity(text, start, end, surface)
        if end > start:
            spans.append(Span(start, end, "quantity", original[start:end]))
    return spans


def prepare_detector() -> None:
    """Build the detector's lazily built tables now (the formulation patterns, jieba's idioms),
    so that a tokenizer is ready when built and its first document pays nothing extra."""
    try:
        from textmine.formulations import prepare_scan
    except ImportError:
        return
    prepare_scan()


def formulation_spans_of(text: str) -> list[Span]:
    """Formulation spans from `textmine.formulations`, or none while that module lacks them."""
    try:
        from textmine.formulations import formulation_spans
    except (ImportError, AttributeError):
        return []
    try:
        return list(formulation_spans(text))
    except NotImplementedError:
        return []


_ARABIC_DIGIT = re.compile(f"[{_D}]")
_DIGIT_RUN = re.compile(f"[{_D}]")
_NOT_PHONE = re.compile(r"[.．,万亿%％元]")
_MULTI_CHAR_NUMBER = re.compile(rf"[{_D}]|[{_CN_DIGIT}{_CN_MULT}点點]{{2,}}")


def _figure_claims(formulation: Span, figures: list[Span], ends: list[int] | None = None
                   ) -> bool:
    """True when a figure with a multi-character number owns the formulation's characters.

    Numbered formulations count with one numeral (四个一批, 八项规定, 两个一百年); a figure
    written with a longer number (六十五万吨, 一千零五十三人, 十八届三中全会) is a quantity, so a
    formulation span lying inside it or crossing it (not containing it) yields to it.
    """
    if ends is None:
        ends = [f.end for f in figures]
    # figures are sorted and disjoint: start at the first one ending after the formulation
    # starts and stop at the first one starting after it ends (linear scans of every figure
    # for every formulation made whole documents quadratic)
    for i in range(bisect.bisect_right(ends, formulation.start), len(figures)):
        fig = figures[i]
        if fig.start >= formulation.end:
            break
        if fig.end <= formulation.start:
            continue
        contains = formulation.start <= fig.start and fig.end <= formulation.end and (
            formulation.end - formulation.start > fig.end - fig.start)
        if not contains and _MULTI_CHAR_NUMBER.search(fig.text):
            return True
    return False


def detect_spans(text: str, *, figures: list[Span] | None = None) -> list[Span]:
    """Non-overlapping figure, date and formulation spans of `text`, in text order.

    Formulation spans win over the figure spans they overlap, except that a figure with a
    multi-character number wins over a formulation span inside it or crossing it. `figures`,
    if given, is `figure_spans(text)` already computed (the pipeline shares one scan).
    """
    if figures is None:
        figures = figure_spans(text)
    return merge_spans(list(figures), formulation_spans_of(text))


def needs_formulation_check(figures: list[Span]) -> bool:
    """Whether a formulation could take any of these figures away.

    Only a formulation containing a figure beats it when the figure has Arabic digits (see
    `merge_spans`), and formulations are written in Chinese numerals, so a sentence whose
    figures all have Arabic digits keeps them all: the figures table skips the formulation scan
    there.
    """
    return any(not _ARABIC_DIGIT.search(f.text) for f in figures)


def merge_spans(figures: list[Span], formulations: list[Span]) -> list[Span]:
    """The figures and formulations of one text merged by the rules of `detect_spans`."""
    if not formulations:
        return figures
    figures = sorted(figures, key=lambda s: (s.start, s.end))
    ends = [f.end for f in figures]
    if any(a > b for a, b in zip(ends, ends[1:], strict=False)):  # overlapping: no shortcut
        formulations = [f for f in formulations
                        if not any(_figure_claims(f, [g]) for g in figures)]
    else:
        formulations = [f for f in formulations if not _figure_claims(f, figures, ends)]
    formulations = sorted(formulations, key=lambda s: (s.start, -s.end))
    kept: list[Span] = []
    last_end = -1
    for span in formulations:  # formulations themselves must not overlap each other
        if span.start >= last_end:
            kept.append(span)
            last_end = span.end
    out = list(kept)
    i = 0
    for fig in figures:
        while i < len(kept) and kept[i].end <= fig.start:
            i += 1
        if i < len(kept) and kept[i].start < fig.end:
            continue
        out.append(fig)
    out.sort(key=lambda s: s.start)
    return out
