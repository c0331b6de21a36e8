"""Collusion rules of one lot: every statutory rule fires on a hand-built lot and stays silent on a near
miss; every indicator's value and threshold; legal sources per regime; how findings combine."""

from __future__ import annotations

import datetime as dt
import json
import math
from types import SimpleNamespace as NS

import pytest

from monitoring import rules
from monitoring.evidence import BidRow, Finding, Link, LotEvidence, NodeKind, Party, PartyRole, Relation
from monitoring.rules import CODES, DEFAULTS, LABELS, LEGAL, STATUTORY, combine, lot_findings

K, R = NodeKind, Relation
T0 = dt.datetime(2026, 3, 2, 9, 0)
# Unremarkable prices: cv ≈ 0.16, spread 0.5, rdalt 17 / 16.5, steps 17, 24, 9 (no regularity).
PLAIN = {"A": 100, "B": 117, "C": 141, "D": 150}


def link(kind, value, relation):
    return Link(kind=kind, value=value, relation=relation, source="test", label=f"{kind} {value}")


def party(key, *links, role=PartyRole.BIDDER):
    return Party(key=key, name=f"Firm {key}", role=role, links=tuple(links))


def lot(*parties, prices=None, regime="TB", times=None, digests=None, ceiling=None):
    """A lot with bidders A–D (unless given), plain prices and submissions an hour apart."""
    given = {p.key: p for p in parties}
    everyone = [given.pop(k, party(k)) for k in "ABCD"] + list(given.values())
    prices = PLAIN if prices is None else prices
    bids = []
    for i, (key, price) in enumerate(sorted(prices.items())):
        at = (times or {}).get(key, T0 + dt.timedelta(hours=i))
        bids.append(
            BidRow(
                bid=f"b{key}",
                party=key,
                price=price,
                submitted_at=at,
                file_sha256=(digests or {}).get(key, ""),
            )
        )
    return LotEvidence(
        tender="T1", lot="L1", regime=regime, ceiling=ceiling, bids=tuple(bids), parties=tuple(everyone)
    )


def fired(findings, code):
    return [f for f in findings if f.code == code]


def only(findings, code):
    found = fired(findings, code)
    assert len(found) == 1, (code, findings)
    return found[0]


def test_a_plain_lot_fires_nothing():
    assert lot_findings(lot()) == []


def test_every_statutory_code_has_its_legal_source_and_every_code_a_label():
    assert set(LEGAL) == set(STATUTORY)
    assert all(LEGAL[c]["TB"] and LEGAL[c]["GP"] for c in STATUTORY)
    assert set(LABELS) == set(CODES)
    assert LEGAL["same_preparer"]["TB"] == "《招标投标法实施条例》第四十条第（一）项"
    assert (
        LEGAL["same_preparer"]["GP"]
        == "《政府采购货物和服务招标投标管理办法》（财政部令第87号）第三十七条第（一）项"
    )


# -- 40(1) same preparer ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "relation"),
    [(K.AUTHOR, R.AUTHOR), (K.DEVICE, R.MACHINE_CODE), (K.MAC, R.MAC), (K.DONGLE, R.DONGLE)],
)
def test_same_preparer_fires_on_a_shared_author_machine_mac_or_dongle(kind, relation):
    found = lot_findings(lot(party("A", link(kind, "X1", relation)), party("B", link(kind, "X1", relation))))
    f = only(found, "same_preparer")
    assert f.statutory and f.parties == ("A", "B")
    assert f.value == 1 and f.threshold == 1
    assert f.paths == (("entity:A", f"{kind}:X1", "entity:B"),)
    assert f.legal_source == LEGAL["same_preparer"]["TB"]
    assert f.weight == DEFAULTS["statutory_weight"]


def test_same_preparer_silent_on_different_machines_or_a_shared_ip():
    found = lot_findings(
        lot(
            party("A", link(K.DEVICE, "M1", R.MACHINE_CODE), link(K.IP, "1.2.3.4", R.UPLOAD_IP)),
            party("B", link(K.DEVICE, "M2", R.MACHINE_CODE), link(K.IP, "1.2.3.4", R.UPLOAD_IP)),
        )
    )
    assert fired(found, "same_preparer") == []
    assert only(found, "same_ip").parties == ("A", "B")


