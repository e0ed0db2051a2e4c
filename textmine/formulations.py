"""Policy formulations (提法): numbered ones, quoted coinages and slogan lists.

A formulation is a fixed phrase that a document uses as the name of a policy, programme, model,
goal or set of tasks:

- ``numbered``: the phrase counts its members (四个一批, 五个村居, 党建三原色, 两委, 三去一降一补,
  六稳, 八项规定, 一带一路 …), quoted or not; ``number`` is the count it states (the sum for
  compounds: 三去一降一补 → 5, 三严三实 → 6, 一带一路 → 2);
- ``coinage``: a quoted name of a policy, programme, model, brand or mechanism
  (“红色楼委会”, “泉城红色物业”, “领航赋能”, “党支部+合作社+农户”);
- ``slogan``: a quoted list of parallel short phrases (“万人下乡、千村提升”);
- ``quote``: any other quotation — metaphors, idioms, nicknames, direct speech, plan periods
  (“金宝贝”, “拦路虎”, “博士书记”, “十四五”) — kept only when asked, for inspection.

Where the text lists the members of a numbered formulation right before it (活力、富裕、和美、数字、
清廉“五个村居”) or right after it (“三去一降一补”（去产能、…）, “四个一批”，即…), they are linked in
``members``. The conventions behind these decisions are written up in
``tests/annotations/README.md``. Detection is rule-based and works sentence by sentence, so
`formulation_spans` is cheap enough for the tokenizer to call on every sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

from textmine.config import DEFAULT_ANALYSIS_KINDS
from textmine.spans import Span

FORMULATION_COLUMNS = ["doc_id", "sent_id", "start", "end", "surface", "kind", "number",
                       "members", "sentence"]
FORMULATION_KINDS = ("numbered", "coinage", "slogan", "quote")

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "双": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_NUMERALS = "一二两双三四五六七八九十百千万"
_HAN = r"\u3400-\u9fff"

#: Well-known numbered formulations recognised without quotation marks.
NUMBERED_LEXICON = (
    "四个全面", "四个意识", "四个自信", "两个维护", "两个确立", "三严三实", "八项规定", "两学一做",
    "三去一降一补", "五位一体", "三大攻坚战", "三个代表", "一国两制", "两个一百年", "一带一路",
    "两个毫不动摇", "三会一课", "六稳", "六保", "四个服从", "两个务必", "四项基本原则",
    "两个结合", "四个现代化", "三个有利于", "三农", "四风", "两委", "两新组织", "三重一大",
    "五个一工程", "三个一批", "四个一批", "十个坚持", "五个必由之路", "三个务必", "两个大局",
    "四个伟大", "四个不摆", "五大发展理念", "三大战略", "三个转变", "约法三章", "双随机、一公开",
    "放管服", "两不愁三保障",
)

#: Idioms and everyday phrases shaped like numbered compounds (三心二意) — never formulations.
_NUMBER_IDIOMS = frozenset(
    "三心二意 四面八方 五湖四海 三番五次 七上八下 三令五申 四通八达 五花八门 七嘴八舌 十拿九稳 "
    "一五一十 九牛一毛 三言两语 两面三刀 一清二楚 一干二净 接二连三 三五成群 三三两两 一心一意 "
    "千方百计 千家万户 千山万水 千军万马 千丝万缕 万无一失 一朝一夕 一点一滴 一言一行 一举一动 "
    "一草一木 一砖一瓦 一针一线 一丝一毫 一年一度 十全十美 百战百胜 千千万万 一五年 一一对应 "
    "一心一德 一板一眼 一张一弛 一字一句 一步一个 三年五年 四平八稳 七零八落 乱七八糟 六神无主 "
    "一时一事 一城一地 一个一个 两年三年 三年两年 一五一".split())

#: Quotations that are metaphors, nicknames or catch-phrases rather than names of policies.
METAPHORS = frozenset(
    "拦路虎 金宝贝 小伞 最后一公里 大水漫灌 组合拳 领头雁 排头兵 主力军 压舱石 顶梁柱 牛鼻子 "
    "硬骨头 绊脚石 试金石 助推器 加速器 蓄水池 稳定器 红色引擎 集聚地 娘家人 主心骨 领路人 "
    "带头人 指挥棒 风向标 金钥匙 金名片 新引擎 硬杠杠 紧箍咒 天花板 肠梗阻 玻璃门 弹簧门 "
    "旋转门 卡脖子 一刀切 一盘棋 大锅饭 铁饭碗 护城河 桥头堡 先手棋 必答题 加分项 晴雨表 "
    "温度计 金点子 好帮手 贴心人 小切口 大文章 保护伞 两张皮 一阵风 重头戏 主阵地 主战场 "
    "新蓝海 生力军 连心桥 暖心桥 定海神针 揭盖子 后起之秀 土专家 田秀才 老大难 香饽饽 "
    "及时雨 催化剂 强心剂 定心丸 顶梁柱 主引擎 火车头 领跑者 答卷 成绩单 名片 引擎 "
    "一公里 毛细血管 神经末梢 血管 细胞 桥梁 纽带 窗口 前哨 哨兵 堡垒 红色堡垒 战斗堡垒 "
    "幸福感 获得感 安全感 烟火气 人情味 新名片 活地图 百事通 万事通 贴心人 知心人 "
    "台独 港独 藏独 疆独 黄赌毒 黑恶 僵尸企业 形象工程 政绩工程 面子工程".split())

#: Words after a quotation that mark it as the name of a policy, programme or model.
_NAME_HEADS = (
    "工程", "行动", "计划", "模式", "机制", "品牌", "战略", "体系", "工作法", "改革", "试点",
    "建设", "服务", "活动", "项目", "理念", "格局", "工作", "政策", "制度", "原则", "方针",
    "思想", "要求", "目标", "任务", "举措", "专项", "攻坚", "示范", "平台", "驿站", "队伍",
    "工作室", "联盟", "计划", "清单", "机制", "路径", "体制", "布局", "倡议", "方案", "经验",
    "精神", "标准", "模型", "载体", "阵地", "矩阵", "课堂", "讲堂", "宣讲", "竞赛", "大赛",
    "比武", "治理", "管理", "系统", "网络", "中心", "基地", "园区", "示范区", "先行区",
)
_NAME_HEAD_RE = re.compile("(?:" + "|".join(sorted(set(_NAME_HEADS), key=len, reverse=True))
                           + ")")
#: Words before a quotation that introduce a nickname or a metaphor (有个“金宝贝”, 成了“拦路虎”).
_NICKNAME_CUE = re.compile(r"(?:有个|有一个|叫|叫做|称为|称作|被称|誉为|人称|称之为|当起|当上|"
                           r"当好|变成|化身|成了|成为了|做好|争当|争做|堪称|好似|像|如同|犹如|"
                           r"宛如|俨然|撑起|一朵朵|一个个|一位位|涌现出)(?:了|着)?(?:[一这那]?[个位名朵座张片条])?"
                           r"[^，。；“”]{0,6}$")
#: Person nicknames: titles that are then followed by a name (“博士书记”刘备).
_PERSON_NICKNAME = re.compile(r"(?:书记|专家|能人|达人|大王|状元|姐|哥|嫂|大妈|阿姨|大爷|大叔|"
                              r"老师|娃|侠|之秀|秀才|管家婆|网红|明星)$")
_PLAN_PERIOD = re.compile(r"^(?:十[一二三四五六七八九]?五|[六七八九]五)$")
_SPEECH_MARK = re.compile(r"[。！？!?；;：:…]|[我你您咱俺]|[吗吧呢啊呀哦]$")
_SLOGAN_SPLIT = re.compile(r"[、，,\s—–－/]+")
_QUOTE_PAIRS = {"“": "”", "‘": "’", "「": "」", "『": "』"}
_QUOTED = re.compile(r"“([^“”\n]{1,60})”|‘([^‘’\n]{1,60})’|「([^「」\n]{1,60})」|"
                     r"『([^『』\n]{1,60})』")
_NUM_COMPOUND = re.compile(
    rf"(?<![{_NUMERALS}])(?:[{_NUMERALS[:-3]}][{_HAN}]{{1,2}}?){{2,3}}(?![{_HAN}])")
_NUMBERED_SHAPE = re.compile(
    rf"^(?P<pre>[{_HAN}]{{0,3}}?)(?P<num>[一二两双三四五六七八九十百千]+)"
    rf"(?P<cls>个|项|大|条|种|类|位|张|支|批|道|件|化|区|地|保|稳|新|心|风|公|农|基|通|委|高|"
    rf"样|重|资|医|线|篇|链|年|中心|清单|原色|不|为|有|好|无|进|同|联|双|下)?[{_HAN}]")
_CLASSIFIERS = frozenset("个 项 大 条 种 类 位 张 支 批 道 件 篇".split())
_LIST_ITEMS = re.compile(rf"((?:[{_HAN}A-Za-z0-9]{{1,12}}、)+[{_HAN}A-Za-z0-9]{{1,12}})"
                         rf"(?:(?:和|及|以及|与)[{_HAN}]{{1,12}})?$")


@dataclass(frozen=True, slots=True)
class Formulation:
    """One formulation (or, with kind ``quote``, a non-formulation quotation) in a text."""

    start: int
    end: int
    surface: str
    kind: str
    number: int | None
    members: tuple[str, ...]


@lru_cache(maxsize=1)
def _idioms() -> frozenset[str]:
    """Four-character idioms (jieba's POS ``i``): a quoted idiom is a figure of speech."""
    from importlib.util import find_spec
    from pathlib import Path

    spec = find_spec("jieba")
    if spec is None or spec.origin is None:
        return frozenset()
    text = (Path(spec.origin).parent / "dict.txt").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^(\S{4}) \d+ i$", text, flags=re.M))


def _dict_path_idioms() -> frozenset[str]:
    try:
        return _idioms()
    except Exception:  # jieba missing or dictionary unreadable: no idiom list
        return frozenset()


@lru_cache(maxsize=1)
def _lexicon_re() -> re.Pattern[str]:
    words = sorted(NUMBERED_LEXICON, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words)))


