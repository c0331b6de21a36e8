"""The bidder's sealed-bid client on the command line (docs/sealed-bid.md, bidding/client/).

    manage.py bid_client seal --recipients r.json --form form.json --document bid.pdf --key me.key --out bid.gjseal
    manage.py bid_client submit --url https://platform --lot 12 --key me.key (--form f.json --document bid.pdf
                                | --envelope bid.gjseal.json [--upload-id UUID]) [--ca ca.pem] [--receipt-out r.json]
    manage.py bid_client verify-receipt --receipt r.json --ca ca.pem [--envelope bid.gjseal.json]
    manage.py bid_client unwrap --key me.key (--envelope bid.gjseal.json | --header <b64u>) [--to bidder]

`seal` is offline: the recipients file is what GET /bidding/lots/<id>/recipients answered. The key
password comes from --password-file, else KEY_PASSWORD, else a prompt — never the command line.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from bidding import client as bid_client
from bidding import envelope


def _fail(code: str, message: str) -> CommandError:
    return CommandError(f"{code}: {message}")


def _read_json(path: str, what: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail("file_unreadable", f"Cannot read the {what} {path}: {exc}") from None
    if not isinstance(data, dict):
        raise _fail("file_malformed", f"The {what} {path} is not a JSON object.")
    return data


class Command(BaseCommand):
    help = "Bidder client for sealed bids: seal offline, submit (resumable), verify a receipt, unwrap the content key."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        seal = sub.add_parser("seal", help="Seal a bid form and document into an envelope file (offline).")
        seal.add_argument(
            "--recipients", required=True, help="The lot's recipients JSON (from the platform)."
        )
        seal.add_argument("--form", required=True, help="Bid form JSON: price, currency, duration_days, …")
        seal.add_argument("--document", required=True)
        seal.add_argument("--key", required=True)
        seal.add_argument("--out", required=True, help="Ciphertext file; the manifest goes to OUT.json.")
        seal.add_argument("--content-type")
        seal.add_argument("--password-file")

        submit = sub.add_parser("submit", help="Log in with the key, seal, upload in parts, complete.")
        submit.add_argument("--url", required=True, help="The platform's base URL.")
        submit.add_argument("--lot", required=True, type=int, help="The lot's id on the platform.")
        submit.add_argument("--key", required=True)
        submit.add_argument("--username", help="Defaults to the user name in the key file.")
        submit.add_argument("--form")
        submit.add_argument("--document")
        submit.add_argument(
            "--envelope", help="An envelope manifest from `seal` (instead of --form/--document)."
        )
        submit.add_argument("--upload-id", help="Resume this upload (with --envelope).")
        submit.add_argument("--workdir", help="Where the sealed file is written (kept if the upload fails).")
        submit.add_argument(
            "--ca", help="The platform CA certificate to trust (default: fetched from --url)."
        )
        submit.add_argument("--receipt-out", help="Write the signed receipt here.")
        submit.add_argument("--part-size", type=int, default=bid_client.PART_DEFAULT)
        submit.add_argument("--password-file")

        verify = sub.add_parser("verify-receipt", help="Verify a signed receipt offline.")
        verify.add_argument("--receipt", required=True)
        verify.add_argument("--ca", required=True, help="The platform CA certificate (/pki/ca.pem).")
        verify.add_argument("--envelope", help="Check the receipt names this envelope (its manifest).")

        unwrap = sub.add_parser("unwrap", help="Unwrap the content key of a sealed header (for the opening).")
        unwrap.add_argument("--key", required=True)
        unwrap.add_argument("--envelope", help="An envelope manifest from `seal`/`submit`.")
        unwrap.add_argument("--header", help="The header, b64u (as the opening hall shows it).")
        unwrap.add_argument("--to", choices=["bidder", "custodian"], default="bidder")
        unwrap.add_argument("--password-file")

    def handle(self, *args, **options):
        action = options["action"].replace("-", "_")
        try:
            getattr(self, f"_{action}")(options)
        except bid_client.ClientError as exc:
            extra = {k: v for k, v in exc.params.items() if v}
            raise _fail(
                exc.code, exc.message + (f" {json.dumps(extra, ensure_ascii=False)}" if extra else "")
            ) from None
        except envelope.EnvelopeError as exc:
            raise _fail(exc.code, str(exc.message)) from None

    # --- helpers ------------------------------------------------------------------------------------

    def _password(self, options) -> str:
        if options.get("password_file"):
            try:
                lines = Path(options["password_file"]).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise _fail(
                    "password_file_unreadable", f"Cannot read the password file: {exc.strerror}."
                ) from None
            return lines[0] if lines else ""
        if os.environ.get("KEY_PASSWORD"):
            return os.environ["KEY_PASSWORD"]
        if not sys.stdin.isatty():
            raise _fail("password_missing", "Give the key password with --password-file or KEY_PASSWORD.")
        return getpass.getpass("Key password: ")

    def _key(self, options):
        return bid_client.load_key(Path(options["key"]), self._password(options))

    # --- actions ------------------------------------------------------------------------------------

    def _seal(self, options) -> None:
        out = Path(options["out"])
        if out.exists():
            raise _fail("output_exists", f"{out} already exists; choose another name.")
        manifest = bid_client.seal_to_file(
            form=_read_json(options["form"], "form"),
            document_path=Path(options["document"]),
            info=_read_json(options["recipients"], "recipients file"),
            key=self._key(options),
            out_path=out,
            content_type=options.get("content_type"),
        )
        self.stdout.write(
            f"sealed {out} ({manifest['ciphertext_size']} bytes, sha256 {manifest['ciphertext_sha256']});"
            f" manifest {out}.json"
        )

    def _submit(self, options) -> None:
        if not options.get("envelope") and not (options.get("form") and options.get("document")):
            raise _fail("arguments_missing", "Give --form and --document, or --envelope.")
        if options.get("upload_id") and not options.get("envelope"):
            raise _fail("arguments_missing", "--upload-id resumes a sealed envelope: give --envelope too.")
        key = self._key(options)
        username = options.get("username") or bid_client.keyfile_username(Path(options["key"]))
        if not username:
            raise _fail("username_missing", "Give --username (the key file does not record one).")
        ca_pem = Path(options["ca"]).read_text(encoding="ascii") if options.get("ca") else None
        client = bid_client.PlatformClient(options["url"])
        client.key_login(username=username, key=key)
        result = bid_client.submit(
            client=client,
            lot_id=options["lot"],
            key=key,
            form=_read_json(options["form"], "form") if options.get("form") else None,
            document_path=Path(options["document"]) if options.get("document") else None,
            manifest_path=Path(options["envelope"]) if options.get("envelope") else None,
            upload_id=options.get("upload_id"),
            workdir=Path(options["workdir"]) if options.get("workdir") else None,
            ca_pem=ca_pem,
            part_size=options["part_size"],
        )
        if options.get("receipt_out"):
            Path(options["receipt_out"]).write_text(
                json.dumps(result["receipt"], ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        receipt = result["receipt"]["receipt"]
        self.stdout.write(
            f"bid {result['bid_id']} received at {receipt['received_at']}"
            f" (journal {receipt['journal']['stream']} #{receipt['journal']['seq']}); receipt verified"
        )

    def _verify_receipt(self, options) -> None:
        signed = _read_json(options["receipt"], "receipt")
        manifest = bid_client.manifest_read(Path(options["envelope"])) if options.get("envelope") else None
        ca_pem = Path(options["ca"]).read_bytes()
        receipt = bid_client.receipt_check(signed, ca_pem=ca_pem, manifest=manifest)
        self.stdout.write("VALID " + envelope.canonical_json(receipt).decode("utf-8"))

    def _unwrap(self, options) -> None:
        if options.get("envelope"):
            header = bid_client.manifest_read(Path(options["envelope"]))["header"]
        elif options.get("header"):
            header = options["header"].strip()
        else:
            raise _fail("arguments_missing", "Give --envelope or --header.")
        self.stdout.write(
            bid_client.unwrap_content_key(header=header, key=self._key(options), to=options["to"])
        )
