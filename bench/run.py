"""Run every benchmark in bench/ and print its figures (one JSON line + one human line each).

Benchmarks do not assert timings. By default they use a throw-away SQLite database;
set BENCH_DATABASE_URL=postgres://... to measure against PostgreSQL.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="small sizes (what `make bench` runs)")
    parser.add_argument("--only", help="run only the benchmark module with this name")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    os.environ.setdefault("VAR_DIR", tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_")
    )
    for name in names:
        if args.only and name != args.only:
            continue
        module = importlib.import_module(f"bench.{name}")
        module.run(small=args.small)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
