"""Signals trading sends to the apps layered above it: trading never imports them (DESIGN layering),
they connect here in their AppConfig.ready().
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent by tender_publish inside its transaction, with the tender row locked, once the tender and its
# announcement are published and before the journal is anchored. Arguments: tender, actor. It is sent
# with `send`, not `send_robust`: a receiver that raises (e.g. custodians_unavailable) rolls the
# publication back, so the tender stays a draft.
tender_published = Signal()

# Sent by every state change of a tender (trading.services.tenders.states), inside its transaction, with
# the row locked. Arguments: tender, previous, target. Receivers defer side effects to on_commit (the
# opening hall announces a suspension and a resumption to everyone in it).
tender_state_changed = Signal()
