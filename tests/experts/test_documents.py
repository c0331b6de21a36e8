"""experts.documents: the platform's signature over canonical JSON, and the three PDFs (evaluation
report, award notice, result notice). pypdf is not installed, so the PDFs' text is read with a small
parser of reportlab's content streams (ASCII85 + Flate, UTF-16 strings of the CID font)."""

from __future__ import annotations

import base64
import json
import re
import zlib
from decimal import Decimal

import pytest

from core.canonical import canonical_json, digest
from experts import documents

FONT_REF = b"/BaseFont /STSong-Light"


# -- reading the PDFs ------------------------------------------------------------------------------------
_STREAM = re.compile(rb"<<([^>]*?)>>\s*stream\r?\n(.*?)endstream", re.S)
_STRING = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(s: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i : i + 1]
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = s[i + 1 : i + 2]
        if nxt.isdigit():
            m = re.match(rb"[0-7]{1,3}", s[i + 1 :])
            out.append(int(m.group(0), 8))
            i += 1 + len(m.group(0))
        else:
            out += _ESCAPES.get(nxt, nxt)
            i += 2
    return bytes(out)


def pages(pdf: bytes) -> list[str]:
    """The text of each content stream (one per page), in file order."""
    out = []
    for m in _STREAM.finditer(pdf):
        if b"/FlateDecode" not in m.group(1):
            continue
        body = re.sub(rb"\s", b"", m.group(2))
        if b"/ASCII85Decode" in m.group(1):
            body = base64.a85decode(body.removesuffix(b"~>"))
        raw = zlib.decompress(body)
        texts = [_unescape(t.group(1)) for t in _STRING.finditer(raw)]
        out.append("".join(t.decode("utf-16-be") for t in texts))
    return out


def text(pdf: bytes) -> str:
    return "".join(pages(pdf))


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page(?!s)", pdf))


def check_pdf(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF")
    assert FONT_REF in pdf  # the Chinese font is the one the text uses
    assert len(pdf) > 2000


# -- data ------------------------------------------------------------------------------------------------
def report_data(*, seats: int = 5, bidders: int = 3, method: str = "scoring", criteria: int = 2) -> dict:
    members = [
        {
            "seat": s,
            "name": f"专家{s:02d}号",
            "kind": "expert" if s < seats else "tenderee_rep",
            "chair": s == 1,
        }
        for s in range(1, seats + 1)
    ]
    crit = [
        {"code": f"T{c}", "name": f"技术方案{c}", "group": "technical", "max": "30"}
        for c in range(1, criteria + 1)
    ]
    bids = []
    for i in range(1, bidders + 1):
        qualified = i != bidders or bidders < 3
        bid = {
            "bid": f"00000000-0000-0000-0000-{i:012d}",
            "bidder": f"投标公司{i:02d}",
            "uscc": f"9145000019823068{i:02d}",
            "price": f"{3_000_000 + i * 100_000}.00",
            "evaluated_price": f"{3_000_000 + i * 100_000}.00",
            "qualified": qualified,
            "rejections": []
            if qualified
            else [
                {"stage": "qualification", "criterion": "Q1", "seats": [2, 3], "reasons": ["营业执照已过期"]},
            ],
            "scores": {
                c["code"]: {
                    "by_seat": {str(s): f"2{s % 10}.00" for s in range(1, seats + 1)},
                    "average": "24.50",
                }
                for c in crit
            }
            if qualified and method == "scoring"
            else {},
            "price_score": "28.50" if method == "scoring" and qualified else None,
            "total": "77.50" if method == "scoring" and qualified else None,
            "rank": i if qualified else None,
            "tie": False,
            "low_price": None,
        }
        bids.append(bid)
    bids[0]["low_price"] = {"ratio": "0.7500", "text": "我司自有设备，成本较低", "accepted": True}
    return {
        "v": 1,
        "tender": {"code": "GX-2026-0042", "title": "南宁市某道路改造工程", "regime": "TB"},
        "lot": {"number": 1, "title": "施工总承包", "budget": "5000000.00", "ceiling_price": "4800000.00"},
        "method": method,
        "opened_at": "2026-03-20T01:00:00.000000Z",
        "generated_at": "2026-03-20T07:30:00.000000Z",
        "members": members,
        "criteria": crit,
        "bids": bids,
        "candidates": [
            {
                "rank": b["rank"],
                "bid": b["bid"],
                "bidder": b["bidder"],
                "price": b["price"],
                "total": b["total"],
            }
            for b in bids
            if b["qualified"]
        ][:3],
        "outliers": [
            {
                "seat": 2,
                "bid": bids[0]["bid"],
                "bidder": bids[0]["bidder"],
                "criterion": "T1",
                "value": "29.00",
                "median": "20.00",
            }
        ],
        "clarifications": [
            {
                "bidder": bids[0]["bidder"],
                "question": "请说明项目经理的在岗情况",
                "answer": "项目经理全职在岗",
                "asked_at": "2026-03-20T03:00:00.000000Z",
                "answered_at": "2026-03-20T04:00:00.000000Z",
            }
        ],
        "signatures": [
            {
                "seat": s,
                "name": f"专家{s:02d}号",
                "agrees": s != 2,
                "dissent": "价格分计算无误，但技术评分偏高" if s == 2 else "",
                "signed_at": "2026-03-20T07:40:00.000000Z",
            }
            for s in range(1, seats)  # the last member has not signed yet
        ],
    }


def notice_data(kind: str = "award_notice", regime: str = "TB") -> dict:
    data = {
        "v": 1,
        "kind": kind,
        "number": "ZBTZ-2026-0042-1",
        "tender": {"code": "GX-2026-0042", "title": "南宁市某道路改造工程", "regime": regime},
        "lot": {"number": 1, "title": "施工总承包"},
        "winner": {"name": "广西建工集团有限公司", "uscc": "91450000198230687E"},
        "amount": "3880000.00",
        "duration_days": 180,
        "quality": "合格",
        "project_manager": {"name": "张三", "reg_no": "桂145000001"},
        "decided_at": "2026-03-25T02:00:00.000000Z",
        "contract_due_on": "2026-04-24",
        "tenderee": "南宁市城市建设局",
        "agency": "广西某招标代理有限公司",
    }
    if kind == "result_notice":
        data["bidder"] = {"name": "柳州路桥有限公司", "uscc": "914502001982306800"}
    return data


# -- signing ---------------------------------------------------------------------------------------------
def test_sign_returns_the_digest_and_a_signature_that_verifies():
    data = notice_data()
    sha, signature = documents.sign(data)
    assert sha == digest(data) and len(sha) == 64
    assert documents.verify(data, signature) is True


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("amount",), "3880000.01"),
        (("winner", "name"), "另一家公司"),
        (("contract_due_on",), "2026-05-24"),
        (("number",), "ZBTZ-2026-0042-2"),
    ],
)
def test_a_tampered_field_no_longer_verifies(path, value):
    data = notice_data()
    _sha, signature = documents.sign(data)
    changed = json.loads(json.dumps(data))
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert documents.verify(changed, signature) is False


