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

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

from textmine.spans import Span

FORMULATION_COLUMNS = ["doc_id", "sent_id", "start", "end", "surface", "kind", "number",
                       "members", "sentence"]
FORMULATION_KINDS = ("numbered", "coinage", "slogan", "quote")
#: Block kinds searched by default: all text but bylines and page boilerplate.
FORMULATION_BLOCK_KINDS = ("title", "subtitle", "subheading", "caption", "paragraph", "fragment")

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
    "放管服", "两不愁三保障", "三证合一", "五证合一", "一照一码", "多证合一", "两个先行",
)

#: Idioms and everyday phrases shaped like numbered compounds (三心二意) — never formulations.
_NUMBER_IDIOMS = frozenset(
    "三心二意 四面八方 五湖四海 三番五次 七上八下 三令五申 四通八达 五花八门 七嘴八舌 十拿九稳 "
    "一五一十 九牛一毛 三言两语 两面三刀 一清二楚 一干二净 接二连三 三五成群 三三两两 一心一意 "
    "千方百计 千家万户 千山万水 千军万马 千丝万缕 万无一失 一朝一夕 一点一滴 一言一行 一举一动 "
    "一草一木 一砖一瓦 一针一线 一丝一毫 一年一度 十全十美 百战百胜 千千万万 一五年 一一对应 "
    "一心一德 一板一眼 一张一弛 一字一句 一步一个 三年五年 四平八稳 七零八落 乱七八糟 六神无主 "
    "一时一事 一城一地 一个一个 两年三年 三年两年 一五一 双赢多赢共赢 双赢 多赢 共赢 三生有幸 "
    "一举两得 一石二鸟 一箭双雕 举一反三 两全其美 三思而行 四海为家 五谷丰登 六畜兴旺 "
    "七十二变 八仙过海 九九归一 十年磨一剑 一分为二 合二为一 一以贯之 一往无前 一对一 一对多 "
    "点对点 面对面 手把手 心连心 一帮一 一带一".split())

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
#: Quoted formulations without a numeral that are known nationally.
KNOWN_COINAGES = frozenset(
    "以人民为中心 国之大者 枫桥经验 放管服 专精特新 揭榜挂帅 走出去 引进来 千万工程 无废城市 "
    "好房子 高效办成一件事 一网通办 跨省通办 证照分离 多规合一 互联网+ 人工智能+ 营改增 菜篮子 "
    "米袋子 时时放心不下 第一议题 两山 绿水青山就是金山银山 放管服 最多跑一次 不见面审批 "
    "一件事一次办 接诉即办 街乡吹哨、部门报到 稳中求进 双碳 碳达峰 碳中和 新质生产力 "
    "小巨人 单项冠军 瞪羚企业 独角兽 白名单 保交楼 保交房 平急两用 城中村 以旧换新 "
    "智改数转 数字中国 健康中国 美丽中国 平安中国 法治中国 数据要素× 金税工程 关键少数 守正创新 "
    "打虎 拍蝇 猎狐 天网 伟大建党精神 中国梦 新发展理念 新发展格局 人类命运共同体 "
    "共同富裕 全过程人民民主 中国式现代化 自我革命 国之大者 绿水青山".split())
_NAME_END = re.compile(r"(?:工程|行动|计划|模式|机制|品牌|战略|体系|工作法|改革|试点|平台|驿站|"
                       r"中心|示范区|先行区|经验|之家|学院|学堂|课堂|讲堂|大讲堂|书屋|小屋|联盟|"
                       r"工作室|服务站|服务队|志愿队|宣讲团|实践团|杯|大赛|大比武|擂台赛|竞赛|"
                       r"活动|项目|专项|城市|街区|社区|乡村|示范村|集群|走廊|基地|园区|精神|之星|字号|共体|"
                       r"制|站|会|办|通|链|网|码|贷|保|券|卡|团|队|岗|所|坊|营|社)$")
