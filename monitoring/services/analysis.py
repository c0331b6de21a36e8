"""Running the analysis on the platform's data: one lot live at its read-out, the market in batch.

`lot_check` is called when a lot's bids are read out in the opening hall (bidding sends the
`readout_done` signal after the read-out commits; monitoring's AppConfig connects it here): the
evidence of the lot is read, the bid documents decrypted with the content keys released at the
opening and their text compared, the rules and the model run, the analysis stored and an alert raised
or updated. The alert goes live to regulators, centre staff and the lot's evaluation room.

`market_run` re-scores every read-out lot of the market with the market-wide patterns (the batch
job `run_monitoring` runs it on a schedule); `run_monitoring` also produces the monitoring report of
tenders that have reached their end (services/report.py).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.blobs import blob_open, blob_put
from bidding import envelope
from bidding.models import Bid
from core.errors import DomainError
from monitoring import pipeline
from monitoring.evidence import LotEvidence
from monitoring.evidence_db import lots_evidence
from monitoring.models import Alert, BidText, LotAnalysis, MarketRun
from monitoring.services.alerts import alert_raise
from trading.models import AnnouncementAttachment, Lot

logger = logging.getLogger(__name__)

TEXT_MAX_BYTES_DEFAULT = 20 * 1024 * 1024  # bid documents larger than this are not text-compared live
BATCH_CHUNK = 500  # lots read from the database per query batch


def _text_max() -> int:
    return int(getattr(settings, "MONITORING_TEXT_MAX_BYTES", TEXT_MAX_BYTES_DEFAULT))


# -- texts -----------------------------------------------------------------------------------------------
def _extract(bid: Bid) -> tuple[str, str]:
    """(text, why not) of one opened bid's document, decrypted with the content key released at the
    opening; documents over MONITORING_TEXT_MAX_BYTES or unreadable give ("", reason)."""
    from monitoring.similarity import document_text

    meta = bid.document_meta or {}
    limit = _text_max()
    if int(meta.get("size") or 0) > limit:
        return "", "too_large"
    try:
        with tempfile.SpooledTemporaryFile(max_size=limit) as doc, blob_open(bid.ciphertext) as fh:
            envelope.open_stream(
                header_bytes=envelope.b64u_decode(bid.header),
                cek=envelope.cek_from_b64u(bid.content_key),
                ciphertext=fh,
                document_out=doc,
                verify_document=False,
            )
            doc.seek(0)
            text = document_text(doc.read(), str(meta.get("content_type", "")), str(meta.get("name", "")))
    except Exception:  # one unreadable document must not stop the others
        logger.warning("bid %s: document text not read", bid.pk, exc_info=True)
        return "", "unreadable"
    return text, "" if text else "no_text"


def bid_text_cache(*, bid_id) -> BidText | None:
    """Extract and keep the text of an opened bid (idempotent). Called when the decryption commits."""
    bid = Bid.objects.select_related("ciphertext").filter(pk=bid_id).exclude(content_key="").first()
    if bid is None:
        return None
    existing = BidText.objects.filter(bid=bid).first()
    if existing is not None:
        return existing
    started = time.perf_counter()
    text, skipped = _extract(bid)
    blob = blob_put(data=text.encode(), content_type="text/plain; charset=utf-8") if text else None
    row, _created = BidText.objects.get_or_create(
        bid=bid,
        defaults={
            "text": blob,
            "chars": len(text),
            "document_sha256": str((bid.document_meta or {}).get("sha256", "")),
            "extracted_at": timezone.now(),
            "seconds": round(time.perf_counter() - started, 4),
            "skipped": skipped,
        },
    )
    return row


def bid_texts(lot: Lot) -> dict[str, str]:
    """The text of each opened bid document of the lot (bid key → text): taken from what was kept at
    decryption, extracted now for any bid that has none yet."""
    out: dict[str, str] = {}
    opened = list(
        Bid.objects.filter(lot=lot, status=Bid.Status.ACTIVE)
        .exclude(content_key="")
        .values_list("pk", flat=True)
    )
    kept = {t.bid_id: t for t in BidText.objects.filter(bid_id__in=opened).select_related("text")}
    for bid_id in opened:
        row = kept.get(bid_id) or bid_text_cache(bid_id=bid_id)
        if row is None or row.text is None:
            continue
        with blob_open(row.text) as fh:
            out[str(bid_id)] = fh.read().decode("utf-8", "replace")
    return out


def template_text(lot: Lot) -> str | None:
    """The text of the tender documents (their passages are the template the bids all copy)."""
    from monitoring.similarity import document_text

    parts = []
    attachments = AnnouncementAttachment.objects.filter(
        announcement__tender_id=lot.tender_id, is_tender_document=True
    ).select_related("blob")
    for a in attachments:
        if a.blob.size > _text_max():
            continue
        try:
            with blob_open(a.blob) as fh:
                parts.append(document_text(fh.read(), a.blob.content_type, a.filename))
        except Exception:
            logger.warning("tender document %s not read", a.pk, exc_info=True)
    text = "\n".join(p for p in parts if p)
    return text or None


# -- storing a result ------------------------------------------------------------------------------------
def _message(result: pipeline.LotResult, evidence: LotEvidence) -> str:
    names = {p.key: p.name for p in evidence.parties}
    labels = []
    for f in result.findings:
        label = pipeline.finding_dict(f)["label"]
        if label not in labels:
            labels.append(label)
    who = "、".join(names.get(p, p) for p in result.parties) or _("no bidder named")
    return _("%(indicators)s — bidders concerned: %(who)s.") % {"indicators": "；".join(labels), "who": who}


def _entity_ids(keys: Iterable[str]) -> list[int]:
    return sorted({int(k) for k in keys if str(k).isdigit()})


def store_result(
    *, lot: Lot, evidence: LotEvidence, result: pipeline.LotResult, source: str, node: str, model_version=None
) -> tuple[LotAnalysis, Alert | None, str]:
    """Store the lot's analysis; raise or update its alert when the result calls for one. Returns
    (analysis, alert or None, what happened to the alert: raised/updated/unchanged/decided/none)."""
    findings = [pipeline.finding_dict(f) for f in result.findings]
    with transaction.atomic():
        analysis, _created = LotAnalysis.objects.update_or_create(
            lot=lot,
            defaults={
                "tender_id": lot.tender_id,
                "source": source,
                "analysed_at": timezone.now(),
                "bids": len(evidence.bids),
                "features": _json_safe(result.features),
                "findings": findings,
                "score": result.score,
                "model_version": model_version,
                "seconds": round(result.seconds, 6),
            },
        )
        alert, outcome = None, "none"
        if result.level is not None:
            alert, outcome = alert_raise(
                lot=lot,
                node=node,
                score=result.score,
                level=result.level,
                message=_message(result, evidence),
                indicators=findings,
                graph=result.graph,
                features=_json_safe(result.features),
                entity_ids=_entity_ids(result.parties),
                model_version=model_version,
            )
    return analysis, alert, outcome


def _json_safe(features: dict) -> dict:
    out = {}
    for k, v in features.items():
        if isinstance(v, float) and v != v:  # NaN is not JSON
            v = None
        out[k] = v
    return out


def _current_model():
    """(model, version) or (None, None). A tampered or unreadable artifact is logged and the checks run
    on the rules alone: a broken model must not silence the statutory rules."""
    from monitoring.services.modelstore import model_current

    try:
        return model_current(with_version=True)
    except DomainError:
        logger.exception("the active monitoring model could not be loaded; rules only")
        return None, None


# -- one lot ---------------------------------------------------------------------------------------------
def lot_check(*, lot_id: int, source: str = LotAnalysis.Source.LIVE, node: str = Alert.Node.OPENING):
    """Analyse one lot now (at the read-out, or for the report). Returns (analysis, alert, outcome)."""
    started = time.perf_counter()
    lot = Lot.objects.select_related("tender").get(pk=lot_id)
    evidence = lots_evidence([lot], texts=bid_texts(lot), template=template_text(lot))[0]
    model, version = _current_model()
    score = None
    if model is not None:
        score = pipeline.model_scores(model, [evidence]).get(evidence.lot)
    result = pipeline.analyse_lot(evidence, model_score=score)
    result.seconds = time.perf_counter() - started
    return store_result(
        lot=lot, evidence=evidence, result=result, source=source, node=node, model_version=version
    )


# -- the market ------------------------------------------------------------------------------------------
def _read_out_lots() -> list[Lot]:
    decrypted = Bid.objects.filter(status=Bid.Status.ACTIVE).exclude(content_key="").values("lot_id")
    return list(Lot.objects.filter(pk__in=decrypted).select_related("tender").order_by("pk"))


def market_run() -> MarketRun:
    """Re-score every read-out lot with the market-wide patterns; raise or update alerts."""
    run = MarketRun.objects.create(started_at=timezone.now())
    t0 = time.perf_counter()
    lots = _read_out_lots()
    evidence: list[LotEvidence] = []
    for i in range(0, len(lots), BATCH_CHUNK):
        evidence += lots_evidence(lots[i : i + BATCH_CHUNK])
    load_seconds = time.perf_counter() - t0
    model, version = _current_model()
    carried: dict[str, list] = {}
    for lot_id, findings in LotAnalysis.objects.filter(lot__in=lots).values_list("lot_id", "findings"):
        kept = [pipeline.finding_from_dict(f) for f in findings if f.get("code") in pipeline.TEXT_CODES]
        if kept:
            carried[str(lot_id)] = kept
    result = pipeline.analyse_market(evidence, model=model, carried=carried)
    t1 = time.perf_counter()
    by_key = {str(lot.pk): lot for lot in lots}
    raised = 0
    for ev in evidence:
        lot_result = result.lots[ev.lot]
        _analysis, _alert, outcome = store_result(
            lot=by_key[ev.lot],
            evidence=ev,
            result=lot_result,
            source=LotAnalysis.Source.BATCH,
            node=Alert.Node.MARKET,
            model_version=version,
        )
        raised += outcome in ("raised", "updated")
    run.finished_at = timezone.now()
    run.tenders = len({lot.tender_id for lot in lots})
    run.lots = len(lots)
    run.bids = sum(len(e.bids) for e in evidence)
    run.alerts_raised = raised
    run.model_version = version
    run.figures = {
        **{k: round(v, 4) for k, v in result.figures.items()},
        "load_seconds": round(load_seconds, 4),
        "store_seconds": round(time.perf_counter() - t1, 4),
        "total_seconds": round(time.perf_counter() - t0, 4),
    }
    run.market = result.market
    run.save()
    return run