def test_the_signature_survives_a_json_column_round_trip():
    # given data with a Decimal, as a service builds it, signed before it is stored
    data = {"v": 1, "amount": Decimal("3880000.00"), "names": ["甲", "乙"]}
    _sha, signature = documents.sign(data)
    # when it comes back from a JSON column (the Decimal is a string now), it still verifies
    stored = json.loads(canonical_json(data))
    assert documents.verify(stored, signature) is True


@pytest.mark.parametrize("bad", ["", "not base64!", "AAAA", "=="])
def test_a_malformed_signature_does_not_verify(bad):
    assert documents.verify(notice_data(), bad) is False


def test_a_signature_of_other_data_does_not_verify():
    _sha, signature = documents.sign(notice_data("result_notice"))
    assert documents.verify(notice_data("award_notice"), signature) is False


def test_fingerprint_is_eight_groups_of_the_signature_digest():
    fp = documents.fingerprint("abc")
    assert re.fullmatch(r"([0-9A-F]{4} ){7}[0-9A-F]{4}", fp)
    assert fp.replace(" ", "") == "BA7816BF8F01CFEA414140DE5DAE2223"  # sha256("abc")


# -- money -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("3880000.00", "叁佰捌拾捌万元整"),
        ("1234567.89", "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
        ("1005.07", "壹仟零伍元零柒分"),
        ("100", "壹佰元整"),
        ("10", "壹拾元整"),
        ("10010", "壹万零壹拾元整"),
        ("101000", "壹拾万壹仟元整"),
        ("1000001", "壹佰万零壹元整"),
        ("105000000", "壹亿零伍佰万元整"),
        ("100000001", "壹亿零壹元整"),
        ("10.50", "壹拾元伍角整"),
        ("0.05", "伍分"),
        ("0", "零元整"),
        ("20000.3", "贰万元叁角整"),
        ("1.005", "壹元零壹分"),  # rounded half up to the fen first
    ],
)
def test_rmb_upper(amount, words):
    assert documents.rmb_upper(amount) == words


def test_rmb_upper_refuses_text():
    with pytest.raises(ValueError):
        documents.rmb_upper("three yuan")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("3880000", "3,880,000.00"),
        ("0.5", "0.50"),
        (Decimal("1234.565"), "1,234.57"),
        (None, ""),
        ("n/a", "n/a"),
    ],
)
def test_money(value, shown):
    assert documents.money(value) == shown