_GROUP_HEAD = re.compile(r"[\u4e00-\u9fff]{0,3}?(?:实践团|小组|团队|服务队|志愿队|宣讲团|主题|"
                         r"品牌|系列|专题|特色|为主题|为题|荣誉|称号|获得者|奖项|标志性项目|"
                         r"工程|行动|项目|机制|做法|企业|产品|农产品|联赛|集群|改革|模式|经验)")
_POLICY_MORPHEME = re.compile(
    r"党建|红色|治理|服务|改革|赋能|网格|振兴|发展|数字|智慧|智能|一体化|通办|共享|共建|共治|"
    r"联动|清单|示范|提升|行动|工程|计划|领航|引领|惠民|便民|民生|议事|调解|帮扶|结对|攻坚|招商|"
    r"双创|创新|产业|乡村|楼宇|物业|平台|一站式|先锋|党员|党群|暖心|連心|连心|幸福|红管|"
    r"绿色|低碳|生态|文明|安全|平安|法治|廉|减负|增效|营商|政务|办事|审批|监管|就业|养老|托育|"
    r"医保|教育|科技|人才|创业|消费|开放|协同|融合|振兴|富民|强村|兴村|共富|富裕|和美|宜居|"
    r"互认|通办|一网|一窗|跑一次|报一次|帮办|代办|兜底|就近|家门口|一站|便利|直达|快办")
_POLICY_VERB = re.compile(
    r"(?:实施|推进|推行|打造|开展|探索|深化|创新|建立|构建|落实|推动|启动|创建|擦亮|做强|叫响|"
    r"坚持|践行|完善|健全|争创|入选|获评|推广|试行|建设|深入|全面|持续|大力|用好|升级|优化|提出|"
    r"首创|创设|设立|成立|培育|发布|出台|形成|树立|贯彻|运用|依托|借助|聚焦|举办|组织|承办|开设|"
    r"开辟|组建|搭建|建成|推出|实行|做优|做实|做精|打响|唱响|扩大|加快|加强|强化|巩固|拓展|"
    r"拓宽|开通|上线|率先|引入|导入|部署|启用|选派|打好|抓好|办好|下沉|筑牢|统筹|推进实施|"
    r"围绕|参与|参加|加入|响应|启动了|开展了|实施了)(?:了|好)?$")
_PLAN_PERIOD = re.compile(r"^(?:十[一二三四五六七八九]?五|[六七八九]五)$")
_SPEECH_MARK = re.compile(r"[。！？!?；;：:…]|[我你您咱俺]|[吗吧呢啊呀哦]$")
_SLOGAN_SPLIT = re.compile(r"[、，,\s—–－/]+")
_ANY_HAN = re.compile(r"[\u3400-\u9fff]")
_PLUS = re.compile(r"[+＋×]")
_ALNUM = re.compile(r"[0-9A-Za-z]")
_SENTENCE_MARK = re.compile(r"[。！？!?；;…—]")
_PRONOUN = re.compile(r"[我你您咱俺]")
_FINAL_PARTICLE = re.compile(r"[吗吧呢啊呀哦嘛]$")
_QUESTION = re.compile(r"什么|怎么|怎样|如何|为何|哪")
_CODE = re.compile(r"(?=.*\d)[0-9A-Za-z]{2,8}")
_CODE_HEAD = re.compile(r"[\u4e00-\u9fff](?<![年月日号岁元亿万])")
_ORDINAL = re.compile(r"[一二两三四五六七八九十百千][章条节款届次号连]")
#: An organisation or place right before a quotation owns it: 学院“公治力行”, 无锡“智慧民主”.
_OWNER = re.compile(r"(?:学院|学校|大学|华科大|中心|支部|党委|党组|团委|工会|协会|社区|街道|"
                    r"[村镇乡县市省区]|政府|局|厅|委|公司|集团|银行|节之|活动之|系列之)$")
