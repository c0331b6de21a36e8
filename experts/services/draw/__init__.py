"""The verifiable expert draw as a use case (DESIGN §6, DOMAIN C4): request → commit → perform →
confirm/decline → reserves → reveal → verify.

* `draw_request` (centre staff) fixes the request, makes the secret seed and publishes only its
  commitment; the seed is kept sealed under the server's secret.
* `draw_perform` (a supervisor, never the requester) types a nonce; the eligible pool of every
  specialty group is computed and hashed, and `experts.draw` ranks it. Members are the first
  experts of the order that keep every employer under the limit; the rest of the ranked prefix are
  reserves, called in order when a member declines, does not reply in time, or recuses.
* `draw_reveal` publishes the seed once the names may be known (C4); `draw_verify` and
  `manage.py verify_draw` re-run everything from the public record.

Each group's key binds the request digest and the group's index, so the groups are independent
draws, and an expert ranked in an earlier group is not in a later group's pool.
"""

from experts.services.draw.common import (
    ASSIGNMENT_LIVE,
    _rank,
    draw_seed,
    employer_tag,
    group_request_digest,
    public_id,
    select_members,
)
from experts.services.draw.extend import draw_extend
from experts.services.draw.perform import draw_perform
from experts.services.draw.replies import (
    assignment_confirm,
    assignment_decline,
    assignment_recuse,
    committee_assignments,
    draw_cancel,
    draw_tick,
)
from experts.services.draw.request import draw_request
from experts.services.draw.verify import (
    GroupCheck,
    draw_for_lot,
    draw_record,
    draw_reveal,
    draw_verify,
    record_verify,
)

__all__ = [
    "ASSIGNMENT_LIVE",
    "GroupCheck",
    "_rank",
    "assignment_confirm",
    "assignment_decline",
    "assignment_recuse",
    "committee_assignments",
    "draw_cancel",
    "draw_extend",
    "draw_for_lot",
    "draw_perform",
    "draw_record",
    "draw_request",
    "draw_reveal",
    "draw_seed",
    "draw_tick",
    "draw_verify",
    "employer_tag",
    "group_request_digest",
    "public_id",
    "record_verify",
    "select_members",
]