def test_two_shared_machines_make_one_finding_counting_two_nodes():
    a = party("A", link(K.DEVICE, "M1", R.MACHINE_CODE), link(K.MAC, "AA", R.MAC))
    b = party("B", link(K.DEVICE, "M1", R.MACHINE_CODE), link(K.MAC, "AA", R.MAC))
    f = only(lot_findings(lot(a, b)), "same_preparer")
    assert f.value == 2
    assert f.paths == (("entity:A", "device:M1", "entity:B"), ("entity:A", "mac:AA", "entity:B"))


# -- 40(2) same agent ---------------------------------------------------------------------------------------
def test_same_agent_fires_on_one_agent_for_two_bidders():
    found = lot_findings(
        lot(party("A", link(K.PERSON, "P1", R.AGENT)), party("C", link(K.PERSON, "P1", R.AGENT)))
    )
    f = only(found, "same_agent")
    assert f.parties == ("A", "C") and f.paths == (("entity:A", "person:P1", "entity:C"),)
    assert f.legal_source == "《招标投标法实施条例》第四十条第（二）项"


def test_same_agent_silent_when_the_person_is_the_agent_of_one_and_a_shareholder_of_the_other():
    found = lot_findings(
        lot(party("A", link(K.PERSON, "P1", R.AGENT)), party("C", link(K.PERSON, "P1", R.SHAREHOLDER)))
    )
    assert fired(found, "same_agent") == []
    # still a link between them, as a non-statutory indicator
    f = only(found, "linked_parties")
    assert not f.statutory and f.value == 2 and f.threshold == 3
    assert f.paths == (("entity:A", "person:P1", "entity:C"),)


# -- 40(3) same project manager or contact ----------------------------------------------------------------
def test_same_manager_or_contact_fires_on_one_person_as_manager_and_contact():
    a = party("A", link(K.PERSON, "P7", R.PROJECT_MANAGER))
    b = party("B", link(K.PERSON, "P7", R.CONTACT))
    f = only(lot_findings(lot(a, b, regime="GP")), "same_manager_or_contact")
    assert f.legal_source == "《政府采购货物和服务招标投标管理办法》（财政部令第87号）第三十七条第（三）项"


def test_same_manager_or_contact_fires_on_a_shared_contact_phone():
    a = party("A", link(K.PHONE, "13800000000", R.PHONE))
    b = party("D", link(K.PHONE, "13800000000", R.PHONE))
    assert only(lot_findings(lot(a, b)), "same_manager_or_contact").parties == ("A", "D")


def test_same_manager_or_contact_silent_on_different_managers():
    a = party("A", link(K.PERSON, "P7", R.PROJECT_MANAGER))
    b = party("B", link(K.PERSON, "P8", R.PROJECT_MANAGER))
    assert lot_findings(lot(a, b)) == []


# -- 40(4) abnormally identical documents ------------------------------------------------------------------
def test_identical_documents_fire_on_the_same_file_digest():
    f = only(
        lot_findings(lot(digests={"A": "ab" * 32, "B": "ab" * 32, "C": "cd" * 32})), "identical_documents"
    )
    assert f.parties == ("A", "B") and f.value == 1.0
    assert f.paths == (("entity:A", "document:" + "ab" * 32, "entity:B"),)


def test_identical_documents_fire_on_a_similarity_at_the_threshold():
    sim = NS(
        pairs=[NS(a="B", b="A", jaccard=0.85, minhash_estimate=0.8, identical=False, shared_rare=[])],
        typos=[],
        mentions=[],
    )
    f = only(lot_findings(lot(), similarity=sim), "identical_documents")
    assert f.parties == ("A", "B") and f.value == 0.85 and f.threshold == DEFAULTS["doc_similarity"]


def test_identical_documents_use_the_minhash_estimate_when_there_is_no_exact_jaccard():
    sim = NS(
        pairs=[NS(a="A", b="C", jaccard=None, minhash_estimate=0.9, identical=False, shared_rare=[])],
        typos=[],
        mentions=[],
    )
    assert only(lot_findings(lot(), similarity=sim), "identical_documents").value == 0.9


