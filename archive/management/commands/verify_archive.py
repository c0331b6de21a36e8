"""python manage.py verify_archive [<package> | --all] — the four-property check (四性检测).

<package> is a package id, a project key ("tender:12", its newest package), or the path of an exported
ZIP or unpacked directory — checked offline, with no database. Prints a report per package (one JSON
line each with --json); exits 1 when any package fails a property.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cryptography import x509
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Check archival packages for authenticity, integrity, usability and security (四性检测)."
    requires_system_checks: list = []  # offline use: nothing here needs the database unless asked

    def add_arguments(self, parser):
        parser.add_argument(
            "package", nargs="?", help="package id, project key, or an exported ZIP/directory"
        )
        parser.add_argument("--all", action="store_true", help="every sealed package in the database")
        parser.add_argument("--json", action="store_true", help="one JSON line per package")
        parser.add_argument(
            "--trust", help="PEM file of the CA to trust (offline); default: the platform's own"
        )

    def handle(self, *args, package=None, all=False, json=False, trust=None, **options):
        if bool(package) == bool(all):
            raise CommandError("archive_target_required: name one package (or an exported file), or --all")
        trusted = None
        if trust:
            try:
                trusted = x509.load_pem_x509_certificate(Path(trust).read_bytes())
            except (OSError, ValueError) as exc:
                raise CommandError(
                    f"archive_trust_invalid: cannot read a PEM certificate from {trust}: {exc}"
                ) from None
        reports = list(self._reports(package, all, trusted))
        failed = 0
        for report in reports:
            failed += not report.ok
            if json:
                self.stdout.write(_dumps(report.as_dict()))
            else:
                for line in report.lines():
                    self.stdout.write(line)
        if not json:
            self.stdout.write(f"{len(reports)} package(s) checked, {failed} failed")
        if failed:
            sys.exit(1)

    def _reports(self, target, every, trusted):
        from archive.verify import verify_export, verify_package

        path = Path(target) if target else None
        if path is not None and (path.suffix.lower() == ".zip" or path.exists()):
            if not path.exists():
                raise CommandError(f"archive_not_found: no file {path}")
            try:
                yield verify_export(path, trusted_ca=trusted)
            except (OSError, ValueError) as exc:  # a ZIP that is not one
                raise CommandError(f"archive_unreadable: {path}: {exc}") from None
            return
        from archive.models import ArchivePackage

        if every:
            packages = ArchivePackage.objects.filter(status=ArchivePackage.Status.SEALED).order_by("seq")
        elif target.isdigit():
            packages = ArchivePackage.objects.filter(pk=int(target))
        else:
            packages = ArchivePackage.objects.filter(project=target).order_by("-version")[:1]
        if not every and not packages:
            raise CommandError(f"archive_not_found: no package {target!r}")
        for p in packages:
            yield verify_package(p, trusted_ca=trusted)


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
