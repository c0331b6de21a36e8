"""Notifications: the reader marks them read (the platform's own messages are created by the
services that decide something, e.g. an amendment notifying every holder of the documents).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from trading.models import User
from trading.selectors_workbench import notification_list_for_user


def notification_mark_read(*, user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's unread notifications read: all of them, or only those in `notification_ids`.

    Ids the user may not see (someone else's, another entity's) are ignored, not refused: the
    reader learns nothing about them. Returns how many were marked.

    Unlike every other service this one does not journal. A read receipt is presentation state
    of one reader, not a decision of the platform: it changes no tender, bid or entity, nobody
    relies on it as evidence (an amendment binds bidders whether they read the note or not), and
    writing each click into the hash-chained journal would fill the long-term archive with noise.
    """
    unread = notification_list_for_user(user=user).filter(read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    with transaction.atomic():
        return unread.update(read_at=timezone.now())
