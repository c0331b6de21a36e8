"""The tender whose opening is one hour after seeding, with sealed bids (a WorldBuilder mixin)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from demo.world.clock import simulated_now
from trading.services.tenders import (
    tender_create,
    tender_document_download,
    tender_publish,
)


class OpeningSoonMixin:
    def build_opening_soon(self) -> None:
        """A tender whose bid deadline (= opening) is one hour after seeding, with sealed bids from
        four bidders: log in as `centre` and the bidders to run the remote opening hall."""
        from bidding import envelope
        from bidding.selectors import recipients_for
        from bidding.services import submission
        from trading import keyclient
        from trading.models import Lot

        published = timezone.localtime(self.now - dt.timedelta(days=23)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        deadline = (self.now + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
        spec = (
            "南宁市第三中学运动场改造工程施工",
            "TB",
            "works",
            0,
            0,
            6_300_000,
            "published",
            23,
            "A010203",
            "scoring",
        )
        form = self.tender_form(spec, published)
        form["deadline"] = deadline.isoformat()
        agency_user = self.users["agency1"]
        with simulated_now(published - dt.timedelta(hours=2)), transaction.atomic():
            tender = tender_create(actor=agency_user, data=form)
        with simulated_now(published), transaction.atomic():
            tender_publish(tender=tender, actor=agency_user, body_html=self.announcement_body(tender))
        tender.refresh_from_db()
        lot = Lot.objects.get(tender=tender, number=1)
        prices = ["6012500.00", "5987300.00", "6055800.00", "5940000.00"]
        for i, name in enumerate(["bidder", "bidder2", "bidder4", "bidder7"]):
            user = self.users[name]
            with simulated_now(published + dt.timedelta(days=1, hours=i)), transaction.atomic():
                tender_document_download(tender=tender, user=user, request=None)
            key = keyclient.keyfile_load(
                (Path(settings.DEMO_KEYS_DIR) / f"{name}.key.json").read_bytes(), self.password
            )
            with simulated_now(self.now - dt.timedelta(days=1, hours=4 - i)):
                info = recipients_for(lot=lot, user=user)
                pm = user.entity.positions.filter(role="project_manager").select_related("person").first()
                out = io.BytesIO()
                sealed = envelope.seal(
                    form={
                        "price": prices[i],
                        "currency": "CNY",
                        "duration_days": 150,
                        "quality": "合格",
                        "project_manager": {"name": pm.person.name, "reg_no": pm.professional_reg_no},
                        "items": {},
                    },
                    document=f"{user.entity.name} 投标文件（演示）".encode() * 200,
                    document_name="投标文件.pdf",
                    content_type="application/pdf",
                    tender=info["tender"],
                    lot=info["lot"],
                    bidder=info["bidder"],
                    cert_serial=info["cert"],
                    signing_key=key,
                    out=out,
                    recipients=[
                        envelope.Recipient(
                            to=r["to"],
                            kid=r["kid"],
                            public_key=envelope.public_key_from_b64u(r["public_key"]),
                        )
                        for r in info["recipients"]
                    ],
                )
                data = out.getvalue()
                session = submission.upload_start(lot=lot, user=user, size=len(data))
                session = submission.upload_append(upload=session, user=user, offset=0, data=data)
                submission.upload_complete(
                    upload=session,
                    user=user,
                    header=envelope.b64u(sealed.header_bytes),
                    signature=sealed.signature,
                )
        self.log(f"tender {tender.code} {tender.title}: opening at {timezone.localtime(deadline):%H:%M}\n")
