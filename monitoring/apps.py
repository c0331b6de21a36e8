from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        from archive.providers import register
        from bidding.opening.events import bid_decrypted, readout_done
        from monitoring import archive
        from monitoring.signals import on_bid_decrypted, on_readout

        # The live check at the read-out (issue 5 item 7): bidding tells, monitoring listens.
        readout_done.connect(on_readout, dispatch_uid="monitoring.live_check")
        # The bid documents' text is taken as each bid is decrypted, before the read-out.
        bid_decrypted.connect(on_bid_decrypted, dispatch_uid="monitoring.bid_text")
        # What monitoring contributes to a project's archival package (the report, the alerts).
        register("monitoring", archive.items)
