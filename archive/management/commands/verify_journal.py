"""python manage.py verify_journal — re-check every hash chain and name the first broken link."""

from django.core.management.base import BaseCommand, CommandError

from archive.journal import verify_all, verify_stream
from archive.models import JournalEntry


class Command(BaseCommand):
    help = "Re-check every journal chain (and the global anchors); exit 1 naming the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--stream", help="check only this stream")

    def handle(self, *args, stream=None, **options):
        if stream:
            if not JournalEntry.objects.filter(stream=stream).exists():
                raise CommandError(f"unknown_stream: no journal stream named {stream!r}")
            breaks = [b for b in [verify_stream(stream)] if b]
        else:
            breaks = verify_all()
        total = (
            JournalEntry.objects.count() if not stream else JournalEntry.objects.filter(stream=stream).count()
        )
        if breaks:
            for b in breaks:
                self.stderr.write(f"BROKEN {b}")
            raise CommandError(f"journal_broken: first broken link: {breaks[0]}")
        self.stdout.write(self.style.SUCCESS(f"journal OK: {total} entries verified"))