def test_identical_documents_silent_below_the_threshold_and_on_different_digests():
    sim = NS(
        pairs=[NS(a="A", b="B", jaccard=0.49, minhash_estimate=0.9, identical=False, shared_rare=[])],
        typos=[],
        mentions=[],
    )
    assert lot_findings(lot(digests={"A": "ab" * 32, "B": "cd" * 32}), similarity=sim) == []


# -- 40(4) regular prices -----------------------------------------------------------------------------------
def test_regular_prices_fire_on_an_arithmetic_series():
    f = only(lot_findings(lot(prices={"A": 100, "B": 110, "C": 120, "D": 130})), "regular_prices")
    assert f.parties == ("A", "B", "C", "D")
    assert f.value == 0.0 and f.threshold == DEFAULTS["regular_step_cv"]
    assert f.legal_source == "《招标投标法实施条例》第四十条第（四）项"


def test_regular_prices_fire_on_a_geometric_series():
    f = only(lot_findings(lot(prices={"A": 100, "B": 110, "C": 121})), "regular_prices")
    assert math.isclose(f.value, 0.0, abs_tol=1e-12)  # ratio_cv: both ratios 1.1


def test_regular_prices_fire_on_identical_prices():
    f = only(lot_findings(lot(prices={"A": 100, "B": 130, "C": 130, "D": 150})), "regular_prices")
    assert f.parties == ("B", "C") and f.value == 2 and f.threshold == 2
    assert f.detail["identical_price"] == [130.0]


def test_regular_prices_silent_on_irregular_steps_and_on_two_bids():
    assert (
        fired(lot_findings(lot(prices={"A": 100, "B": 110, "C": 121.5})), "regular_prices") == []
    )  # steps 10, 11.5
    assert fired(lot_findings(lot(prices={"A": 100, "B": 110})), "regular_prices") == []  # n < 3


# -- 40(5) mixed-up files -----------------------------------------------------------------------------------
def test_mixed_files_fire_when_a_bid_names_another_bidder():
    sim = NS(pairs=[], typos=[], mentions=[NS(a="C", b="A", snippet="…Firm A 承诺…")])
    f = only(lot_findings(lot(), similarity=sim), "mixed_files")
    assert f.parties == ("A", "C") and f.value == 1
    assert f.detail["mentions"] == [{"in": "C", "names": "A", "snippet": "…Firm A 承诺…", "needle": ""}]
    assert f.legal_source == "《招标投标法实施条例》第四十条第（五）项"


def test_mixed_files_silent_when_a_bid_names_the_tenderee_or_itself():
    tenderee = party("T", role=PartyRole.TENDEREE)
    sim = NS(pairs=[], typos=[], mentions=[NS(a="C", b="T", snippet="x"), NS(a="C", b="C", snippet="y")])
    assert lot_findings(lot(tenderee), similarity=sim) == []


# -- 40(6) deposits from the same account -------------------------------------------------------------------
def test_same_deposit_account_fires_on_one_paying_account():
    a = party("A", link(K.ACCOUNT, "6222001", R.DEPOSIT_ACCOUNT))
    b = party("B", link(K.ACCOUNT, "6222001", R.DEPOSIT_ACCOUNT))
    f = only(lot_findings(lot(a, b)), "same_deposit_account")
    assert f.paths == (("entity:A", "account:6222001", "entity:B"),)
    assert f.legal_source == "《招标投标法实施条例》第四十条第（六）项"


def test_same_deposit_account_fires_on_a_deposit_paid_from_another_bidders_account():
    a = party("A", link(K.ACCOUNT, "6222001", R.BANK_ACCOUNT))
    b = party("B", link(K.ACCOUNT, "6222001", R.DEPOSIT_ACCOUNT))
    assert only(lot_findings(lot(a, b)), "same_deposit_account").parties == ("A", "B")