_RUN_GAP = re.compile(r"[、，,和及与\s]?")
_QUOTED = re.compile(r"“([^“”\n]{1,60})”|‘([^‘’\n]{1,60})’|「([^「」\n]{1,60})」|"
                     r"『([^『』\n]{1,60})』|\"([^\"\n]{1,60})\"")
# Two or three numbered parts (三去一降一补, 三严三实, 一带一路), not after a numeral or 第. The
# pattern begins with the numeral's character class (the lookbehind then checks the character
# before it): the regex engine skips in C to the few positions that hold a numeral, where a
# leading lookahead made it try every position.
_PART_TAIL = rf"(?:(?![{_NUMERALS}])[{_HAN}]){{1,2}}?"
_NUM_COMPOUND = re.compile(
    rf"[{_NUMERALS[:-3]}](?<![{_NUMERALS}第].){_PART_TAIL}"
    rf"(?:[{_NUMERALS[:-3]}]{_PART_TAIL}){{1,2}}(?![{_HAN}])")
_NUMBERED_SHAPE = re.compile(
    rf"^(?P<pre>[{_HAN}]{{0,3}}?)(?P<num>[一二两双三四五六七八九十百千]+)"
    rf"(?P<cls>个|项|大|条|种|类|位|张|支|批|道|件|化|区|地|保|稳|新|心|风|公|农|基|通|委|高|"
    rf"样|重|资|医|线|篇|链|年|中心|清单|原色|不|为|有|好|无|进|同|联|双|下)?[{_HAN}]")
_CLASSIFIERS = frozenset("个 项 大 条 种 类 位 张 支 批 道 件 篇".split())
# Small patterns of the rules below, compiled once.
_NUMERAL = re.compile(rf"[{_NUMERALS}]")
_NUMERAL_RUN = re.compile(rf"[{_NUMERALS}]+")
_SCALE_ONLY = re.compile("[十百千万]{2,}")
_ONE_THEN_NUMERAL = re.compile(rf"一[{_HAN}]{{1,2}}[{_NUMERALS}]")
_DASH_AS_PUNCTUATION = re.compile(r"\s—|—\s|——")
_LAST_LINK = re.compile(r"以及|和|及|与")
_CLOSING_QUOTE_AT_START = re.compile(r"^[”’」』]")
_LIST_AFTER = re.compile(r"^(?:[^，。；（(]{0,8}?)(?:（|\(|，即|：|:|，就是|，包括|即)"
                         rf"((?:[{_HAN}A-Za-z0-9]{{1,12}}[、，,])+[{_HAN}A-Za-z0-9]{{1,12}})")
_MEMBER_SEPARATOR = re.compile(r"[、，,]")
_COUNT_ABOVE_ONE = re.compile(r"[两双三四五六七八九]")
_DATE_OR_ORDINAL_MARK = re.compile(r"[年月日倍成点章条节款届次期号载]|分之")
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
    """Four-character idioms (jieba's POS ``i``): a quoted idiom is a figure of speech.

    When the tokenizer has already read jieba's dictionary in this process, its tags are
    reused instead of reading the file a second time.
    """
    import sys
    from importlib.util import find_spec
    from pathlib import Path

    segment = sys.modules.get("textmine.segment")
    if segment is not None and segment._jieba_dictionary.cache_info().currsize:
        _, tags = segment._jieba_dictionary()
        return frozenset(w for w, tag in tags.items() if tag == "i" and len(w) == 4)

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
    runs = _NUMERAL_RUN.findall(surface)
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
    value = chinese_number(m.group("num"))
    if value is None or value >= 100 or _SCALE_ONLY.fullmatch(m.group("num")):
        return False  # 千万工程, 楚国八百年: a scale or a span of time, not a count
    if m.group("pre").endswith("第") or _ORDINAL.search(content):
        return False  # 第一章第三条, 十二连增: ordinals and records
    if m.group("num") == "一" and not _ONE_THEN_NUMERAL.search(content):
        return False  # 一条线, 一件事: a single thing is not a set of members
    if m.group("pre") and not m.group("cls") and len(m.group("num")) == 1 and \
            m.group("num") == "一":
        return False  # 高效办成一件事-like phrases count nothing
    return True


