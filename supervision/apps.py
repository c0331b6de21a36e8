from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = _("Supervision")

    def ready(self) -> None:
        from archive.providers import register
        from supervision import archive
        from supervision.services import on_tender_published
        from trading.signals import tender_published

        # A tender is assigned its supervising departments in the transaction that publishes it.
        tender_published.connect(on_tender_published, dispatch_uid="supervision.assign")
        register("supervision", archive.items)
        # The pages below supervision (monitoring's queue, the tender's tabs, the opening hall, the
        # evaluation room) ask trading.access who supervises a tender and who is invited to watch.
        from supervision import selectors
        from trading.access import jurisdiction_register, watchers_register

        jurisdiction_register(selectors.supervised_tenders)
        watchers_register(selectors.invited)