# -- the evaluation report -------------------------------------------------------------------------------
def test_report_pdf_prints_every_part_of_the_report():
    data = report_data()
    _sha, signature = documents.sign(data)

    pdf = documents.report_pdf(data, signature=signature, language="en")

    check_pdf(pdf)
    t = text(pdf)
    for expected in [
        "Evaluation report",
        "GX-2026-0042",
        "南宁市某道路改造工程",
        "施工总承包",
        "5,000,000.00",
        "专家01号",  # names by seat: the report is read by the tenderee and the supervisor
        "Tenderee's representative",
        "技术方案1",
        "投标公司01",
        "9145000019823068",
        "营业执照已过期",  # a rejection's reason
        "Seat 5",
        "24.50",  # an average
        "28.50",  # a price score
        "77.50",  # a total
        "我司自有设备，成本较低",  # the low-price justification
        "0.7500",
        "请说明项目经理的在岗情况",
        "项目经理全职在岗",
        "价格分计算无误，但技术评分偏高",  # a dissent
        "Dissents",
        "Not signed",
        digest(data),
        documents.fingerprint(signature),
    ]:
        assert expected in t, expected
    assert page_count(pdf) >= 2  # the cover is a page of its own


def test_report_pdf_prints_the_base_price_when_the_data_has_it():
    data = report_data()
    data["price_base"] = "3100000.00"
    _sha, signature = documents.sign(data)
    assert "Base price (yuan): 3,100,000.00" in text(
        documents.report_pdf(data, signature=signature, language="en")
    )


def test_report_pdf_is_deterministic():
    data = report_data()
    _sha, signature = documents.sign(data)
    assert documents.report_pdf(data, signature=signature) == documents.report_pdf(data, signature=signature)


def test_report_pdf_of_a_large_committee_spans_pages_with_the_header_repeated():
    # given 13 members, 30 bids and 5 criteria: 150 score rows, seats in two column blocks
    data = report_data(seats=13, bidders=30, criteria=5)
    _sha, signature = documents.sign(data)

    pdf = documents.report_pdf(data, signature=signature, language="en")

    check_pdf(pdf)
    per_page = pages(pdf)
    assert page_count(pdf) == len(per_page) >= 8
    # the score table's header row ("… Seat 12 Average") is printed on every page the table spans
    assert sum("Seat 11Seat 12Average" in p for p in per_page) >= 3
    assert sum("Seat 13Average" in p for p in per_page) >= 3  # the second block of seats
    # every page has the footer with the digest
    assert all(digest(data) in p for p in per_page)
    assert "投标公司30" in text(pdf)


def test_report_pdf_of_the_lowest_price_method_ranks_by_price_without_scores():
    data = report_data(method="lowest_price")
    _sha, signature = documents.sign(data)

    t = text(documents.report_pdf(data, signature=signature, language="en"))

    assert "Ranking by evaluated price" in t and "Lowest evaluated price method" in t
    assert "Scores by member" not in t and "Price score" not in t


def test_report_pdf_escapes_markup_in_the_data():
    data = report_data()
    data["clarifications"][0]["question"] = "价格 < 成本 & <b>粗体</b>?"
    _sha, signature = documents.sign(data)
    assert "价格 < 成本 & <b>粗体</b>?" in text(
        documents.report_pdf(data, signature=signature, language="en")
    )


# -- the notices -----------------------------------------------------------------------------------------
def test_award_notice_pdf():
    data = notice_data()
    _sha, signature = documents.sign(data)

    pdf = documents.award_notice_pdf(data, signature=signature, language="en")

    check_pdf(pdf)
    t = text(pdf)
    for expected in [
        "Award notice",
        "ZBTZ-2026-0042-1",
        "To: 广西建工集团有限公司",
        "91450000198230687E",
        "3,880,000.00",
        "180 days",
        "合格",
        "张三 桂145000001",
        "2026-04-24",  # the contract deadline
        "招标投标法第四十六条",
        "南宁市城市建设局",
        "广西某招标代理有限公司",
        "2026-03-25 10:00",  # decided at, in Beijing time
        digest(data),
        documents.fingerprint(signature),
        signature[:40],
    ]:
        assert expected in t, expected
    assert page_count(pdf) == 1


def test_award_notice_in_chinese_writes_the_amount_in_words():
    data = notice_data(regime="GP")
    _sha, signature = documents.sign(data)
    t = text(documents.award_notice_pdf(data, signature=signature, language="zh-hans"))
    assert "人民币叁佰捌拾捌万元整" in t
    assert "87号令第七十一条" in t  # GP's contract rule


def test_result_notice_pdf():
    data = notice_data("result_notice")
    _sha, signature = documents.sign(data)

    pdf = documents.result_notice_pdf(data, signature=signature, language="en")

    check_pdf(pdf)
    t = text(pdf)
    for expected in [
        "Notice of the award result",
        "To: 柳州路桥有限公司",
        "广西建工集团有限公司",  # the winner
        "3,880,000.00",
        "招标投标法第四十五条",
        digest(data),
    ]:
        assert expected in t, expected
    assert "Project manager" not in t and "2026-04-24" not in t  # the winner's contract is not theirs


def test_gp_result_notice_tells_the_bidder_its_own_score_and_rank():
    data = notice_data("result_notice", regime="GP")
    data["bidder"].update({"total": "81.25", "rank": 2})
    _sha, signature = documents.sign(data)
    t = text(documents.result_notice_pdf(data, signature=signature, language="en"))
    assert "Your score81.25" in t and "Your rank2" in t and "87号令第六十九条" in t
