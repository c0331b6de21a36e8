"""python manage.py export_archive <package> --out FILE.zip — one ZIP for the archive authority."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from archive.models import ArchivePackage
from archive.services import package_export
from core.errors import DomainError


class Command(BaseCommand):
    help = "Export an archival package (manifest, signature, proof, files, verification report) as a ZIP."

    def add_arguments(self, parser):
        parser.add_argument("package", help="package id or project key (newest package)")
        parser.add_argument("--out", required=True, help="the ZIP file to write")

    def handle(self, *args, package, out, **options):
        qs = (
            ArchivePackage.objects.filter(pk=int(package))
            if package.isdigit()
            else ArchivePackage.objects.filter(project=package).order_by("-version")
        )
        pkg = qs.first()
        if pkg is None:
            raise CommandError(f"archive_not_found: no package {package!r}")
        target = Path(out)
        if target.exists():
            raise CommandError(f"archive_exists: {target} exists; choose another name")
        tmp = target.with_name(f".{target.name}.part")
        try:
            with tmp.open("wb") as fh:
                report = package_export(pkg, fh)
            tmp.replace(target)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        finally:
            tmp.unlink(missing_ok=True)
        self.stdout.write(
            f"{target}: {pkg.project} v{pkg.version}, {pkg.file_count} files, verification {'OK' if report['ok'] else 'FAILED'}"
        )
