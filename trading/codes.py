"""Check characters of the national codes: USCC (GB 32100-2015), the unified transaction
code (统一交易标识码, ISO 7064 MOD 37-2, DOMAIN F2) and the 7-character section
classification code (DOMAIN F4). Pure functions; python-stdnum does the arithmetic.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as _uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.iso7064 import mod_37_2

from core.errors import ValidationFailed

TX_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
_TX_RE = re.compile(r"^[0-9A-Z]{18}\d{8}\d{6}[0-9A-Z*]$")
_CLASS_RE = re.compile(r"^[A-E]\d{2}[0-9A-Z]{4}$")


class InvalidCode(ValidationFailed):
    pass


def uscc_validate(value: str) -> str:
    """Return the normalised USCC or raise InvalidCode with code `uscc_*`."""
    value = (value or "").strip().upper().replace(" ", "").replace("-", "")
    try:
        return _uscc.validate(value)
    except InvalidLength:
        raise InvalidCode(_("A unified social credit code has 18 characters."), code="uscc_length") from None
    except InvalidChecksum:
        raise InvalidCode(
            _("The check character of the unified social credit code is wrong."), code="uscc_checksum"
        ) from None
    except (InvalidFormat, InvalidComponent, ValidationError):
        raise InvalidCode(
            _("This is not a well-formed unified social credit code."), code="uscc_format"
        ) from None


def uscc_make(body17: str) -> str:
    """Append the GB 32100 check character to a 17-character body."""
    return body17 + _uscc.calc_check_digit(body17)


def transaction_code_make(*, operator_uscc: str, day: dt.date, sequence: int) -> str:
    """统一交易标识码: operator USCC + yyyymmdd + 6-digit sequence + MOD 37-2 check character."""
    if not 0 < sequence < 1_000_000:
        raise InvalidCode(
            _("The daily sequence number must be between 1 and 999999."), code="txcode_sequence"
        )
    body = f"{uscc_validate(operator_uscc)}{day:%Y%m%d}{sequence:06d}"
    return body + mod_37_2.calc_check_digit(body, alphabet=TX_ALPHABET)


def transaction_code_validate(value: str) -> str:
    value = (value or "").strip().upper()
    if len(value) != 33:
        raise InvalidCode(_("A unified transaction code has 33 characters."), code="txcode_length")
    if not _TX_RE.match(value):
        raise InvalidCode(_("This is not a well-formed unified transaction code."), code="txcode_format")
    try:
        dt.date(int(value[18:22]), int(value[22:24]), int(value[24:26]))
    except ValueError:
        raise InvalidCode(
            _("The date inside the unified transaction code is not a real date."), code="txcode_date"
        ) from None
    uscc_validate(value[:18])
    if mod_37_2.calc_check_digit(value[:32], alphabet=TX_ALPHABET) != value[32]:
        raise InvalidCode(
            _("The check character of the unified transaction code is wrong."), code="txcode_checksum"
        )
    return value


CLASSIFICATION_PREFIX = {"works": "A", "goods": "B", "services": "C", "property": "D", "land": "E"}


def classification_code_validate(value: str, *, category: str | None = None) -> str:
    """标段分类代码: 7 characters, A works / B goods / C services / D property / E land + 2-digit class."""
    value = (value or "").strip().upper()
    if not _CLASS_RE.match(value):
        raise InvalidCode(
            _("A section classification code is a letter A–E followed by 6 characters, e.g. A01xxxx."),
            code="classification_format",
        )
    if category and CLASSIFICATION_PREFIX.get(category) != value[0]:
        raise InvalidCode(
            _("The classification code does not match the tender category."), code="classification_category"
        )
    return value
