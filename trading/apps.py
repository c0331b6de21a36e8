from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = _("Trading")

    def ready(self) -> None:
        from archive.providers import register
        from trading import archive

        # What trading contributes to a project's archival package (registration, announcements, …).
        register("trading", archive.items)
