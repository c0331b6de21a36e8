"""Short synthetic bid texts and tender templates, for document similarity (optional, `texts=True`).

A bid quotes a few passages of the tender's template (投标函 formats) and adds its own passages built
from phrase banks with the firm's names and numbers, so independent bids share only template
boilerplate; a cartel's cover copies the preparer's text (names swapped, typos kept, sometimes the
preparer's name left in: 40(5) mixed-up files); a common-template bid is mostly template.
"""

from __future__ import annotations

import random

TEMPLATE = (
    "投标人应按招标文件第三章投标人须知的要求编制投标文件",
    "投标有效期为自投标截止之日起九十日历天",
    "投标保证金应在投标截止时间前从投标人基本账户转出",
    "评标委员会按照招标文件规定的评标办法对投标文件进行评审",
    "投标人不得以他人名义投标或者以其他方式弄虚作假骗取中标",
    "中标候选人公示期不得少于三日",
    "投标文件的正本与副本不一致时以正本为准",
    "合同价款的调整按照通用合同条款第十六条执行",
    "工程质量标准为符合国家现行验收规范合格标准",
    "投标人应当具备承担本项目的资质条件能力和信誉",
    "本项目不接受联合体投标",
    "安全文明施工费按照省有关规定计取不得作为竞争性费用",
)
WORK = (
    "施工组织设计",
    "质量保证措施",
    "安全生产措施",
    "进度计划安排",
    "文明施工方案",
    "环境保护措施",
    "劳动力配置计划",
    "机械设备投入计划",
)
VERB = ("严格执行", "全面落实", "科学安排", "合理组织", "统筹协调", "重点保障", "分段实施", "动态管理")
OBJ = (
    "关键工序",
    "隐蔽工程",
    "材料进场检验",
    "现场临时用电",
    "夜间施工",
    "雨季施工",
    "成品保护",
    "竣工验收资料",
)
TYPOS = (
    "施工组织设汁",
    "质量保正措施",
    "按排进度",
    "安全文名施工",
    "劳动力配制",
    "检验批次验收",
    "砼强渡等级",
)


def template_text(rng: random.Random, title: str) -> str:
    passages = rng.sample(TEMPLATE, 9)
    return f"{title}招标文件。" + "。".join(passages) + "。"


def own_passages(rng: random.Random, firm_name: str, manager: str, k: int = 6) -> list[str]:
    out = []
    for _ in range(k):
        days = rng.randint(30, 720)
        staff = rng.randint(8, 180)
        out.append(
            f"{firm_name}{rng.choice(VERB)}{rng.choice(WORK)}，项目负责人{manager}对{rng.choice(OBJ)}"
            f"{rng.choice(VERB)}，计划工期{days}日历天，投入人员{staff}人，{rng.choice(OBJ)}{rng.choice(VERB)}"
        )
    if rng.random() < 0.05:  # everybody makes a typo now and then
        out.append(f"{rng.choice(TYPOS)}按规范执行")
    return out


def bid_text(
    rng: random.Random, *, template: str, firm_name: str, manager: str, price: float, template_share: int = 3
) -> str:
    passages = [p for p in template.split("。")[1:] if p]
    quoted = rng.sample(passages, min(template_share, len(passages)))
    own = own_passages(rng, firm_name, manager)
    return "。".join([f"投标函：{firm_name}投标报价人民币{price:.2f}元", *quoted, *own]) + "。"


def copied_text(
    *, source: str, source_name: str, firm_name: str, source_price: float, price: float, leave_name: bool
) -> str:
    """The preparer's text reused for a cover: names and price swapped, its typos kept; with
    `leave_name` the preparer's name stays in the body (a mixed-up file)."""
    text = source.replace(f"{source_price:.2f}", f"{price:.2f}")
    head, _, rest = text.partition("。")
    head = head.replace(source_name, firm_name)
    if not leave_name:
        rest = rest.replace(source_name, firm_name)
    return f"{head}。{rest}"
