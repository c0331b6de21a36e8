"""The bidder's key client on the command line: generate a key, make a CSR, sign a login challenge.

    manage.py key_client generate --out me.key.pem [--format pem|keyfile]
    manage.py key_client csr --key me.key.pem [--out me.csr]
    manage.py key_client sign-challenge --key me.key.pem --username alice --nonce <64 hex>

The key password comes from --password-file, else the KEY_PASSWORD environment variable, else a prompt;
never from the command line, where other users could read it in the process list.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from trading import keyclient
from trading.keyclient import KeyClientError

MAX_KEY_FILE_BYTES = 64 * 1024


def _fail(code: str, message: str) -> CommandError:
    return CommandError(f"{code}: {message}")


class Command(BaseCommand):
    help = "Bidder key client: generate a P-256 key, build a certificate request, sign a login challenge."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        gen = sub.add_parser("generate", help="Generate an EC P-256 key and write it encrypted.")
        gen.add_argument("--out", required=True, help="Where to write the key (refuses to overwrite).")
        gen.add_argument(
            "--format",
            choices=["pem", "keyfile"],
            default="pem",
            help="pem: encrypted PKCS#8 PEM; keyfile: the JSON key file the browser page uses.",
        )
        gen.add_argument("--username", default="", help="Recorded in a keyfile (informational).")
        gen.add_argument("--password-file", help="Read the key password from this file's first line.")

        csr = sub.add_parser("csr", help="Build a PKCS#10 certificate request for a key.")
        csr.add_argument("--key", required=True)
        csr.add_argument("--out", help="Write the request here instead of standard output.")
        csr.add_argument(
            "--cn", default="", help="Common name inside the request (the platform replaces it)."
        )
        csr.add_argument("--password-file")

        sign = sub.add_parser("sign-challenge", help="Sign a key-login challenge; prints base64 DER.")
        sign.add_argument("--key", required=True)
        sign.add_argument("--username", required=True)
        sign.add_argument("--nonce", required=True, help="The nonce from accounts/key-login/challenge.")
        sign.add_argument("--password-file")

    def handle(self, *args, **options):
        action = options["action"]
        try:
            if action == "generate":
                self._generate(options)
            elif action == "csr":
                self._csr(options)
            else:
                self._sign(options)
        except KeyClientError as exc:
            raise _fail(exc.code, exc.message) from None

    # --- helpers ------------------------------------------------------------------------------

    def _password(self, options, *, confirm: bool = False) -> str:
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
        password = getpass.getpass("Key password: ")
        if confirm and getpass.getpass("Repeat the key password: ") != password:
            raise _fail("password_mismatch", "The two passwords differ.")
        return password

    def _load_key(self, options):
        path = Path(options["key"])
        try:
            if path.stat().st_size > MAX_KEY_FILE_BYTES:
                raise _fail("key_file_malformed", "The key file is far too large to be a key.")
            data = path.read_bytes()
        except OSError as exc:
            raise _fail("key_file_unreadable", f"Cannot read {path}: {exc.strerror}.") from None
        return keyclient.key_load(data, self._password(options))

    def _write(self, path: Path, data: bytes, *, private: bool) -> None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
        except FileExistsError:
            raise _fail("output_exists", f"{path} already exists; choose another name.") from None
        except OSError as exc:
            raise _fail("output_unwritable", f"Cannot write {path}: {exc.strerror}.") from None
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)

    # --- actions ------------------------------------------------------------------------------

    def _generate(self, options) -> None:
        password = self._password(options, confirm=True)
        keyclient.password_check(password)
        key = keyclient.key_generate()
        if options["format"] == "keyfile":
            data = keyclient.keyfile_dump(key, password, username=options["username"])
        else:
            data = keyclient.key_to_pem(key, password)
        self._write(Path(options["out"]), data, private=True)
        self.stdout.write(f"public_key_sha256 {keyclient.public_key_sha256(key)}")

    def _csr(self, options) -> None:
        pem = keyclient.csr_build(self._load_key(options), common_name=options["cn"])
        if options.get("out"):
            self._write(Path(options["out"]), pem, private=False)
        else:
            self.stdout.write(pem.decode("ascii"), ending="")

    def _sign(self, options) -> None:
        keyclient.challenge_check(nonce=options["nonce"], username=options["username"])
        key = self._load_key(options)
        self.stdout.write(keyclient.challenge_sign(key, nonce=options["nonce"], username=options["username"]))
