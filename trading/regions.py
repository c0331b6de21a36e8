"""Administrative-division names (GB/T 2260) for the codes tenders, entities and statistics carry.

Region names are data, not UI strings: each code has its Chinese and English name here, and
`region_name` picks the one for the active language. Only the 34 provincial-level divisions
and Guangxi's 14 prefecture-level cities are listed; a county code falls back to its city or
province, so a label is always meaningful.
"""

from __future__ import annotations

from django.utils.translation import get_language

# code -> (Chinese name, English name)
PROVINCES: dict[str, tuple[str, str]] = {
    "110000": ("北京市", "Beijing"),
    "120000": ("天津市", "Tianjin"),
    "130000": ("河北省", "Hebei"),
    "140000": ("山西省", "Shanxi"),
    "150000": ("内蒙古自治区", "Inner Mongolia"),
    "210000": ("辽宁省", "Liaoning"),
    "220000": ("吉林省", "Jilin"),
    "230000": ("黑龙江省", "Heilongjiang"),
    "310000": ("上海市", "Shanghai"),
    "320000": ("江苏省", "Jiangsu"),
    "330000": ("浙江省", "Zhejiang"),
    "340000": ("安徽省", "Anhui"),
    "350000": ("福建省", "Fujian"),
    "360000": ("江西省", "Jiangxi"),
    "370000": ("山东省", "Shandong"),
    "410000": ("河南省", "Henan"),
    "420000": ("湖北省", "Hubei"),
    "430000": ("湖南省", "Hunan"),
    "440000": ("广东省", "Guangdong"),
    "450000": ("广西壮族自治区", "Guangxi"),
    "460000": ("海南省", "Hainan"),
    "500000": ("重庆市", "Chongqing"),
    "510000": ("四川省", "Sichuan"),
    "520000": ("贵州省", "Guizhou"),
    "530000": ("云南省", "Yunnan"),
    "540000": ("西藏自治区", "Xizang (Tibet)"),
    "610000": ("陕西省", "Shaanxi"),
    "620000": ("甘肃省", "Gansu"),
    "630000": ("青海省", "Qinghai"),
    "640000": ("宁夏回族自治区", "Ningxia"),
    "650000": ("新疆维吾尔自治区", "Xinjiang"),
    "710000": ("台湾省", "Taiwan"),
    "810000": ("香港特别行政区", "Hong Kong"),
    "820000": ("澳门特别行政区", "Macao"),
}

GUANGXI_CITIES: dict[str, tuple[str, str]] = {
    "450100": ("南宁市", "Nanning"),
    "450200": ("柳州市", "Liuzhou"),
    "450300": ("桂林市", "Guilin"),
    "450400": ("梧州市", "Wuzhou"),
    "450500": ("北海市", "Beihai"),
    "450600": ("防城港市", "Fangchenggang"),
    "450700": ("钦州市", "Qinzhou"),
    "450800": ("贵港市", "Guigang"),
    "450900": ("玉林市", "Yulin"),
    "451000": ("百色市", "Baise"),
    "451100": ("贺州市", "Hezhou"),
    "451200": ("河池市", "Hechi"),
    "451300": ("来宾市", "Laibin"),
    "451400": ("崇左市", "Chongzuo"),
}

REGIONS: dict[str, tuple[str, str]] = {**PROVINCES, **GUANGXI_CITIES}


def _is_chinese(language: str | None) -> bool:
    return (language or get_language() or "zh-hans").lower().startswith("zh")


def region_name(code: str | None, *, language: str | None = None) -> str:
    """The name of a GB/T 2260 code in the active (or given) language.

    An unlisted code is named by its nearest listed ancestor (city, then province): a
    county of Nanning reads "南宁市". A code with no known ancestor is returned as is.
    """
    code = (code or "").strip()
    if not code:
        return ""
    index = 0 if _is_chinese(language) else 1
    for candidate in (code, code[:4] + "00", code[:2] + "0000"):
        if candidate in REGIONS:
            return REGIONS[candidate][index]
    return code


def region_prefix(code: str) -> str:
    """The code prefix shared by every division inside `code`: 450000 -> "45", 450100 -> "4501".

    Lets filters and statistics select a province or city with all its counties.
    """
    code = (code or "").strip()
    if len(code) == 6 and code.endswith("0000"):
        return code[:2]
    if len(code) == 6 and code.endswith("00"):
        return code[:4]
    return code
