from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        from bidding.opening.events import readout_done
        from monitoring.signals import on_readout

        # The live check at the read-out (issue 5 item 7): bidding tells, monitoring listens.
        readout_done.connect(on_readout, dispatch_uid="monitoring.live_check")