def chinese_number(numeral: str) -> int | None:
    """Value of a Chinese numeral string (四 → 4, 十二 → 12, 两 → 2, 一百 → 100)."""
    if not numeral:
        return None
    if all(ch in _DIGITS for ch in numeral) and len(numeral) > 1:
        return None  # 九二 is a year, not a count
    total, current = 0, 0
    for ch in numeral:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in "十百千万":
            unit = {"十": 10, "百": 100, "千": 1000, "万": 10000}[ch]
            total += (current or 1) * unit
            current = 0
        else:
            return None
    return total + current


def _count_of(surface: str) -> int | None:
    """The count a numbered formulation states.

    The leading numeral when a classifier follows it (四个一批 → 4, 五个一工程 → 5, 三大攻坚战 → 3);
    the sum of the numerals of a compound of numbered parts (三去一降一补 → 5, 三严三实 → 6,
    双员双管家 → 4, 一带一路 → 2).
    """
    m = _NUMBERED_SHAPE.match(surface)
    if m and m.group("cls") in _CLASSIFIERS:
        return chinese_number(m.group("num"))
    runs = re.findall(rf"[{_NUMERALS}]+", surface)
    values = [chinese_number(r) for r in runs]
    values = [v for v in values if v is not None]
    if not values:
        return None
    return values[0] if len(values) == 1 else sum(values)


