from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BiddingConfig(AppConfig):
    name = "bidding"
    verbose_name = _("Bidding")

    def ready(self) -> None:
        # trading may not import bidding (layering): it sends signals, bidding listens.
        from archive.providers import register
        from bidding import archive, signals
        from trading.signals import tender_published, tender_state_changed

        tender_published.connect(signals.on_tender_published, dispatch_uid="bidding.custodian_key_create")
        tender_state_changed.connect(signals.on_tender_state_changed, dispatch_uid="bidding.hall_suspension")
        # What bidding contributes to a project's archival package (sealed bids, the opening).
        register("bidding", archive.items)
