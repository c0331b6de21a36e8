"""What a simulation run reports: one JSON object (printed as one line) and a short human summary.

The JSON: `tenders`, `seed`; `completed` (ran to a sealed package), of which `awarded` and `failed`
(流标: fewer than three bids opened), `errors` with `error_codes` (tenders the run could not take to
the end, by the refusal's code), `states` (the tenders' states afterwards), `bids`; `alerts`: `total`,
`by_kind` (the indicators fired: rule and finding codes), `by_level`, `by_node`, `confirmed`/`dismissed`
by the regulator, `true_positive` (confirmed on a collusive tender, per the synthetic truth),
`false_positive` (dismissed on a clean one), `collusive_tenders`/`collusive_alerted`, `clean_alerted`
and `recall_by_cartel_kind`; `archive`: packages `sealed`, `verified_ok`, `failed` and the `findings`
of the failed ones; `model` (the monitoring model the live checks used), `world` (what was set up);
`phases`: seconds per phase, which add up — market (the generator), world (staff, model, pool,
entities, certificates), publish, bidding (the bidders' clients), opening (the hall), readout (唱标 and
the live monitoring check it sets off), draw, evaluation, award (publicity, award, contract), monitoring
(the regulator's decisions), archive (the closing pipeline: the monitoring report with its re-check,
the sealed package), verify; `wall_seconds`.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter

from django.utils.translation import gettext as _

PHASES = (
    "market",
    "world",
    "publish",
    "bidding",
    "opening",
    "readout",
    "draw",
    "evaluation",
    "award",
    "monitoring",
    "archive",
    "verify",
)


class Summary:
    def __init__(self, *, tenders: int, seed: int):
        self.tenders, self.seed = tenders, seed
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        self.states: Counter = Counter()
        self.completed = self.failed = self.awarded = 0
        self.errors: Counter = Counter()  # simulation errors by code (a tender that could not run)
        self.error_tenders: list[dict] = []
        self.cartel: Counter = Counter()  # collusive tenders by kind
        self.cartel_alerted: Counter = Counter()  # … of which at least one alert was raised
        self.alerts = {
            "total": 0,
            "by_kind": Counter(),  # the indicators fired (rule and finding codes)
            "by_level": Counter(),
            "by_node": Counter(),
            "confirmed": 0,
            "dismissed": 0,
            "true_positive": 0,  # alerts on collusive lots (the synthetic truth), confirmed
            "false_positive": 0,  # alerts on clean lots, dismissed
        }
        self.clean_alerted = 0
        self.archive = {"sealed": 0, "verified_ok": 0, "failed": 0, "findings": Counter()}
        self.bids = 0
        self.model = {}
        self.world = {}
        self._stack: list[list[float]] = []

    @contextlib.contextmanager
    def phase(self, name: str):
        """Time a phase; a phase inside another is counted to itself only (the phases add up)."""
        frame = [time.perf_counter(), 0.0]
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            elapsed = time.perf_counter() - frame[0]
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed - frame[1]
            if self._stack:
                self._stack[-1][1] += elapsed

    def as_dict(self) -> dict:
        a = self.alerts
        cartel_tenders = sum(self.cartel.values())
        return {
            "tenders": self.tenders,
            "seed": self.seed,
            "completed": self.completed,
            "failed": self.failed,
            "awarded": self.awarded,
            "errors": sum(self.errors.values()),
            "error_codes": dict(sorted(self.errors.items())),
            "states": dict(sorted(self.states.items())),
            "bids": self.bids,
            "alerts": {
                "total": a["total"],
                "by_kind": dict(sorted(a["by_kind"].items())),
                "by_level": {str(k): v for k, v in sorted(a["by_level"].items())},
                "by_node": dict(sorted(a["by_node"].items())),
                "confirmed": a["confirmed"],
                "dismissed": a["dismissed"],
                "true_positive": a["true_positive"],
                "false_positive": a["false_positive"],
                "collusive_tenders": cartel_tenders,
                "collusive_alerted": sum(self.cartel_alerted.values()),
                "clean_alerted": self.clean_alerted,
                "recall_by_cartel_kind": {
                    k: {"tenders": n, "alerted": self.cartel_alerted.get(k, 0)}
                    for k, n in sorted(self.cartel.items())
                },
            },
            "archive": {
                "sealed": self.archive["sealed"],
                "verified_ok": self.archive["verified_ok"],
                "failed": self.archive["failed"],
                "findings": dict(sorted(self.archive["findings"].items())),
            },
            "model": self.model,
            "world": self.world,
            "phases": {k: round(v, 3) for k, v in self.seconds.items()},
            "wall_seconds": round(time.perf_counter() - self.started, 3),
        }

    def human(self, data: dict) -> str:
        a, ar = data["alerts"], data["archive"]
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(a["by_kind"].items(), key=lambda kv: -kv[1])[:6])
        slowest = sorted(data["phases"].items(), key=lambda kv: -kv[1])[:4]
        lines = [
            _(
                "simulate: %(n)s tenders (seed %(seed)s): %(completed)s completed and archived "
                "(%(awarded)s awarded, %(failed)s failed for too few bids), %(errors)s could not run."
            )
            % {
                "n": data["tenders"],
                "seed": data["seed"],
                "completed": data["completed"],
                "awarded": data["awarded"],
                "failed": data["failed"],
                "errors": data["errors"],
            },
            _(
                "alerts: %(total)s raised (%(kinds)s); %(tp)s confirmed on collusive tenders, %(fp)s "
                "dismissed; %(hit)s of %(cartels)s collusive tenders alerted."
            )
            % {
                "total": a["total"],
                "kinds": kinds or "—",
                "tp": a["true_positive"],
                "fp": a["false_positive"],
                "hit": a["collusive_alerted"],
                "cartels": a["collusive_tenders"],
            },
            _("archive: %(sealed)s packages sealed, %(ok)s verified, %(bad)s failed verification.")
            % {"sealed": ar["sealed"], "ok": ar["verified_ok"], "bad": ar["failed"]},
            _("time: %(wall)s s in all; slowest phases %(phases)s.")
            % {
                "wall": data["wall_seconds"],
                "phases": ", ".join(f"{k} {v:.1f} s" for k, v in slowest),
            },
        ]
        return "\n".join(lines)