def test_same_deposit_account_silent_on_two_registered_accounts_only():
    a = party("A", link(K.ACCOUNT, "6222001", R.BANK_ACCOUNT))
    b = party("B", link(K.ACCOUNT, "6222001", R.BANK_ACCOUNT))
    found = lot_findings(lot(a, b))
    assert fired(found, "same_deposit_account") == []
    assert only(found, "linked_parties").parties == ("A", "B")


# -- 条例34 same legal representative or control ------------------------------------------------------------
def test_same_legal_rep_fires_on_one_legal_representative():
    a = party("A", link(K.PERSON, "P1", R.LEGAL_REP))
    b = party("B", link(K.PERSON, "P1", R.LEGAL_REP))
    f = only(lot_findings(lot(a, b)), "same_legal_rep_or_control")
    assert f.legal_source == "《招标投标法实施条例》第三十四条第二款"
    assert only(lot_findings(lot(a, b, regime="GP")), "same_legal_rep_or_control").legal_source == (
        "《政府采购法实施条例》第十八条第一款"
    )


def test_control_fires_on_one_bidder_controlling_another():
    a = party("A", link(K.ENTITY, "B", R.CONTROLLER))  # B controls A
    f = only(lot_findings(lot(a)), "same_legal_rep_or_control")
    assert f.parties == ("A", "B") and f.paths == (("entity:A", "entity:B"),)


def test_control_fires_on_a_common_controller():
    a = party("A", link(K.ENTITY, "H", R.CONTROLLER))
    b = party("B", link(K.ENTITY, "H", R.CONTROLLER))
    assert only(lot_findings(lot(a, b)), "same_legal_rep_or_control").paths == (
        ("entity:A", "entity:H", "entity:B"),
    )


def test_same_legal_rep_or_control_silent_on_a_minority_shareholder_and_on_a_shareholding():
    a = party("A", link(K.PERSON, "P1", R.LEGAL_REP), link(K.ENTITY, "B", R.SHAREHOLDER))
    b = party("B", link(K.PERSON, "P1", R.SHAREHOLDER))
    assert fired(lot_findings(lot(a, b)), "same_legal_rep_or_control") == []


# -- 条例41 tenderee collusion ------------------------------------------------------------------------------
def test_tenderee_collusion_fires_on_a_person_shared_with_the_agency():
    agency = party("G", link(K.PERSON, "P9", R.EMPLOYEE), role=PartyRole.AGENCY)
    a = party("A", link(K.PERSON, "P9", R.AGENT))
    f = only(lot_findings(lot(a, agency)), "tenderee_collusion")
    assert f.parties == ("A", "G") and f.paths == (("entity:A", "person:P9", "entity:G"),)
    assert f.legal_source == "《招标投标法》第三十二条；《招标投标法实施条例》第四十一条"


def test_tenderee_collusion_fires_on_a_device_shared_with_the_tenderee():
    tenderee = party("T", link(K.DEVICE, "M1", R.MACHINE_CODE), role=PartyRole.TENDEREE)
    a = party("B", link(K.DEVICE, "M1", R.MACHINE_CODE))
    assert only(lot_findings(lot(a, tenderee)), "tenderee_collusion").parties == ("B", "T")


def test_tenderee_collusion_silent_on_an_ip_alone():
    tenderee = party("T", link(K.IP, "1.2.3.4", R.DOWNLOAD_IP), role=PartyRole.TENDEREE)
    a = party("A", link(K.IP, "1.2.3.4", R.UPLOAD_IP))
    assert lot_findings(lot(a, tenderee)) == []


# -- non-statutory indicators ----------------------------------------------------------------------------
def test_same_ip_fires_on_a_shared_upload_or_decrypt_ip_and_not_on_a_download_ip():
    a = party("A", link(K.IP, "1.2.3.4", R.UPLOAD_IP), link(K.IP, "5.6.7.8", R.DOWNLOAD_IP))
    b = party("B", link(K.IP, "1.2.3.4", R.DECRYPT_IP))
    c = party("C", link(K.IP, "5.6.7.8", R.DOWNLOAD_IP))
    found = lot_findings(lot(a, b, c))
    f = only(found, "same_ip")
    assert f.parties == ("A", "B") and f.value == 1 and f.threshold == 1
    assert not f.statutory and f.legal_source == "" and f.weight == DEFAULTS["same_ip_weight"]
    assert fired(found, "linked_parties") == []  # IP nodes are same_ip's business