def _is_numbered(content: str) -> bool:
    if content in NUMBERED_LEXICON:
        return True
    if len(content) > 10 or _PLAN_PERIOD.match(content) or content in _NUMBER_IDIOMS:
        return False
    if content in METAPHORS:
        return False
    m = _NUMBERED_SHAPE.match(content)
    if not m:
        return False
    if chinese_number(m.group("num")) is None:
        return False
    if m.group("pre") and not m.group("cls") and len(m.group("num")) == 1 and \
            m.group("num") == "一":
        return False  # 高效办成一件事-like phrases count nothing
    return True


def _split_members(content: str) -> tuple[str, ...]:
    parts = [p for p in _SLOGAN_SPLIT.split(content) if p]
    return tuple(parts)


def _classify_quote(content: str, before: str, after: str) -> tuple[str, tuple[str, ...]]:
    """Kind of a quoted string from its content and its immediate context."""
    stripped = content.strip()
    named = bool(_NAME_HEAD_RE.match(after))
    if not stripped or not re.search(f"[{_HAN}]", stripped):
        if "+" in stripped or "×" in stripped:
            return "coinage", tuple(p for p in re.split(r"[+×]", stripped) if p)
        return "quote", ()
    if _PLAN_PERIOD.match(stripped):
        return "quote", ()
    if re.fullmatch(r"[\u3400-\u9fff]", stripped):
        return "quote", ()
    if len(stripped) > 24 or re.search(r"[。！？!?；;…]", stripped) or \
            re.search(r"[我你您咱俺]", stripped) or re.search(r"[吗吧呢啊呀哦嘛]$", stripped):
        return "quote", ()
    parts = _split_members(stripped)
    if len(parts) >= 2:
        if all(len(p) <= 12 for p in parts) and len(parts) <= 8:
            if re.search(r"[，,]", stripped) and any(len(p) > 9 for p in parts):
                return "quote", ()
            return "slogan", parts
        return "quote", ()
    if "+" in stripped or "＋" in stripped or "×" in stripped:
        return "coinage", tuple(p for p in re.split(r"[+＋×]", stripped) if p)
    if _is_numbered(stripped):
        return "numbered", ()
    if named:
        return "coinage", ()
    if stripped in METAPHORS or stripped in _NUMBER_IDIOMS:
        return "quote", ()
    if _PERSON_NICKNAME.search(stripped):
        return "quote", ()
    if _NICKNAME_CUE.search(before):
        return "quote", ()
    if len(stripped) == 4 and stripped in _dict_path_idioms():
        return "quote", ()
    if len(stripped) > 14:
        return "quote", ()
    return "coinage", ()


