"""python manage.py publish_archive_root — sign and publish the Merkle root over all packages."""

from django.core.management.base import BaseCommand

from archive.services import roots_publish


class Command(BaseCommand):
    help = "Sign and publish the Merkle root over every archival package sealed so far."

    def handle(self, *args, **options):
        root = roots_publish()
        if root is None:
            self.stdout.write("no package sealed yet")
        else:
            self.stdout.write(f"root over {root.tree_size} package(s): {root.root_hash}")
