"""The shared expert pool's writes (DOMAIN C2/C3/C5/C11): admission by centre staff, status,
the expert's own calendar, declared relationships and profile proposals, ratings and sanctions.

Every function checks, then changes inside one transaction, and journals what it did on the
expert's own stream (`expert_stream`). A profile is validated up front, the whole form at once,
with a stable code per field, so a refused request never leaves half a profile. A package since
it outgrew one module (DESIGN §2); import from here, the submodules are an internal arrangement.
"""

from experts.services.pool.admission import (
    expert_create,
    expert_create_prepared,
    expert_prepare,
    expert_set_status,
    expert_update,
    suspensions_expire,
)
from experts.services.pool.common import (
    MANAGE_ROLES,
    SANCTION_ROLES,
    FieldErrors,
    expert_stream,
    region_check,
)
from experts.services.pool.conduct import (
    SANCTION_CREDIT_KIND,
    evaluation_ended_at,
    rating_due_on,
    rating_record,
    sanction_impose,
)
from experts.services.pool.declarations import (
    profile_change_decide,
    profile_change_propose,
    relationship_declare,
    relationship_withdraw,
    unavailability_add,
    unavailability_remove,
)
from experts.services.pool.profile import (
    PROFILE_FIELDS,
    PROPOSABLE,
    SPECIALTY_ALIASES,
    person_clean,
    profile_changes,
    profile_clean,
    profile_snapshot,
)

__all__ = [
    "MANAGE_ROLES",
    "PROFILE_FIELDS",
    "PROPOSABLE",
    "SANCTION_CREDIT_KIND",
    "SANCTION_ROLES",
    "SPECIALTY_ALIASES",
    "FieldErrors",
    "evaluation_ended_at",
    "expert_create",
    "expert_create_prepared",
    "expert_prepare",
    "expert_set_status",
    "expert_stream",
    "expert_update",
    "person_clean",
    "profile_change_decide",
    "profile_change_propose",
    "profile_changes",
    "profile_clean",
    "profile_snapshot",
    "rating_due_on",
    "rating_record",
    "region_check",
    "relationship_declare",
    "relationship_withdraw",
    "sanction_impose",
    "suspensions_expire",
    "unavailability_add",
    "unavailability_remove",
]
