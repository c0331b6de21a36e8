"""python manage.py seed_demo [--if-empty] — build the demo market through the real services."""

from django.core.management.base import BaseCommand, CommandError

from demo.world import DEMO_PASSWORD, build_world
from trading.models import MarketEntity


class Command(BaseCommand):
    help = (
        "Build a small, realistic demo market (entities, people, accounts, tenders in every state, experts)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the registry already has data"
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--password", default=DEMO_PASSWORD, help="password of every demo account")

    def handle(self, *args, if_empty=False, seed=2026, password=DEMO_PASSWORD, **options):
        if MarketEntity.objects.exists():
            if if_empty:
                self.stdout.write("seed_demo: the database already has data; nothing to do.")
                return
            raise CommandError(
                "not_empty: the database already has data (use a fresh database, or --if-empty)"
            )
        if len(password) < 8:
            raise CommandError("weak_password: use at least 8 characters")
        summary = build_world(seed=seed, password=password, out=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"demo world: {summary['entities']} entities, {summary['tenders']} tenders, {summary['users']} users; "
                f"every demo account's password is {password!r}"
            )
        )
