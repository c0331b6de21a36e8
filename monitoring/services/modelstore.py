"""The model store: trained detectors kept as versions, their artifact in the archive's blob store.

An artifact is loaded only after its bytes hash to the SHA-256 the version was saved with (unpickling
runs code, so a file changed on disk must never be loaded); a tampered artifact is refused with
`model_artifact_tampered`. Saving and activating are journalled on the `monitoring:models` stream.
"""

from __future__ import annotations

import hashlib
import math
import threading

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from archive.blobs import blob_open, blob_put
from archive.journal import journal_append
from core.errors import Conflict, NotFound, ValidationFailed
from monitoring.learn import BidTable, Model, TableError, load_model, read_bids
from monitoring.models import ModelVersion

STREAM = "monitoring:models"
CONTENT_TYPE = "application/vnd.gongjiao.monitoring-model"

# The messages of monitoring.learn.table's codes, translated (the pure module stays Django-free).
TABLE_MESSAGES = {
    "bids_file_missing": gettext_noop("The bid file %(path)s does not exist or cannot be read."),
    "bids_file_empty": gettext_noop("The bid file has no header line."),
    "bids_file_too_large": gettext_noop("The bid file is larger than %(limit)s MB."),
    "column_missing": gettext_noop("The bid file has no column %(column)s."),
    "amount_invalid": gettext_noop("Row %(row)s: the bid amount %(value)s is not a positive number."),
    "label_invalid": gettext_noop("Row %(row)s: the label %(value)s is not 0 or 1."),
    "winner_invalid": gettext_noop("Row %(row)s: is_winner %(value)s is not 0 or 1."),
    "estimate_invalid": gettext_noop("Row %(row)s: the estimate %(value)s is not a positive number."),
    "tender_id_missing": gettext_noop("Row %(row)s has no tender_id."),
    "too_few_tenders": gettext_noop("The table has %(found)s tenders; at least %(minimum)s are needed."),
    "labels_one_class": gettext_noop("Every tender has the same label: cross-validation needs both classes."),
    "too_few_positives": gettext_noop(
        "The table has %(found)s collusive tenders; at least %(minimum)s are needed."
    ),
}

_cache: dict[str, Model] = {}
_cache_lock = threading.Lock()


def table_error(exc: TableError) -> ValidationFailed:
    """The translated domain error for a refused bid table (same code, same parameters)."""
    template = TABLE_MESSAGES.get(exc.code)
    message = _(template) % exc.params if template else exc.message
    return ValidationFailed(message, code=exc.code, **exc.params)


def bids_read(path, *, skip_invalid: bool = False) -> BidTable:
    """Read a bid CSV (monitoring.learn.table) or raise ValidationFailed with the table's code."""
    try:
        return read_bids(path, skip_invalid=skip_invalid)
    except TableError as exc:
        raise table_error(exc) from None


def training_digest(table: BidTable) -> str:
    """SHA-256 of the canonical training table (BidTable.digest): the same bids give the same digest
    whatever the file's delimiter, encoding, column order or extra columns."""
    return table.digest()


def _json_safe(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, int | str | bool) or value is None:
        return value
    try:
        return _json_safe(float(value))  # numpy scalars
    except (TypeError, ValueError):
        return str(value)


def model_version_save(
    *,
    model: Model,
    training_source: str,
    training_digest: str,
    training_tenders: int = 0,
    training_bids: int = 0,
    training_positives: int = 0,
    metrics: dict | None = None,
    actor=None,
    activate: bool = True,
    note: str = "",
) -> ModelVersion:
    """Store `model` as the next version of its kind (artifact in the blob store); make it the active
    one of its kind when `activate`."""
    if model.kind not in ModelVersion.Kind.values:
        raise ValidationFailed(_("Unknown model kind."), code="model_kind_invalid")
    if len(training_digest) != 64:
        raise ValidationFailed(_("The training digest is not a SHA-256."), code="training_digest_invalid")
    data = model.to_bytes()
    blob = blob_put(data=data, content_type=CONTENT_TYPE)
    with transaction.atomic():
        current = list(ModelVersion.objects.select_for_update().filter(kind=model.kind).order_by("pk"))
        number = (ModelVersion.objects.filter(kind=model.kind).aggregate(m=Max("version"))["m"] or 0) + 1
        if activate:
            ModelVersion.objects.filter(pk__in=[v.pk for v in current if v.active]).update(active=False)
        version = ModelVersion.objects.create(
            kind=model.kind,
            version=number,
            created_at=timezone.now(),
            created_by=actor if getattr(actor, "pk", None) else None,
            training_source=training_source[:200],
            training_digest=training_digest,
            training_tenders=training_tenders,
            training_bids=training_bids,
            training_positives=training_positives,
            features=_json_safe({"tender": model.tender_features, "bid": model.bid_features}),
            params=_json_safe(model.describe()),
            metrics=_json_safe(metrics or {}),
            artifact=blob,
            active=activate,
            note=note,
        )
        journal_append(
            stream=STREAM,
            action="monitoring.model_saved",
            actor=actor,
            obj=version,
            payload={
                "kind": version.kind,
                "version": number,
                "artifact_sha256": blob.sha256,
                "training_digest": training_digest,
                "training_source": version.training_source,
                "active": activate,
            },
        )
    return version


def model_version_activate(*, version: ModelVersion, actor=None) -> ModelVersion:
    """Make `version` the active model of its kind (its artifact must still verify)."""
    model_version_load(version)
    with transaction.atomic():
        rows = list(ModelVersion.objects.select_for_update().filter(kind=version.kind).order_by("pk"))
        ModelVersion.objects.filter(pk__in=[v.pk for v in rows if v.active and v.pk != version.pk]).update(
            active=False
        )
        ModelVersion.objects.filter(pk=version.pk).update(active=True)
        journal_append(
            stream=STREAM,
            action="monitoring.model_activated",
            actor=actor,
            obj=version,
            payload={"kind": version.kind, "version": version.version},
        )
    version.refresh_from_db()
    return version


def model_version_load(version: ModelVersion) -> Model:
    """The model of `version`, after checking that its artifact's bytes hash to the stored SHA-256."""
    expected = version.artifact_id
    try:
        with blob_open(version.artifact) as fh:
            data = fh.read()
    except OSError:
        raise NotFound(_("The model's artifact is missing."), code="model_artifact_missing") from None
    if hashlib.sha256(data).hexdigest() != expected:
        raise Conflict(
            _("The model's artifact does not match its digest; it was not loaded."),
            code="model_artifact_tampered",
            version=version.pk,
        )
    with _cache_lock:
        model = _cache.get(expected)
    if model is None:
        try:
            model = load_model(data)
        except ValueError:
            raise Conflict(_("The stored artifact is not a model."), code="model_artifact_invalid") from None
        with _cache_lock:
            _cache[expected] = model
    return model


def model_version_current(kind: str | None = None) -> ModelVersion | None:
    """The active version of `kind`; without a kind the active supervised one, else the unsupervised."""
    kinds = [kind] if kind else [ModelVersion.Kind.SUPERVISED, ModelVersion.Kind.UNSUPERVISED]
    for k in kinds:
        version = ModelVersion.objects.filter(kind=k, active=True).select_related("artifact").first()
        if version is not None:
            return version
    return None


def model_current(kind: str | None = None, *, with_version: bool = False):
    """The loaded active model (supervised preferred) or None; with `with_version`, (model, version)
    or (None, None). Raises Conflict `model_artifact_tampered` when its artifact was changed."""
    version = model_version_current(kind)
    model = model_version_load(version) if version is not None else None
    return (model, version) if with_version else model
