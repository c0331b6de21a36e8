"""The configurable part of the collusion rules: thresholds and weights (DEFAULTS, overridden by
settings.MONITORING_RULES), the codes, their legal sources per regime and their labels. Pure."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from monitoring.evidence import NodeKind

DEFAULTS: dict[str, Any] = {
    # -- statutory rules: what counts as the situation ---------------------------------------------------
    "statutory_weight": 0.9,
    "doc_similarity": 0.5,  # Jaccard of two bids' texts outside the template: 异常一致 [G] (see below)
    "regular_step_cv": 0.02,  # CV of the steps (or ratios) between consecutive prices: 规律性差异 [G]
    "regular_min_bids": 3,
    # -- non-statutory indicators (D3): thresholds [G] ---------------------------------------------------
    "link_hops": 3,  # linked_parties: bidders within k edges through non-party nodes
    "link_skip_kinds": (NodeKind.IP,),  # an internet café is same_ip's business, not a link
    "typos_min": 1,  # shared typos (a letter differing from how the template / a third bid writes it)
    "cluster_seconds": 60,  # two bidders' submissions this close
    "screen_min_bids": 3,  # price screens need at least this many bids
    "low_cv": 0.03,  # coefficient of variation at most
    "low_spread": 0.05,  # (max − min) / min at most
    "high_rd": 3.0,  # rdalt at least: the winner far below a tight group of cover bids
    "near_ceiling": 0.98,  # lowest bid / ceiling price at least
    # -- weights of the non-statutory indicators (noisy-or, see the module docstring) [G] ---------------
    "same_ip_weight": 0.2,  # internet cafés and agencies' halls share IPs (benign collisions)
    "linked_parties_weight": 0.25,
    "shared_typos_weight": 0.45,
    "clustered_uploads_weight": 0.1,
    "low_cv_weight": 0.2,
    "low_spread_weight": 0.1,
    "high_rd_weight": 0.1,
    "near_ceiling_weight": 0.15,
    # market-wide patterns found by the batch (monitoring.market via monitoring.pipeline) [G]
    "cover_bidding_weight": 0.35,
    "bid_rotation_weight": 0.35,
    # the model's own signal is counted through model_weight in combine(); its finding only explains
    "model_anomaly_weight": 0.0,
    "model_weight": 1.0,
    # -- alert levels --------------------------------------------------------------------------------------
    "alert_high": 0.75,  # level 2 at or above
    "alert_low": 0.5,  # level 3 at or above; below: no alert
}

STATUTORY = (
    "same_preparer",
    "same_agent",
    "same_manager_or_contact",
    "identical_documents",
    "regular_prices",
    "mixed_files",
    "same_deposit_account",
    "same_legal_rep_or_control",
    "tenderee_collusion",
)
INDICATORS = (
    "same_ip",
    "linked_parties",
    "shared_typos",
    "clustered_uploads",
    "low_cv",
    "low_spread",
    "high_rd",
    "near_ceiling",
    "cover_bidding",
    "bid_rotation",
    "model_anomaly",
)
CODES = STATUTORY + INDICATORS
_ORDER = {code: i for i, code in enumerate(CODES)}

_T40 = "《招标投标法实施条例》第四十条第（{}）项"
_G37 = "《政府采购货物和服务招标投标管理办法》（财政部令第87号）第三十七条第（{}）项"
LEGAL: dict[str, dict[str, str]] = {
    "same_preparer": {"TB": _T40.format("一"), "GP": _G37.format("一")},
    "same_agent": {"TB": _T40.format("二"), "GP": _G37.format("二")},
    "same_manager_or_contact": {"TB": _T40.format("三"), "GP": _G37.format("三")},
    "identical_documents": {"TB": _T40.format("四"), "GP": _G37.format("四")},
    "regular_prices": {"TB": _T40.format("四"), "GP": _G37.format("四")},
    "mixed_files": {"TB": _T40.format("五"), "GP": _G37.format("五")},
    "same_deposit_account": {"TB": _T40.format("六"), "GP": _G37.format("六")},
    "same_legal_rep_or_control": {
        "TB": "《招标投标法实施条例》第三十四条第二款",
        "GP": "《政府采购法实施条例》第十八条第一款",
    },
    "tenderee_collusion": {
        "TB": "《招标投标法》第三十二条；《招标投标法实施条例》第四十一条",
        "GP": "《政府采购法》第二十五条；《政府采购法实施条例》第七十四条",
    },
}

LABELS = {
    "same_preparer": _("Bid documents prepared by the same party (same author, machine code, MAC or dongle)"),
    "same_agent": _("The same agent handles the bids of different bidders"),
    "same_manager_or_contact": _("The same project manager, contact person or contact phone"),
    "identical_documents": _("Abnormally identical bid documents"),
    "regular_prices": _("Bid prices differ regularly or are identical"),
    "mixed_files": _("A bid document names another bidder (mixed-up files)"),
    "same_deposit_account": _("Bid securities paid from the same account"),
    "same_legal_rep_or_control": _("The same legal representative, or a control relationship, in one lot"),
    "tenderee_collusion": _("A bidder shares a person, device or account with the tenderee or agency"),
    "same_ip": _("The same upload or decryption IP address"),
    "linked_parties": _("Bidders linked through people, devices, accounts or companies"),
    "shared_typos": _("The same rare passages or typos in different bids"),
    "clustered_uploads": _("Bids submitted within seconds of each other"),
    "low_cv": _("Low dispersion of the bid prices (coefficient of variation)"),
    "low_spread": _("Small spread between the highest and lowest bid"),
    "high_rd": _("The winning bid far below a tight group of other bids"),
    "near_ceiling": _("The lowest bid close to the ceiling price"),
    "cover_bidding": _("A bidder that keeps bidding and always loses to the same winner (cover bidding)"),
    "bid_rotation": _("A recurring group of bidders whose wins rotate among them"),
    "model_anomaly": _("The model finds the bids of this lot unusual for the market"),
}


def setting(name: str) -> Any:
    """MONITORING_RULES[name] from the Django settings when configured, else DEFAULTS[name]."""
    try:
        from django.conf import settings

        overrides = (getattr(settings, "MONITORING_RULES", None) or {}) if settings.configured else {}
    except ImportError:  # pragma: no cover - Django is a dependency; the module stays usable without it
        overrides = {}
    return overrides.get(name, DEFAULTS[name])


def weight(code: str) -> float:
    return float(setting("statutory_weight") if code in LEGAL else setting(f"{code}_weight"))