def _split_members(content: str) -> tuple[str, ...]:
    parts = [p for p in _SLOGAN_SPLIT.split(content) if p]
    return tuple(parts)


def _policy_evidence(content: str, before: str, after: str) -> int:
    """Evidence that a short quotation names a policy, programme or model (≥ 1: it does)."""
    score = 0
    if _NAME_HEAD_RE.match(after) or _GROUP_HEAD.match(after):
        score += 2
    if _NAME_END.search(content):
        score += 2
    if _POLICY_MORPHEME.search(content):
        score += 1
    if _POLICY_VERB.search(before) or _OWNER.search(before):
        score += 1
    if before.endswith("的") or after.startswith("的"):
        score -= 1
    if len(content) > 6 and ("的" in content or "是" in content):
        score -= 1  # a descriptive phrase or a clause, not a name
    return score


@lru_cache(maxsize=1 << 12)
def _classify_quote(content: str, before: str, after: str) -> tuple[str, tuple[str, ...]]:
    """Kind of a quoted string from its content and its immediate context.

    Memoised (it is pure): the sentence scans and the whole-document scan of the same text
    meet most quotations with the same words around them.
    """
    stripped = content.strip()
    if stripped in KNOWN_COINAGES:
        return "coinage", ()
    if not stripped or not _ANY_HAN.search(stripped):
        if _CODE.fullmatch(stripped) and _CODE_HEAD.match(after):
            return "coinage", ()  # “415X”先进制造业集群, “141”基层治理体系
        if _PLUS.search(stripped) and _ALNUM.search(stripped):
            return "coinage", tuple(p.strip() for p in _PLUS.split(stripped) if p.strip())
        return "quote", ()
    if _PLAN_PERIOD.match(stripped) or (len(stripped) == 1) or \
            after.startswith("号"):
        return "quote", ()
    if len(stripped) > 24 or _SENTENCE_MARK.search(stripped) or \
            (_PRONOUN.search(stripped) and len(stripped) > 6) or \
            _FINAL_PARTICLE.search(stripped):
        if "—" in stripped and not _DASH_AS_PUNCTUATION.search(stripped) and \
                len(_split_members(stripped)) >= 2 and len(stripped) <= 24:
            return "slogan", _split_members(stripped)
        return "quote", ()
    if _PLUS.search(stripped):
        return "coinage", tuple(p.strip() for p in _PLUS.split(stripped) if p.strip())
    if _is_numbered(stripped):
        return "numbered", ()
    evidence = _policy_evidence(stripped, before, after)
    parts = _split_members(stripped)
    if len(parts) >= 2:
        if len(parts) > 8 or any(len(p) > 12 for p in parts):
            return "quote", ()
        if ("，" in stripped or "," in stripped) and evidence < 1:
            return "quote", ()  # verse, a line of speech
        if evidence < 0:
            return "quote", ()  # a cited passage: “…、…”的要求
        return "slogan", parts
    if _QUESTION.search(stripped):
        return "quote", ()
    named = bool(_NAME_HEAD_RE.match(after) or _GROUP_HEAD.match(after))
    if not named:
        if stripped in METAPHORS or stripped in _NUMBER_IDIOMS or stripped.startswith("最后一"):
            return "quote", ()
        if _PERSON_NICKNAME.search(stripped) or _NICKNAME_CUE.search(before):
            return "quote", ()
        if len(stripped) == 4 and stripped in _dict_path_idioms():
            return "quote", ()
    if len(stripped) > 16:
        return "quote", ()
    return ("coinage", ()) if evidence >= 1 else ("quote", ())


