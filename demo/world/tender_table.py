"""The demo world's tenders: one row per tender, with the state it is left in and its age in days.

Tenders past their opening run the whole chain through the services (sealed bids, the opening hall,
the verifiable draw, the evaluation room, publicity and award); `evaluation` and `publicity` tenders
are placed so that their current step is happening now (their deadline is set relative to now).
"""

from __future__ import annotations

TENDERS = [
    # title, regime, category, tenderee, agency, budget (yuan), target state, published days ago, class code, method
    (
        "南宁市五象大道东段道路改造工程施工",
        "TB",
        "works",
        0,
        0,
        38_600_000,
        "awarded",
        330,
        "A010101",
        "scoring",
    ),
    (
        "柳州市第十二中学教学楼新建工程施工",
        "TB",
        "works",
        1,
        2,
        21_500_000,
        "awarded",
        250,
        "A010203",
        "scoring",
    ),
    (
        "桂林市第二人民医院医用设备采购",
        "GP",
        "goods",
        2,
        1,
        6_800_000,
        "awarded",
        200,
        "B080201",
        "scoring",
    ),
    (
        "南宁市交通运输局信息化平台建设项目",
        "GP",
        "services",
        0,
        1,
        3_200_000,
        "awarded",
        150,
        "C010101",
        "scoring",
    ),
    (
        "柳州市中小学课桌椅采购项目",
        "GP",
        "goods",
        1,
        2,
        1_450_000,
        "awarded",
        95,
        "B020301",
        "lowest_price",
    ),
    (
        "南宁市邕江大桥维修加固工程施工",
        "TB",
        "works",
        0,
        0,
        12_800_000,
        "publicity",
        28,
        "A050101",
        "scoring",
    ),
    (
        "桂林市第二人民医院物业管理服务",
        "GP",
        "services",
        2,
        1,
        2_100_000,
        "evaluation",
        27,
        "C050201",
        "scoring",
    ),
    (
        "南宁市青秀区雨污分流改造工程施工",
        "TB",
        "works",
        0,
        0,
        8_600_000,
        "evaluation",
        26,
        "A010101",
        "scoring",
    ),
    (
        "南宁市公交站台提升改造工程施工",
        "TB",
        "works",
        0,
        0,
        4_600_000,
        "failed",
        60,
        "A010101",
        "scoring",
    ),
    (
        "柳州市教育局校园安防系统采购",
        "GP",
        "goods",
        1,
        2,
        2_750_000,
        "suspended",
        10,
        "B080201",
        "scoring",
    ),
    (
        "南宁市东盟商务区市政道路工程施工",
        "TB",
        "works",
        0,
        0,
        56_000_000,
        "published",
        5,
        "A010101",
        "scoring",
    ),
    (
        "桂林市第二人民医院信息系统运维服务",
        "GP",
        "services",
        2,
        1,
        1_800_000,
        "published",
        3,
        "C010101",
        "scoring",
    ),
    ("广西某铁矿采矿权出让", "TB", "land", 3, 1, 90_000_000, "published", 2, "E010000", "scoring"),
    (
        "柳州市职业教育园区二期工程施工",
        "TB",
        "works",
        1,
        2,
        33_000_000,
        "terminated",
        120,
        "A010203",
        "scoring",
    ),
    (
        "南宁市老旧小区改造工程（2027年第一批）",
        "TB",
        "works",
        0,
        0,
        18_900_000,
        "draft",
        0,
        "A010203",
        "scoring",
    ),
]

# The tender whose opening is one hour after seeding (demo/world/bidding.py).
OPENING_SOON = (
    "南宁市第三中学运动场改造工程施工",
    "TB",
    "works",
    0,
    0,
    6_300_000,
    "published",
    23,
    "A010203",
    "scoring",
)

