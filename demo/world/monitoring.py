"""Collusion monitoring in the demo world (a WorldBuilder mixin).

Before any tender is built, a supervised model is trained on a small synthetic market and made the
active version, so the live checks at every read-out use it (as they would once the platform has
history). After the tenders: the nightly batch re-scores the market, and the monitoring report of each
tender that has ended (awarded, failed, terminated) is produced, as before archiving.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from demo.world.clock import simulated_now
from trading.models import Regime

MODEL_TENDERS = 1500  # a small synthetic market: trains in a few seconds
MODEL_SEED = 2026


class MonitoringMixin:
    def build_model(self, at: dt.datetime) -> None:
        from threadpoolctl import threadpool_limits

        from monitoring.learn import fit_model, table_from_lots
        from monitoring.services.modelstore import model_version_save, training_digest
        from monitoring.simulate import simulate_market

        seed = MODEL_SEED  # not drawn from the world's generator: the rest of the world stays as it was
        market = simulate_market(MODEL_TENDERS, seed=seed)
        table = table_from_lots(market.lots, bid_labels=market.bid_labels)
        # One thread: the fit is small, and threads fighting over shared cores make it many times slower.
        with threadpool_limits(limits=1):
            model = fit_model(table, kind="supervised", seed=seed)
        with simulated_now(at), transaction.atomic():
            version = model_version_save(
                model=model,
                training_source=f"simulate_market({MODEL_TENDERS}, seed={seed})",
                training_digest=training_digest(table),
                training_tenders=table.n_tenders,
                training_bids=table.n_bids,
                training_positives=int(table.tender_labels().sum()),
                actor=self.users["admin"],
                note="演示：在合成市场上训练的初始模型，待积累本平台的监管结论后重新训练。",
            )
        self.log(f"monitoring: model {version} trained on {table.n_tenders} synthetic tenders\n")

    def build_monitoring_batch(self, at: dt.datetime) -> None:
        """The batch over the market, then the reports of the tenders that have ended (just before `at`)."""
        from monitoring.services.analysis import market_run
        from monitoring.services.report import report_produce
        from trading.models import Tender, TenderState

        with simulated_now(at - dt.timedelta(minutes=2)):
            run = market_run()
        ended = Tender.objects.filter(
            state__in=[TenderState.AWARDED, TenderState.FAILED, TenderState.TERMINATED]
        ).order_by("pk")
        for tender in ended:
            with simulated_now(at - dt.timedelta(minutes=1)):
                report_produce(tender=tender, actor=self.users["centre"])
        self.log(
            f"monitoring: market run of {run.lots} lots ({run.alerts_raised} alerts raised or updated), "
            f"{ended.count()} reports\n"
        )

    def alerts_review(self, *, plans: dict, at: dt.datetime) -> None:
        """The regulator checks the weak alerts the read-out raised on lots whose plan says so, and
        dismisses them with the reason (a statutory alert is never dismissed here)."""
        from monitoring.models import Alert
        from monitoring.services.alerts import alert_dismiss

        for lot_id, plan in plans.items():
            if not plan.dismiss:
                continue
            alerts = Alert.objects.filter(lot_id=lot_id, status=Alert.Status.OPEN).exclude(level=1)
            for alert in alerts.select_related("tender").order_by("pk"):
                regulator = "regulator" if alert.tender.regime == Regime.TB else "regulator_gp"
                self.act(at, alert_dismiss, alert=alert, actor=self.users[regulator], reason=plan.dismiss)

    def build_archive(self, at: dt.datetime) -> None:
        """The worker's archiving pass: every finished project with no undecided alert is sealed into the
        archive (the open collusion alert keeps its tender out until the regulator decides), the centre
        seals an interim package of the suspended one, then the signed root over the packages is
        published."""
        from archive.services import roots_publish
        from monitoring.services.closing import close_due, open_alerts, project_close
        from trading.models import Tender, TenderState

        with simulated_now(at):
            sealed = close_due(now=at)
            # A suspended project is archived too (一项一档 covers paused projects): an interim package.
            for tender in Tender.objects.filter(state=TenderState.SUSPENDED).order_by("pk"):
                if not open_alerts(tender):
                    sealed.append(project_close(tender=tender, actor=self.users["centre"]))
            root = roots_publish(actor="system")
        self.log(
            f"archive: {len(sealed)} projects sealed, root over {root.tree_size if root else 0} packages\n"
        )
