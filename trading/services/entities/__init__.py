"""The market-entity registry: one application form (一表申请), verification by the centre,
changes proposed by the entity and approved by the centre, each approved state kept as a version.

A package since it outgrew one module (DESIGN §2); import from here, the submodules are
an internal arrangement.

"""

from trading.services.entities.forms import digest_ready, entity_form_clean
from trading.services.entities.people import person_id_digest, person_upsert
from trading.services.entities.registry import (
    entity_change_decide,
    entity_change_propose,
    entity_register,
    entity_snapshot,
    entity_stream,
    entity_verify,
)

__all__ = [
    "digest_ready",
    "entity_change_decide",
    "entity_change_propose",
    "entity_form_clean",
    "entity_register",
    "entity_snapshot",
    "entity_stream",
    "entity_verify",
    "person_id_digest",
    "person_upsert",
]
