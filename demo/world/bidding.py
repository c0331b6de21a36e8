"""Sealed bids through the submission service with the demo key files, and the tender whose opening
is one hour after seeding (a WorldBuilder mixin)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from demo.world.clients import Machine, client_request, file_meta, office_machine
from demo.world.clock import simulated_now
from demo.world.pdf import small_pdf
from trading.services.tenders import (
    tender_create,
    tender_document_download,
    tender_publish,
)


class BiddingMixin:
    def file_author(self, username: str) -> str:
        """The name in the author field of the bidder's files: the person of its demo user (its bid
        agent), or its legal representative when another bidder's agent has the same name (two
        people of one name must not look like one preparer)."""
        authors = self.__dict__.setdefault("_authors", {})
        if username not in authors:
            user = self.users[username]
            taken = set(authors.values())
            rep = user.entity.legal_rep
            candidates = [user.person.name if user.person_id else "", rep.name if rep else ""]
            authors[username] = next(
                (n for n in candidates if n and n not in taken), f"{user.entity.name[:4]}投标部"
            )
        return authors[username]

    def bidder_key(self, username: str):
        """The bidder's private key, from its demo key file (cached: unlocking it is deliberately slow)."""
        from trading import keyclient

        cache = self.__dict__.setdefault("_keys", {})
        if username not in cache:
            cache[username] = keyclient.keyfile_load(
                (Path(settings.DEMO_KEYS_DIR) / f"{username}.key.json").read_bytes(), self.password
            )
        return cache[username]

    def bid_seal_submit(
        self,
        *,
        lot,
        username: str,
        price: Decimal | str,
        at: dt.datetime,
        duration_days: int = 150,
        quality: str = "合格",
        document: bytes | None = None,
        machine: Machine | None = None,
        prepared_by: str | None = None,
        technical: list[str] | None = None,
    ):
        """Seal a bid form and a small bid document in the bidder's name (as its client would) and
        upload it through the submission service, from the bidder's computer (`machine`, by default its
        office's) with the file's authoring metadata. `prepared_by` names another bidder whose staff
        prepared the file (author, company and pricing licence are that bidder's); `technical` lines
        are added to the document's technical part. Returns (bid, content key)."""
        from bidding import envelope
        from bidding.selectors import recipients_for
        from bidding.services import submission

        user = self.users[username]
        key = self.bidder_key(username)
        machine = machine or office_machine(username)
        preparer = prepared_by or username
        with simulated_now(at):
            info = recipients_for(lot=lot, user=user)
            pm = user.entity.positions.filter(role="project_manager").select_related("person").first()
            if document is None:
                document = small_pdf(
                    f"{lot.tender.title} 投标文件",
                    [
                        f"投标人：{user.entity.name}",
                        f"标段：{lot.number} {lot.title}",
                        f"投标报价：人民币 {Decimal(price):,.2f} 元",
                        f"工期（服务期）：{duration_days} 日历天    质量：{quality}",
                        f"项目负责人：{pm.person.name if pm else '—'}",
                        "第一章 投标函及投标函附录",
                        "第二章 法定代表人身份证明及授权委托书",
                        "第三章 技术方案（施工组织设计 / 服务方案）",
                        *(technical or []),
                        "第四章 商务部分及类似项目业绩",
                    ],
                )
            out = io.BytesIO()
            sealed = envelope.seal(
                form={
                    "price": str(price),
                    "currency": "CNY",
                    "duration_days": duration_days,
                    "quality": quality,
                    "project_manager": {
                        "name": pm.person.name if pm else "",
                        "reg_no": pm.professional_reg_no if pm else "",
                    },
                    "items": {},
                },
                document=document,
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
            meta = file_meta(
                username=preparer,
                document=document,
                name="投标文件.pdf",
                author=self.file_author(preparer),
                company=self.users[preparer].entity.name,
                works=lot.tender.category == "works",
            )
            bid = submission.upload_complete(
                upload=session,
                user=user,
                header=envelope.b64u(sealed.header_bytes),
                signature=sealed.signature,
                file_meta=meta,
                request=client_request(self.rf, machine, "/bidding/upload/complete"),
            )
        return bid, sealed.cek


class OpeningSoonMixin:
    def build_opening_soon(self) -> None:
        """A tender whose bid deadline (= opening) is one hour after seeding, with sealed bids from
        four bidders: log in as `centre` and the bidders to run the remote opening hall."""
        from demo.world.tender_table import OPENING_SOON
        from trading.models import Lot

        published = timezone.localtime(self.now - dt.timedelta(days=23)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        deadline = (self.now + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
        published = self.published_before(published, deadline)
        form = self.tender_form(OPENING_SOON, published)
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
                tender_document_download(
                    tender=tender, user=user, request=client_request(self.rf, office_machine(name))
                )
            self.bid_seal_submit(
                lot=lot,
                username=name,
                price=prices[i],
                at=self.now - dt.timedelta(days=1, hours=4 - i),
                document=f"{user.entity.name} 投标文件（演示）".encode() * 200,
            )
        self.log(f"tender {tender.code} {tender.title}: opening at {timezone.localtime(deadline):%H:%M}\n")
