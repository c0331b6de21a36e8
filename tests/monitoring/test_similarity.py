"""Document similarity: Jaccard of tiny texts by hand, template and boilerplate removal, MinHash
against the exact value, shared typos, mixed-up files, and text extraction that never raises."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest

from monitoring import similarity
from monitoring.similarity import (
    document_text,
    estimate,
    jaccard,
    lot_similarity,
    normalise,
    shingle_hashes,
    shingles,
    signature,
)

HANZI = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]


def prose(seed: int, n: int) -> str:
    """n pseudo-random Chinese characters: no 5-shingle repeats by chance between two seeds."""
    r = random.Random(seed)
    return "".join(r.choice(HANZI) for _ in range(n))


def cjk_pdf(pages: list[list[str]]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    for lines in pages:
        c.setFont("STSong-Light", 11)
        for i, line in enumerate(lines):
            c.drawString(60, 750 - 18 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


# --- normalisation and shingles ----------------------------------------------------------------------


def test_normalise_folds_width_and_case_and_drops_spaces_inside_chinese_only():
    assert normalise("ＡＢＣ　公司 \n 名称 Foo \t Bar") == "abc公司名称foo bar"
    assert normalise("工程 质量\n保证") == "工程质量保证"
    assert normalise("") == "" and normalise(None) == ""


def test_shingles_count_positions_and_distinct_values_for_chinese_and_latin():
    assert shingle_hashes("abcdef", 5).size == 2  # abcde, bcdef
    assert shingle_hashes("abc", 5).size == 1  # shorter than k: the whole text is one shingle
    assert shingle_hashes("", 5).size == 0
    assert shingles("aaaaaa aaaaaa", 3).size == 4  # aaa, "aa ", "a a", " aa"
    assert shingles("工程质量保证措施", 5).size == 4
    # the same text however it is spaced or widened gives the same set
    assert np.array_equal(shingles("工程 质量\n保证措施"), shingles("工程质量保证措施"))
    assert np.array_equal(shingles("ＡＢＣＤＥＦ"), shingles("abcdef"))
    # the hash is a fixed function (not Python's salted str hash): recomputed here in plain integers
    assert [int(h) for h in shingle_hashes("投标abcd", 5)] == [py_hash("投标abc"), py_hash("标abcd")]


def py_hash(s: str) -> int:
    m = 2**64
    h = 0
    for ch in s:
        h = (h * 0x100000001B3 + ord(ch) + 1) % m
    h ^= h >> 30
    h = h * 0xBF58476D1CE4E5B9 % m
    h ^= h >> 27
    h = h * 0x94D049BB133111EB % m
    return h ^ (h >> 31)


def test_jaccard_of_tiny_texts_by_hand():
    # k = 2: {ab, bc, cd} and {ab, bc, ce} share 2 of 4
    r = lot_similarity({"a": "abcd", "b": "abce"}, k=2)
    (p,) = r.pairs
    assert (p.a, p.b) == ("a", "b")
    assert p.jaccard == pytest.approx(0.5) and p.jaccard_raw == pytest.approx(0.5)
    assert p.shared == 2 and p.containment == pytest.approx(2 / 3)
    assert not p.identical
    assert p.shared_rare == ["abc"]  # ab, bc merged into one run
    assert jaccard({"ab", "bc", "cd"}, {"ab", "bc", "ce"}) == 0.5
    assert jaccard(shingles("abcd", 2), shingles("abce", 2)) == 0.5
    assert jaccard(set(), set()) == 0.0


def test_template_shingles_are_removed_before_comparing():
    # template "abcd" (k = 2) takes ab, bc, cd: a keeps nothing, b keeps {ce}
    r = lot_similarity({"a": "abcd", "b": "abce"}, template="abcd", k=2)
    (p,) = r.pairs
    assert p.jaccard == 0.0 and p.shared == 0
    assert p.jaccard_raw == pytest.approx(0.5)  # before removal
    assert p.shared_rare == []  # what they share is the template's


def test_shingles_in_more_than_half_of_at_least_three_bids_are_common_boilerplate():
    a, b, c, d = "pqab", "rsab", "tuab", "vwcd"  # k = 2: "ab" in three bids
    four = lot_similarity({"a": a, "b": b, "c": c, "d": d}, k=2)
    assert four.pair("a", "b").jaccard == 0.0  # {pq, qa} vs {rs, sa} once "ab" (3 of 4) is gone
    assert four.pair("a", "b").jaccard_raw == pytest.approx(1 / 5)
    assert four.pair("b", "a") is four.pair("a", "b")
    three = lot_similarity({"a": a, "b": b, "c": c}, k=2)
    assert three.pair("a", "b").jaccard == 0.0
    two = lot_similarity({"a": a, "b": b}, k=2)  # two bids: nothing is "common", 1 of 5 shared
    assert two.pair("a", "b").jaccard == pytest.approx(1 / 5)
    # "ab" in 2 of 4 bids is not more than half: kept
    half = lot_similarity({"a": a, "b": b, "c": "xyzw", "d": "vwcd"}, k=2)
    assert half.pair("a", "b").jaccard == pytest.approx(1 / 5)


def test_identical_documents_up_to_spacing():
    r = lot_similarity({"x": "同一 份投标文件内容", "y": "同一份投标\n文件内容", "z": "完全不同的另一份文件"})
    p = r.pair("x", "y")
    assert p.identical and p.jaccard == 1.0 and p.minhash_estimate == 1.0
    assert r.pairs[0] is p  # most similar first
    assert not r.pair("x", "z").identical and r.pair("x", "z").jaccard == 0.0


def test_missing_texts_are_skipped_and_one_text_gives_no_pairs():
    r = lot_similarity({"a": "一些文字内容在这里", "b": "", "c": None, "d": "  \n "})
    assert r.pairs == [] and r.skipped == ["b", "c", "d"]
    assert lot_similarity({}).pairs == []


# --- MinHash -------------------------------------------------------------------------------------------


def test_minhash_estimates_the_exact_jaccard_and_is_seeded():
    base = prose(1, 3000)
    a = shingles(base)
    b = shingles(base[:1500] + prose(2, 1500))  # exact J = 1496 / (2996 + 2996 − 1496) ≈ 0.333
    exact = jaccard(a, b)
    assert exact == pytest.approx(1496 / 4496)
    sa, sb = signature(a), signature(b)
    assert sa.shape == (similarity.PERMUTATIONS,) and sa.dtype == np.uint64
    assert abs(estimate(sa, sb) - exact) < 0.15  # σ ≈ 0.04 with 128 functions
    assert np.array_equal(signature(a), sa)  # deterministic
    assert not np.array_equal(signature(a, seed=7), sa)
    assert estimate(sa, sa) == 1.0
    empty = signature(np.zeros(0, np.uint64))
    assert estimate(empty, empty) == 0.0 and estimate(sa, empty) == 0.0
    r = lot_similarity({"a": base, "b": base[:1500] + prose(2, 1500)})
    assert r.pairs[0].jaccard == pytest.approx(exact)
    assert np.array_equal(r.signatures["a"], sa)  # no template, two bids: nothing removed


# --- template removal on realistic documents -----------------------------------------------------------


def test_template_removal_lowers_the_similarity_of_bids_that_only_share_the_template():
    template = prose(100, 3000)  # the tender documents' forms, copied into every bid
    a = template[:1200] + prose(1, 400) + template[1200:2400] + prose(2, 400)
    b = template[:1200] + prose(3, 400) + template[1200:2400] + prose(4, 400)
    c = template[:1200] + prose(5, 400) + template[1200:2400] + prose(2, 300) + prose(6, 100)
    without = lot_similarity({"a": a, "b": b, "c": c})
    withtpl = lot_similarity({"a": a, "b": b, "c": c}, template=template)
    assert without.pair("a", "b").jaccard_raw == pytest.approx(2392 / (2 * 3196 - 2392))  # 2 × 1196 template
    assert withtpl.pair("a", "b").jaccard == 0.0  # only the template in common
    assert withtpl.pair("a", "b").jaccard < without.pair("a", "b").jaccard_raw
    # a and c share 300 characters of their own text (300 shingles with the 4 across the template's
    # edge) out of 3196 − 2392 = 804 each once the template is gone
    ac = withtpl.pair("a", "c")
    assert ac.jaccard == pytest.approx(300 / (804 + 804 - 300)) and withtpl.pairs[0] is ac
    assert ac.shared == 300 and withtpl.pair("b", "c").jaccard == 0.0
    assert any(len(s) >= 100 for s in ac.shared_rare)


# --- shared typos ---------------------------------------------------------------------------------------


def test_a_typo_shared_by_two_bids_in_template_text_is_found_and_not_elsewhere():
    template = prose(100, 800)
    wrong = template[:400] + "错" + template[401:]  # one character replaced
    assert wrong[400] != template[400]
    bids = {
        "a": prose(1, 300) + wrong + prose(2, 300),
        "b": prose(3, 300) + wrong + prose(4, 300),
        "c": prose(5, 300) + template + prose(6, 300),
    }
    r = lot_similarity(bids, template=template)
    (t,) = r.typos
    assert (t.a, t.b) == ("a", "b")
    assert t.text == wrong[397:404]  # 3 characters either side of the odd one
    assert t.expected == template[397:404]  # as the tender documents write it
    assert t.context == wrong[380:421]  # 20 characters either side, in a's text
    assert r.typos_of("b", "a") == [t] and r.typos_of("a", "c") == []
    assert r.pair("a", "b").shared_rare == [wrong[396:405]]  # the 5 shingles holding it
    # without the tender documents, the third bid's correct text plays the template's part
    r2 = lot_similarity(bids)
    assert [(x.a, x.b, x.text, x.expected) for x in r2.typos] == [
        ("a", "b", wrong[397:404], template[397:404])
    ]
    # a passage cut from the same place in two bids joins known texts: shared, but no new character
    cut = dict(
        bids,
        a=prose(1, 300) + template[:300] + template[500:],
        b=prose(3, 300) + template[:300] + template[500:],
    )
    r3 = lot_similarity(cut, template=template)
    assert r3.typos == [] and r3.pair("a", "b").shared_rare == [template[296:300] + template[500:504]]
    # nobody else shares it: no typo
    alone = dict(bids, b=prose(3, 300) + template + prose(4, 300))
    assert lot_similarity(alone, template=template).typos == []


def test_shared_numbers_are_not_typos():
    # a and b both write 236 days where c writes 256: same context, one character apart, but a number
    texts = {
        "a": prose(1, 100) + "计划工期236日历天" + prose(2, 100),
        "b": prose(3, 100) + "计划工期236日历天" + prose(4, 100),
        "c": prose(5, 100) + "计划工期256日历天" + prose(6, 100),
    }
    assert lot_similarity(texts).typos == []
    assert (
        lot_similarity(
            {p: t.replace("236", "二三六").replace("256", "二五六") for p, t in texts.items()}
        ).typos
        == []
    )
    # the same with a letter: a shared misspelling
    words = {p: t.replace("236", "保正").replace("256", "保证") for p, t in texts.items()}
    assert [(x.a, x.b, x.text, x.expected) for x in lot_similarity(words).typos] == [
        ("a", "b", "工期保正日历天", "工期保证日历天")
    ]


def test_a_long_copied_passage_is_shared_rare_text_but_not_a_typo():
    template = prose(100, 800)
    copied = prose(9, 200)
    bids = {
        "a": template[:400] + copied + template[400:],
        "b": template[:400] + copied + template[400:],
        "c": template,
    }
    r = lot_similarity(bids, template=template)
    assert r.typos == []  # flanked by template text, but far longer than a typo
    assert r.pair("a", "b").identical
    (run,) = r.pair("a", "b").shared_rare  # 208 characters, cut to 120
    assert run == template[396:400] + copied[:115] + "…"


# --- mixed-up files -------------------------------------------------------------------------------------


NAMES = {
    "a": ["福州乙建设有限公司漳州分公司", "91350600MA2Y0A1X2K"],
    "b": ["福州乙建设有限公司", "91350100MA2Y0B1X2K"],
    "c": ["厦门丙工程有限公司", "91350200MA2Y0C1X2K"],
}


def test_a_bid_naming_another_bidder_or_its_uscc_is_a_mixed_up_file():
    texts = {
        "a": "投标人：福州乙建设有限公司漳州分公司。" + prose(1, 200),  # its own name contains b's
        "b": prose(2, 100)
        + "投标人：福州乙建设有限公司 统一社会信用代码 91350200ma2y0c1x2k。"
        + prose(3, 100),
        "c": "投标人：厦门丙工程有限公司" + prose(4, 100) + "委托代理人 厦门丙工程有限公司",
    }
    r = lot_similarity(texts, names=NAMES)
    (m,) = r.mentions
    assert (m.a, m.b, m.kind, m.count) == ("b", "c", "uscc", 1)
    assert m.needle == "91350200ma2y0c1x2k" and m.needle in m.snippet and "统一社会信用代码" in m.snippet
    texts["c"] += "附件：厦门丙工程有限公司与福州乙建设 有限公司联合体协议"
    r = lot_similarity(texts, names=NAMES)
    assert [(m.a, m.b, m.kind) for m in r.mentions] == [("b", "c", "uscc"), ("c", "b", "name")]
    assert r.mentions[1].needle == "福州乙建设有限公司"


def test_a_name_that_the_tender_documents_also_use_is_no_evidence():
    texts = {"a": "本项目由厦门丙工程有限公司代建。" + prose(1, 100), "b": prose(2, 100)}
    names = {"a": ["甲公司有限公司"], "b": ["厦门丙工程有限公司"]}
    assert [m.b for m in lot_similarity(texts, names=names).mentions] == ["b"]
    assert lot_similarity(texts, template="代建单位：厦门丙工程有限公司", names=names).mentions == []
    assert lot_similarity(texts, names={"b": ["丙公司"]}).mentions == []  # too short to search


# --- text extraction ------------------------------------------------------------------------------------


def test_a_chinese_pdf_round_trips_to_text_and_compares():
    pages = [["第一章 工程质量保证措施", "本公司承诺按期完成施工任务"], ["第二章 施工组织设计 ABC Co. Ltd."]]
    data = cjk_pdf(pages)
    text = document_text(data, "application/pdf", "bid.pdf")
    assert "工程质量保证措施" in text and "施工组织设计" in text and "ABC Co. Ltd." in text
    assert text.index("第一章") < text.index("第二章")
    assert document_text(data) == text  # recognised by its %PDF- header alone
    r = lot_similarity({"a": text, "b": "\n".join(line for page in pages for line in page)})
    assert r.pairs[0].identical


def test_text_files_decode_as_utf8_or_gb18030():
    assert document_text("投标函 ABC".encode(), "text/plain; charset=utf-8") == "投标函 ABC"
    assert document_text("\ufeff投标函".encode(), "text/plain") == "投标函"
    assert document_text("投标函：工程质量".encode("gb18030"), "", "bid.txt") == "投标函：工程质量"


@pytest.mark.parametrize(
    ("data", "content_type", "name"),
    [
        (b"", "application/pdf", "x.pdf"),
        (b"%PDF-1.7\n garbage that is not a pdf \x00\xff", "application/pdf", "x.pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png", "x.png"),
        (b"PK\x03\x04 a docx", "application/vnd.openxmlformats", "x.docx"),
        (b"\xff\xfe\x00\x00binary", "text/plain", "x.txt"),
        (None, "text/plain", "x.txt"),
    ],
)
def test_broken_or_unsupported_input_gives_empty_text(data, content_type, name):
    assert document_text(data, content_type, name) == ""


def test_a_truncated_pdf_never_raises_and_text_is_bounded(monkeypatch):
    data = cjk_pdf([["第一页内容"], ["第二页内容"]])
    assert isinstance(document_text(data[: len(data) // 2], "application/pdf"), str)
    monkeypatch.setattr(similarity.settings, "MAX_TEXT", 4)
    assert document_text("一二三四五六".encode(), "text/plain") == "一二三四"
    assert len(document_text(data, "application/pdf")) == 4


def test_the_result_is_deterministic():
    texts = {f"F{i}": prose(i % 3, 400) + prose(10 + i, 200) for i in range(5)}
    r1, r2 = lot_similarity(texts), lot_similarity(texts)
    assert r1.pairs == r2.pairs
    assert [(p.a, p.b) for p in r1.pairs][:2] == [("F0", "F3"), ("F1", "F4")]
    assert r1.pairs[0].jaccard == pytest.approx(396 / (596 + 596 - 396))