def _members_around(text: str, start: int, end: int, number: int | None) -> tuple[str, ...]:
    """Members listed right before (A、B、C“三个X”) or right after (（A、B、C）, ，即A、B、C)."""
    before = text[max(0, start - 120):start]
    before = re.sub(r"[“”‘’「」]$", "", before)
    before = re.sub(r"(?:的|等|这|此|为|即)$", "", before)
    m = _LIST_ITEMS.search(before)
    candidates: list[list[str]] = []
    if m:
        items = [i for i in m.group(0).split("、") if i]
        candidates.append(items)
        last = re.split(r"以及|和|及|与", items[-1], maxsplit=1)
        if len(last) == 2 and all(last):
            candidates.append([*items[:-1], *last])
    after = text[end:end + 160]
    after = re.sub(r"^[”’」』]", "", after)
    m = re.match(r"^(?:[^，。；（(]{0,8}?)(?:（|\(|，即|：|:|，就是|，包括|即)"
                 rf"((?:[{_HAN}A-Za-z0-9]{{1,12}}[、，,])+[{_HAN}A-Za-z0-9]{{1,12}})", after)
    if m:
        candidates.append([i for i in re.split(r"[、，,]", m.group(1)) if i])
    for items in candidates:
        if len(items) < 2:
            continue
        if number is not None and len(items) != number:
            continue
        if number is None and len(items) < 3:
            continue
        # The first item runs on into the words before the list (实施在外回引): cut it to
        # the length of the others.
        width = max(len(i) for i in items[1:])
        items = [items[0][-width:], *items[1:]]
        return tuple(items)
    return ()


