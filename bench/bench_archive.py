"""The electronic archive (issue 6): sealing and verifying a package with 1 GB of bid files, and the
whole loop end to end.

(a) A project whose bids are 64 files of 16 MiB of random bytes (1 GiB; small: 8 files, 64 MiB), stored
    content-addressed like sealed bids. Timed: `package_seal` (every stored file re-hashed before it is
    sealed, the journal copied, the catalogue rendered and PDF-signed, the manifest signed),
    `verify_package` (the four-property check against the database: every file hashed once) and
    `verify_export` of the exported ZIP with no database. Each is reported as a ratio to plain
    `hashlib.sha256` over the same bytes, read from the same store in the same process (goal ≥ 0.5:
    the archive costs at most twice a bare hash).
(b) `simulate --tenders 200 --seed 1` (small: 10): complete tenders from publication to a verified
    archival package; its wall time and time per phase.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import time
from pathlib import Path

from bench.common import report

MIB = 1024 * 1024


def _sha256_baseline(blobs) -> float:
    from archive.blobs import CHUNK, blob_open

    t0 = time.perf_counter()
    for blob in blobs:
        h = hashlib.sha256()
        with blob_open(blob) as fh:
            while chunk := fh.read(CHUNK):
                h.update(chunk)
        assert h.hexdigest() == blob.sha256
    return time.perf_counter() - t0


def package_run(*, files: int, size: int) -> dict:
    from archive import providers
    from archive.blobs import blob_put
    from archive.journal import journal_append
    from archive.services import ProjectInfo, package_export, package_seal, roots_publish
    from archive.verify import verify_export, verify_package

    project = f"tender:{900000 + files}"
    blobs = []
    for i in range(files):
        with tempfile.TemporaryFile() as tmp:
            for _ in range(size // MIB):
                tmp.write(os.urandom(MIB))
            blobs.append(blob_put(data=tmp, content_type="application/octet-stream"))
        journal_append(stream=project, action="bench.bid_submitted", actor="bench", payload={"bid": i})
    items = [
        providers.Item(f"bids/{i:04d}/ciphertext.bin", "application/octet-stream", blob=b.sha256, sealed=True)
        for i, b in enumerate(blobs)
    ] + [
        providers.Item(f"bids/{i:04d}/receipt.json", "application/json", data=json.dumps({"bid": i}).encode())
        for i in range(files)
    ]
    providers.register("benchkit", lambda p: items if p == project else [])
    total = files * size
    try:
        baseline = _sha256_baseline(blobs)
        info = ProjectInfo(
            project=project,
            title="基准项目",
            code="BENCH",
            regime="TB",
            category="works",
            state="awarded",
            ended_on=__import__("datetime").date(2026, 1, 1),
        )
        t0 = time.perf_counter()
        package = package_seal(info=info, actor="bench")
        seal = time.perf_counter() - t0
        roots_publish()
        baseline2 = _sha256_baseline(blobs)
        t0 = time.perf_counter()
        checked = verify_package(package)
        verify = time.perf_counter() - t0
        assert checked.ok, checked.lines()
        with tempfile.TemporaryDirectory() as d:
            zpath = Path(d) / "package.zip"
            t0 = time.perf_counter()
            with zpath.open("wb") as fh:
                package_export(package, fh)
            export = time.perf_counter() - t0
            t0 = time.perf_counter()
            offline = verify_export(zpath)
            verify_zip = time.perf_counter() - t0
            assert offline.ok, offline.lines()
    finally:
        providers._providers.pop("benchkit", None)
    base = min(baseline, baseline2)
    return {
        "bytes": total,
        "files": files * 2 + 2,
        "sha256_s": round(base, 3),
        "sha256_mb_s": round(total / MIB / base, 1),
        "seal_s": round(seal, 3),
        "verify_s": round(verify, 3),
        "export_s": round(export, 3),
        "verify_zip_s": round(verify_zip, 3),
        "seal_ratio": round(base / seal, 3),
        "verify_ratio": round(base / verify, 3),
        "verify_zip_ratio": round(base / verify_zip, 3),
    }


def simulate_run(*, tenders: int) -> dict:
    from django.core.management import call_command

    out = io.StringIO()
    t0 = time.perf_counter()
    call_command("simulate", "--tenders", str(tenders), "--seed", "1", stdout=out)
    wall = time.perf_counter() - t0
    summary = json.loads(out.getvalue().strip().splitlines()[0])
    return {"tenders": tenders, "wall_s": round(wall, 1), "summary": summary}


def run(*, small: bool = False) -> None:
    files, size = (8, 8 * MIB) if small else (64, 16 * MIB)
    figures = package_run(files=files, size=size)
    report(
        "archive_package",
        figures,
        f"{figures['bytes'] / MIB:,.0f} MiB of bid files: sha256 {figures['sha256_s']} s; seal {figures['seal_s']} s "
        f"(ratio {figures['seal_ratio']}), verify {figures['verify_s']} s (ratio {figures['verify_ratio']}), "
        f"export {figures['export_s']} s, verify the ZIP offline {figures['verify_zip_s']} s (ratio {figures['verify_zip_ratio']}); goal ratio ≥ 0.5",
    )
    n = 10 if small else 200
    sim = simulate_run(tenders=n)
    s = sim["summary"]
    report(
        "archive_simulate",
        sim,
        f"simulate --tenders {n}: {sim['wall_s']} s wall; completed {s.get('completed')}, failed {s.get('failed')}, "
        f"archive {s.get('archive')}",
    )