# What each tender buys: its committee's specialties (main, economic: level-3 codes of 发改法规〔2018〕
# 316号) and the bidders that take part.
TRADES = {
    "municipal": ("A0802", "A0601"),  # 工程施工·市政工程 + 工程造价·土建工程
    "building": ("A0801", "A0601"),  # 工程施工·建筑工程 + 工程造价·土建工程
    "medical": ("B0148", "C0402"),  # 医疗设备 + 财务管理
    "furniture": ("B0901", "C0402"),  # 其他货物（家具） + 财务管理
    "security": ("B0140", "C0402"),  # 安全技术防范设备 + 财务管理
    "it": ("C0705", "C0402"),  # 信息系统运维与评估 + 财务管理
    "property": ("C0410", "C0402"),  # 物业管理 + 财务管理
    "mining": ("C0104", "C0403"),  # 矿产勘查 + 资产评估
}
TRADE_OF = {
    "南宁市五象大道东段道路改造工程施工": "municipal",
    "柳州市第十二中学教学楼新建工程施工": "building",
    "桂林市第二人民医院医用设备采购": "medical",
    "南宁市交通运输局信息化平台建设项目": "it",
    "柳州市中小学课桌椅采购项目": "furniture",
    "南宁市邕江大桥维修加固工程施工": "municipal",
    "桂林市第二人民医院物业管理服务": "property",
    "南宁市青秀区雨污分流改造工程施工": "municipal",
    "南宁市公交站台提升改造工程施工": "municipal",
    "柳州市教育局校园安防系统采购": "security",
    "南宁市东盟商务区市政道路工程施工": "municipal",
    "桂林市第二人民医院信息系统运维服务": "it",
    "广西某铁矿采矿权出让": "mining",
    "柳州市职业教育园区二期工程施工": "building",
    "南宁市老旧小区改造工程（2027年第一批）": "building",
    "南宁市第三中学运动场改造工程施工": "building",
}
# Bidders by trade (indexes into demo.data.BIDDERS).
TRADE_BIDDERS = {
    "municipal": [0, 2, 4, 6, 1, 8],
    "building": [1, 3, 8, 9, 5, 2],
    "medical": [12, 13, 14],
    "furniture": [17, 18, 22],
    "security": [10, 11, 20],
    "it": [10, 11, 20],
    "property": [15, 16, 21],
    "mining": [19],
}


def committee_specialties(title: str, experts: int) -> list[dict]:
    """The committee's groups: two economic experts in a committee of six experts, one otherwise."""
    main, economic = TRADES[TRADE_OF[title]]
    n = 2 if experts >= 6 else 1
    return [{"code": main, "count": experts - n}, {"code": economic, "count": n}]


# The regulator's reasons for dismissing weak alerts after checking them (LotPlan.dismiss).
CAFE_CHECKED = (
    "经核查，两家投标人均在同一网吧上传投标文件，所用计算机、文件编制人、保证金账户均不相同，"
    "也无其他关联，属正常情形，不构成串通投标。"
)
PRICES_CHECKED = (
    "经核查，各投标人报价接近系标准产品市场价格透明、最高限价较低所致；投标人之间无人员、设备、"
    "账户关联，投标文件无异常一致，不构成串通投标。"
)

# What happens to each lot beyond the ordinary (demo.world.lifecycle.LotPlan), lot by lot.
STORY = {
    "南宁市五象大道东段道路改造工程施工": [
        {"objection": True, "outlier": True, "doubt": True},
        {"reject": True},
    ],
    "南宁市邕江大桥维修加固工程施工": [{"decline": True, "stop": "publicity"}],
    "桂林市第二人民医院物业管理服务": [{"stop": "signing", "doubt": True}],
    "南宁市青秀区雨污分流改造工程施工": [{"stop": "qualification", "chair": "expert", "doubt": True}],
    # Monitoring: two bidders rig this one (one computer, one author, one account, one technical text);
    # the live check at the read-out raises a level-1 alert, left open for the regulator. Four bids;
    # the tender then fails (流标) for want of competition.
    "南宁市公交站台提升改造工程施工": [{"collude": True}],
    # Monitoring: two honest bidders upload from the same internet café (their IP only): a weak,
    # non-statutory indicator; an alert it raises is dismissed by the regulator after checking.
    "柳州市第十二中学教学楼新建工程施工": [{"dissent": True, "cafe": True, "dismiss": CAFE_CHECKED}],
    # Monitoring: close prices of standard goods; a weak alert the read-out raises is dismissed.
    "柳州市中小学课桌椅采购项目": [{"dismiss": PRICES_CHECKED}],
    "桂林市第二人民医院医用设备采购": [{"clarify": True, "dismiss": PRICES_CHECKED}],
}

# The colluding pair of the collusion story (usernames): 南宁市鑫泰市政工程有限公司 and
# 柳州润和市政工程有限公司, who already share a shareholder in the registry (demo/world/registry.py).
COLLUDERS = ("bidder3", "bidder5")
# Bidders tied in the registry (a shared shareholder; a shared project manager) bid together only in
# their story, so that the demo's statutory alerts are the stories' (demo.world.tenders.lot_bidders).
APART = [frozenset(COLLUDERS), frozenset({"bidder9", "bidder10"})]