def scan_formulations(text: str, *, include_quotes: bool = False) -> list[Formulation]:
    """Formulations in `text` (one sentence or a paragraph), sorted, non-overlapping."""
    found: list[Formulation] = []
    taken: list[tuple[int, int]] = []
    for m in _QUOTED.finditer(text):
        group = next(i for i in range(1, 5) if m.group(i) is not None)
        content = m.group(group)
        start, end = m.start(group), m.end(group)
        before = text[max(0, m.start() - 12):m.start()]
        after = text[m.end():m.end() + 6]
        kind, members = _classify_quote(content, before, after)
        # An outer speech quotation may hold an inner quoted coinage (‘专属网格员+党建指导员’).
        if kind == "quote":
            inner = scan_formulations(content, include_quotes=include_quotes)
            inner = [f for f in inner if f.surface != content]
            if inner:
                for f in inner:
                    found.append(Formulation(f.start + start, f.end + start, f.surface, f.kind,
                                             f.number, f.members))
                taken.append((m.start(), m.end()))
                if include_quotes:
                    found.append(Formulation(start, end, content, "quote", None, ()))
                continue
        if kind == "quote" and not include_quotes:
            taken.append((m.start(), m.end()))
            continue
        number = None
        if kind == "numbered":
            number = _count_of(content)
            members = _members_around(text, m.start(), m.end(), number)
        found.append(Formulation(start, end, content, kind, number, members))
        taken.append((m.start(), m.end()))
    for pattern in (_lexicon_re(), _NUM_COMPOUND):
        for m in pattern.finditer(text):
            s, e = m.start(), m.end()
            if any(s < te and ts < e for ts, te in taken):
                continue
            surface = m.group()
            if pattern is _NUM_COMPOUND:
                if surface in _NUMBER_IDIOMS or surface in METAPHORS or _PLAN_PERIOD.match(
                        surface) or len(re.findall(rf"[{_NUMERALS}]", surface)) < 2:
                    continue
                if not re.search(r"[两双三四五六七八九]", surface):
                    continue
                if any(w in surface for w in ("年", "月", "日", "倍", "成", "分之", "点")):
                    continue
            number = _count_of(surface)
            members = _members_around(text, s, e, number)
            found.append(Formulation(s, e, surface, "numbered", number, members))
            taken.append((s, e))
    found.sort(key=lambda f: (f.start, -f.end))
    return found


def formulation_spans(text: str) -> list[Span]:
    """Spans of the formulations in `text` (kind ``formulation``), for the shared detector."""
    return [Span(f.start, f.end, "formulation", f.surface)
            for f in scan_formulations(text) if f.kind != "quote"]


def extract_formulations(corpus_or_text: Any, include_quotes: bool = False, *,
                         kinds: tuple[str, ...] | None = DEFAULT_ANALYSIS_KINDS,
                         **clean_options: Any) -> pd.DataFrame:
    """The formulations table of a text or corpus, one row an occurrence.

    Columns: doc_id, sent_id, start, end (offsets into the cleaned text), surface, kind
    (numbered | coinage | slogan, and quote with `include_quotes`), number (Int64), members
    (tuple of str, empty when not listed) and sentence.
    """
    from textmine.clean import as_clean_corpus

    clean = as_clean_corpus(corpus_or_text, **clean_options)
    sentences = clean.analysis_sentences(kinds)
    rows: list[dict[str, Any]] = []
    for sent in sentences.itertuples(index=False):
        for f in scan_formulations(sent.text, include_quotes=include_quotes):
            rows.append({"doc_id": sent.doc_id, "sent_id": sent.sent_id,
                         "start": sent.start + f.start, "end": sent.start + f.end,
                         "surface": f.surface, "kind": f.kind, "number": f.number,
                         "members": f.members, "sentence": sent.text})
    table = pd.DataFrame(rows, columns=FORMULATION_COLUMNS)
    table["number"] = table["number"].astype("Int64")
    for col in ("start", "end", "sent_id"):
        table[col] = table[col].astype("int64")
    return table.sort_values(["doc_id", "start"], kind="stable").reset_index(drop=True)
