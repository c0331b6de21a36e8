"""python manage.py ocds_validate [--all] — validate the OCDS export offline against the 1.1.5 schema.

Checks the release package of every public tender and the dated bulk package of every day on
which one changed; exits non-zero listing the errors. `--all` also builds drafts (which are
never published) so that a tender is known to export cleanly before it goes public.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models.functions import TruncDate

from trading import ocds
from trading.models import Tender


class Command(BaseCommand):
    help = "Validate every public tender's OCDS release package (and the dated bulk packages) offline."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="also validate draft tenders")
        parser.add_argument(
            "--base-url", default=None, help="the site's public address (default PUBLIC_BASE_URL)"
        )

    def handle(self, *args, all=False, base_url=None, **options):
        base_url = base_url or ocds.default_base_url()
        tenders = Tender.objects.all() if all else ocds.public_tenders()
        failures: list[str] = []
        checked = 0
        for tender in ocds.with_release_data(tenders.order_by("pk")).iterator(chunk_size=200):
            checked += 1
            for error in ocds.ocds_validate(ocds.tender_package(tender, base_url=base_url)):
                failures.append(f"tender {tender.pk} ({tender.code}): {error}")
        days = (
            ocds.public_tenders()
            .annotate(day=TruncDate("published_at", tzinfo=ocds.SHANGHAI))
            .values_list("day", flat=True)
            .distinct()
            .order_by("day")
        )
        for day in days:
            checked += 1
            for error in ocds.ocds_validate(ocds.bulk_package(day, base_url=base_url)):
                failures.append(f"bulk {day.isoformat()}: {error}")
        for line in failures:
            self.stderr.write(line)
        if failures:
            raise CommandError(f"ocds_invalid: {len(failures)} error(s) in {checked} package(s)")
        self.stdout.write(self.style.SUCCESS(f"ocds_validate: {checked} package(s) valid"))