def test_linked_parties_reach_three_hops_through_a_related_company():
    holding = party("H", link(K.PERSON, "P5", R.LEGAL_REP), role="related")
    a = party("A", link(K.ENTITY, "H", R.SHAREHOLDER))
    b = party("B", link(K.PERSON, "P5", R.OFFICER))
    f = only(lot_findings(lot(a, b, holding)), "linked_parties")
    assert f.value == 3 and f.threshold == 3
    assert f.paths == (("entity:A", "entity:H", "person:P5", "entity:B"),)


def test_linked_parties_silent_beyond_k_hops(settings):
    settings.MONITORING_RULES = {"link_hops": 2}
    holding = party("H", link(K.PERSON, "P5", R.LEGAL_REP), role="related")
    a = party("A", link(K.ENTITY, "H", R.SHAREHOLDER))
    b = party("B", link(K.PERSON, "P5", R.OFFICER))
    assert lot_findings(lot(a, b, holding)) == []


def test_shared_typos_count_the_typos_not_the_shared_stock_phrases():
    sim = NS(
        pairs=[
            NS(a="A", b="B", jaccard=0.2, minhash_estimate=0.2, identical=False, shared_rare=["工期叁佰天"])
        ],
        typos={("B", "A"): ["施工组职设计", "工期保正日历天"]},
        mentions=[],
    )
    f = only(lot_findings(lot(), similarity=sim), "shared_typos")
    assert f.parties == ("A", "B") and f.value == 2 and f.threshold == DEFAULTS["typos_min"]
    assert f.detail["strings"] == [["工期保正日历天", "施工组职设计"]]


def test_shared_typos_silent_when_two_bids_only_share_text_outside_the_template():
    sim = NS(
        pairs=[NS(a="A", b="B", jaccard=0.2, minhash_estimate=0.2, identical=False, shared_rare=["x", "y"])],
        typos=[],
        mentions=[],
    )
    assert lot_findings(lot(), similarity=sim) == []


def test_shared_typos_accept_part_bs_typo_records_one_text_each():
    typos = [
        NS(a="D", b="C", text="施工组职设计", context="…"),
        NS(a="C", b="D", text="工期叁佰天", context="…"),
    ]
    f = only(lot_findings(lot(), similarity=NS(pairs=[], typos=typos, mentions=[])), "shared_typos")
    assert f.parties == ("C", "D") and f.value == 2


def test_shared_typos_accept_typo_records_with_a_and_b():
    sim = NS(pairs=[], typos=[NS(a="C", b="D", strings=["一", "二"])], mentions=[])
    assert only(lot_findings(lot(), similarity=sim), "shared_typos").parties == ("C", "D")


def test_clustered_uploads_fire_on_submissions_within_the_window():
    times = {
        "A": T0,
        "B": T0 + dt.timedelta(seconds=30),
        "C": T0 + dt.timedelta(seconds=91),
        "D": T0 + dt.timedelta(hours=2),
    }
    found = fired(lot_findings(lot(times=times)), "clustered_uploads")
    assert [(f.parties, f.value, f.threshold) for f in found] == [(("A", "B"), 30.0, 60.0)]  # B–C: 61 s


def test_low_cv_value_and_threshold():
    f = only(lot_findings(lot(prices={"A": 98, "B": 100, "C": 103})), "low_cv")
    assert math.isclose(f.value, math.sqrt(19 / 3) / (301 / 3))  # ≈ 0.0251 ≤ 0.03
    assert f.threshold == 0.03 and f.parties == ("A", "B", "C")


def test_low_spread_value_and_threshold():
    found = lot_findings(lot(prices={"A": 200, "B": 203, "C": 209}))
    f = only(found, "low_spread")
    assert math.isclose(f.value, 0.045) and f.threshold == 0.05
    assert fired(lot_findings(lot(prices={"A": 98, "B": 100, "C": 103})), "low_spread") == []  # 5/98 > 0.05