_LEAD_VERB = re.compile(r"实现|推进|坚持|建设|实施|提出|包括|涵盖|围绕|聚焦|打造|推动|加快|着力|"
                        r"突出|做到|强化|深化|开展|抓好|按照|通过|探索|形成|构建|统筹|践行|落实|"
                        r"确立|明确|树立|增强|提升|完善|健全|发展|力争|争创|创建")


def _trim_first_item(first: str, others: list[str]) -> str:
    """The first listed member without the words leading into the list (实施在外回引 → 在外回引)."""
    shortest, widest = min(len(o) for o in others), max(len(o) for o in others)
    cut = 0
    for m in _LEAD_VERB.finditer(first):
        if len(first) - m.end() >= min(shortest, 2):
            cut = m.end()
    first = first[cut:]
    return first[-widest:] if len(first) > widest else first


#: The characters `_LIST_ITEMS` is made of (and a final line break), matched on reversed text.
_LIST_RUN_REVERSED = re.compile(rf"\n?[{_HAN}A-Za-z0-9、]*")
_CLOSING_QUOTE_AT_END = re.compile(r"[“”‘’「」]$")
_LINK_WORD_AT_END = re.compile(r"(?:的|等|这|此|为|即)$")


def _list_ending(before: str) -> re.Match[str] | None:
    """`_LIST_ITEMS.search(before)`, tried only in the run of list characters ending `before`.

    A match is made of those characters up to the end, so it cannot start before that run;
    the run (one match on the reversed text) is short, where the search tried every position
    of the window, and a run without 、 holds no list at all.
    """
    start = len(before) - _LIST_RUN_REVERSED.match(before[::-1]).end()
    if "、" not in before[start:]:
        return None
    return _LIST_ITEMS.search(before, start)


def _members_around(text: str, start: int, end: int, number: int | None) -> tuple[str, ...]:
    """Members listed right before (A、B、C“三个X”) or right after (（A、B、C）, ，即A、B、C)."""
    before = text[max(0, start - 120):start]
    before = _CLOSING_QUOTE_AT_END.sub("", before)
    before = _LINK_WORD_AT_END.sub("", before)
    m = _list_ending(before)
    candidates: list[list[str]] = []
    if m:
        items = [i for i in m.group(0).split("、") if i]
        candidates.append(items)
        last = _LAST_LINK.split(items[-1], maxsplit=1)
        if len(last) == 2 and all(last):
            candidates.append([*items[:-1], *last])
    after = text[end:end + 160]
    after = _CLOSING_QUOTE_AT_START.sub("", after)
    m = _LIST_AFTER.match(after)
    if m:
        candidates.append([i for i in _MEMBER_SEPARATOR.split(m.group(1)) if i])
    for items in candidates:
        if len(items) < 2:
            continue
        if number is not None and len(items) != number:
            continue
        if number is None and len(items) < 3:
            continue
        return tuple([_trim_first_item(items[0], items[1:]), *items[1:]])
    return ()


@lru_cache(maxsize=1)
def _candidate_re() -> re.Pattern[str]:
    """A pattern found in every text where some rule of `scan_formulations` matches.

    Its alternatives are a quotation mark, a lexicon entry, or a numeral followed within two
    characters by another numeral (how every numbered compound begins). Each alternative
    starts with a literal character, so the regex engine skips in C to the few positions
    where one could start: one search is cheaper than a search per rule.
    """
    numerals = _NUMERALS[:-3]
    compound_starts = [rf"{n}(?<![{_NUMERALS}第].)(?:(?![{_NUMERALS}])[{_HAN}]){{1,2}}?"
                       rf"[{numerals}]" for n in numerals]
    return re.compile("|".join(["“", "‘", "「", "『", '"', *map(re.escape, NUMBERED_LEXICON),
                                *compound_starts]))


