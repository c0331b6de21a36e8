from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExpertsConfig(AppConfig):
    name = "experts"
    verbose_name = _("Experts")

    def ready(self) -> None:
        from archive.providers import register
        from experts import archive

        # What experts contributes to a project's archival package (draw, evaluation, award).
        register("experts", archive.items)