def test_high_rd_value_and_threshold():
    f = only(lot_findings(lot(prices={"A": 100, "B": 130, "C": 131, "D": 132})), "high_rd")
    assert math.isclose(f.value, 30.0) and f.threshold == 3.0  # gap 30 over the losers' mean step 1
    # Gap 5 over a mean step of 2: rdalt 2.5, below the threshold.
    assert fired(lot_findings(lot(prices={"A": 100, "B": 105, "C": 107, "D": 109})), "high_rd") == []


def test_near_ceiling_value_and_threshold():
    f = only(lot_findings(lot(prices={"A": 197, "B": 240, "C": 260}, ceiling=200)), "near_ceiling")
    assert math.isclose(f.value, 0.985) and f.threshold == 0.98
    assert fired(lot_findings(lot(prices={"A": 197, "B": 240, "C": 260}, ceiling=300)), "near_ceiling") == []


def test_price_screens_need_three_bids():
    assert lot_findings(lot(prices={"A": 100, "B": 100.5})) == []


def test_given_screens_are_used_instead_of_the_prices():
    screens = {"n": 4, "cv": 0.01}
    assert only(lot_findings(lot(), screens=screens), "low_cv").value == 0.01


def test_settings_override_thresholds(settings):
    settings.MONITORING_RULES = {"low_cv": 0.2}
    assert only(lot_findings(lot()), "low_cv").threshold == 0.2  # plain cv ≈ 0.17


def test_setting_falls_back_to_defaults_without_an_override(settings):
    settings.MONITORING_RULES = None
    assert rules.setting("alert_high") == DEFAULTS["alert_high"]


def test_findings_are_deterministic_ordered_and_json_ready():
    a = party("A", link(K.PERSON, "P1", R.AGENT), link(K.IP, "9.9.9.9", R.UPLOAD_IP))
    b = party("B", link(K.PERSON, "P1", R.AGENT), link(K.IP, "9.9.9.9", R.UPLOAD_IP))
    the_lot = lot(a, b, prices={"A": 100, "B": 110, "C": 120, "D": 130})
    first, second = lot_findings(the_lot), lot_findings(the_lot)
    assert first == second
    assert [f.code for f in first] == ["same_agent", "regular_prices", "same_ip"]
    json.dumps([f.detail for f in first])


# -- combine --------------------------------------------------------------------------------------------
def finding(code, weight):
    return Finding(code=code, statutory=code in LEGAL, weight=weight)


def test_combine_nothing_is_no_alert():
    assert combine([], None) == (0.0, None)


def test_combine_a_statutory_finding_is_level_one():
    score, level = combine([finding("same_agent", 0.9)], None)
    assert level == 1 and math.isclose(score, 0.9)


def test_combine_noisy_or_of_weights_each_code_once():
    score, level = combine(
        [finding("same_ip", 0.35), finding("same_ip", 0.35), finding("shared_typos", 0.45)]
    )
    assert math.isclose(score, 1 - 0.65 * 0.55) and level == 3  # 0.6425: ≥ 0.5, < 0.75
    score, level = combine([finding("same_ip", 0.35), finding("shared_typos", 0.45), finding("low_cv", 0.5)])
    assert math.isclose(score, 1 - 0.65 * 0.55 * 0.5) and level == 2  # 0.82125 ≥ 0.75


def test_combine_levels_three_and_none():
    assert combine([finding("same_ip", 0.55)]) == (pytest.approx(0.55), 3)
    assert combine([finding("same_ip", 0.35)]) == (pytest.approx(0.35), None)


def test_combine_with_the_model_score():
    assert combine([], 0.5) == (pytest.approx(0.5), 3)
    assert combine([], 0.49) == (pytest.approx(0.49), None)
    score, level = combine([finding("same_ip", 0.6)], 0.5)
    assert math.isclose(score, 1 - 0.4 * 0.5) and level == 2
    assert combine([], float("nan")) == (0.0, None)


def test_combine_levels_follow_the_settings(settings):
    settings.MONITORING_RULES = {"alert_low": 0.4}
    assert combine([finding("same_ip", 0.35)]) == (pytest.approx(0.35), None)