def prepare_scan() -> None:
    """Compile the scan's lazily built patterns and read jieba's idioms now, not when the first
    quotation is met (the tokenizer calls this while it builds)."""
    _candidate_re()
    _lexicon_re()
    _dict_path_idioms()


def scan_formulations(text: str, *, include_quotes: bool = False,
                      details: bool = True) -> list[Formulation]:
    """Formulations in `text` (one sentence or a paragraph), sorted, non-overlapping.

    `details=False` skips counting numbered formulations and looking for their members around
    them (number None; members only as the quotation itself gives them): the span detector
    needs only where formulations are and of what kind."""
    if _candidate_re().search(text) is None:
        return []  # the common case: nothing any rule below could match
    found: list[Formulation] = []
    taken: list[tuple[int, int]] = []
    quotes = list(_QUOTED.finditer(text))
    # Adjacent quotations (“亿元楼”“月亿楼”, “A”、“B”和“C”) share the words around the run.
    run_start = list(range(len(quotes)))
    for i in range(1, len(quotes)):
        if _RUN_GAP.fullmatch(text, quotes[i - 1].end(), quotes[i].start()):
            run_start[i] = run_start[i - 1]
    run_end = list(range(len(quotes)))
    for i in range(len(quotes) - 2, -1, -1):
        if run_start[i + 1] == run_start[i]:
            run_end[i] = run_end[i + 1]
    for i, m in enumerate(quotes):
        group = next(g for g in range(1, 6) if m.group(g) is not None)
        content = m.group(group)
        start, end = m.start(group), m.end(group)
        first, last = quotes[run_start[i]], quotes[run_end[i]]
        before = text[max(0, first.start() - 16):first.start()].rstrip("* \t\n")
        after = text[last.end():last.end() + 8].lstrip("* \t\n")
        kind, members = _classify_quote(content, before, after)
        # An outer speech quotation may hold an inner quoted coinage (‘专属网格员+党建指导员’).
        if kind == "quote":
            inner = scan_formulations(content, include_quotes=include_quotes, details=details)
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
        if kind == "numbered" and details:
            number = _count_of(content)
            members = _members_around(text, m.start(), m.end(), number)
        found.append(Formulation(start, end, content, kind, number, members))
        taken.append((m.start(), m.end()))
    # `taken` holds disjoint spans; kept sorted, one bisection finds any overlap (a scan of
    # the list made a whole document's scan quadratic in its length).
    taken.sort()
    taken_starts = [ts for ts, _ in taken]
    for pattern in (_lexicon_re(), _NUM_COMPOUND):
        for m in pattern.finditer(text):
            s, e = m.start(), m.end()
            k = bisect.bisect_left(taken_starts, e) - 1  # the last taken span starting before e
            if k >= 0 and taken[k][1] > s:
                continue
            surface = m.group()
            if pattern is _NUM_COMPOUND:
                if surface in _NUMBER_IDIOMS or surface in METAPHORS or _PLAN_PERIOD.match(
                        surface) or len(_NUMERAL.findall(surface)) < 2:
                    continue
                if not _COUNT_ABOVE_ONE.search(surface):
                    continue
                if _DATE_OR_ORDINAL_MARK.search(surface):
                    continue
            number, members = None, ()
            if details:
                number = _count_of(surface)
                members = _members_around(text, s, e, number)
            found.append(Formulation(s, e, surface, "numbered", number, members))
            k = bisect.bisect_left(taken_starts, s)
            taken_starts.insert(k, s)
            taken.insert(k, (s, e))
    found.sort(key=lambda f: (f.start, -f.end))
    return found


def formulation_spans(text: str, *, scanned: list[Formulation] | None = None) -> list[Span]:
    """Spans of the formulations in `text` (kind ``formulation``), for the shared detector.

    `scanned`: `scan_formulations(text)` already run (with or without quotes: quotes are
    dropped and the other formulations are the same either way), so one scan serves both.
    """
    if scanned is None:
        scanned = scan_formulations(text, details=False)
    return [Span(f.start, f.end, "formulation", f.surface)
            for f in scanned if f.kind != "quote"]


def extract_formulations(corpus_or_text: Any, include_quotes: bool = False, *,
                         kinds: tuple[str, ...] | None = FORMULATION_BLOCK_KINDS,
                         **clean_options: Any) -> pd.DataFrame:
    """The formulations table of a text or corpus, one row an occurrence.

    Columns: doc_id, sent_id, start, end (offsets into the cleaned text), surface, kind
    (numbered | coinage | slogan, and quote with `include_quotes`), number (Int64), members
    (list of str, empty when the text does not list them) and sentence. `kinds`: the block
    kinds searched (None: all). A quotation classified as a formulation anywhere in a document
    is one at its other occurrences there too.
    """
    from textmine.clean import as_clean_corpus

    clean = as_clean_corpus(corpus_or_text, **clean_options)
    sentences = clean.analysis_sentences(kinds)
    rows: list[dict[str, Any]] = []
    for sent in sentences.itertuples(index=False):
        for f in scan_formulations(sent.text, include_quotes=True):
            rows.append({"doc_id": sent.doc_id, "sent_id": sent.sent_id,
                         "start": sent.start + f.start, "end": sent.start + f.end,
                         "surface": f.surface, "kind": f.kind, "number": f.number,
                         "members": list(f.members), "sentence": sent.text})
    table = pd.DataFrame(rows, columns=FORMULATION_COLUMNS)
    # A quotation used as a formulation elsewhere in the same document is one there too.
    named = table[table["kind"] != "quote"].drop_duplicates(["doc_id", "surface"])
    kind_of = {(d, s): k for d, s, k in zip(named["doc_id"], named["surface"], named["kind"],
                                            strict=True)}
    if kind_of:
        keys = zip(table["doc_id"], table["surface"], table["kind"], strict=True)
        table["kind"] = [kind_of.get((d, s), k) if k == "quote" else k for d, s, k in keys]
    if not include_quotes:
        table = table[table["kind"] != "quote"].reset_index(drop=True)
    table["number"] = table["number"].astype("Int64")
    for col in ("start", "end", "sent_id"):
        table[col] = table[col].astype("int64")
    return table.sort_values(["doc_id", "start"], kind="stable").reset_index(drop=True)


def evaluate_formulations(predicted: pd.DataFrame, gold: pd.DataFrame) -> dict[str, float]:
    """Precision, recall and F1 of a formulations table against hand annotations.

    Both tables need doc_id, surface and kind; rows of kind ``quote`` are ignored. Per document,
    surfaces are matched as multisets (a prediction hits if an annotated occurrence of the same
    surface is left), so the scores do not depend on offsets; `kind_accuracy` is the share of
    hits whose kind agrees, matched surface by surface.
    """
    from collections import Counter

    def counts(df: pd.DataFrame) -> dict[Any, Counter]:
        df = df[df["kind"] != "quote"]
        return {doc: Counter(zip(g["surface"], g["kind"], strict=True))
                for doc, g in df.groupby("doc_id", sort=True)}

    pred, true = counts(predicted), counts(gold)
    hits = kind_hits = n_pred = n_true = 0
    for doc in sorted(set(pred) | set(true), key=str):
        p, t = pred.get(doc, Counter()), true.get(doc, Counter())
        n_pred += sum(p.values())
        n_true += sum(t.values())
        p_surface = Counter()
        t_surface = Counter()
        for (surface, _), n in p.items():
            p_surface[surface] += n
        for (surface, _), n in t.items():
            t_surface[surface] += n
        hits += sum((p_surface & t_surface).values())
        kind_hits += sum((p & t).values())
    precision = hits / n_pred if n_pred else 0.0
    recall = hits / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n_predicted": n_pred,
            "n_annotated": n_true, "hits": hits,
            "kind_accuracy": kind_hits / hits if hits else 0.0}
