"""Chinese is the default language and the catalogue is complete and compiled."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _unescape(text: str) -> str:
    return re.sub(r'\\(["\\nt])', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def _po_entries() -> list[tuple[str, str]]:
    text = PO.read_text()
    entries = []
    for block in text.split("\n\n"):
        if "#, fuzzy" in block and 'msgid ""\nmsgstr ""' not in block:
            entries.append(("FUZZY", ""))
        ctx = re.search(r'^msgctxt "(.*)"', block, re.M)
        m = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        s = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if not m or not s:
            continue
        msgid = _unescape("".join(re.findall(r'"(.*)"', m.group(1))))
        msgstr = _unescape("".join(re.findall(r'"(.*)"', s.group(1))))
        if msgid:
            # gettext keys a message with a context as "context\x04msgid"
            entries.append(((ctx.group(1) + "\x04" if ctx else "") + msgid, msgstr))
    return entries


def test_default_language_is_simplified_chinese():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert dict(settings.LANGUAGES).keys() == {"zh-hans", "en"}


def test_every_message_has_a_chinese_translation():
    entries = _po_entries()
    assert len(entries) > 500
    missing = [msgid for msgid, msgstr in entries if not msgstr]
    assert missing == []


def test_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as fh:
        catalogue = gettext.GNUTranslations(fh)
    entries = _po_entries()
    # every singular msgid of the .po file is in the compiled .mo with the same translation
    compiled = catalogue._catalog  # the parsed table of the .mo file
    singular = {k: v for k, v in compiled.items() if isinstance(k, str)}
    stale = [msgid for msgid, msgstr in entries if msgid in singular and singular[msgid] != msgstr]
    absent = [msgid for msgid, _ in entries if msgid not in singular and (msgid, 0) not in compiled]
    assert absent == [] and stale == []


def test_a_domain_error_message_is_translated():
    from trading.services.accounts import LoginFailed

    with translation.override("zh-hans"):
        assert str(LoginFailed().message) != "Wrong user name or password."
    with translation.override("en"):
        assert str(LoginFailed().message) == "Wrong user name or password."


# makemessages (xgettext) extracts only the standard names: `_`, gettext, gettext_lazy, pgettext, … A
# translation function imported under another alias (`gettext_lazy as _l`) marks strings that are never
# extracted, so they stay English whatever the catalogue says.
_STANDARD = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext", "ngettext_lazy"}
_ALIAS = re.compile(r"from django\.utils\.translation import [^\n]*?\b(\w*gettext\w*) as (\w+)")


def test_translation_functions_keep_names_makemessages_extracts():
    base = Path(settings.BASE_DIR)
    odd = []
    for path in base.glob("*/**/*.py"):
        if path.parts[len(base.parts)] in {".venv", "tests", "var", "node_modules"}:
            continue
        for _func, alias in _ALIAS.findall(path.read_text(encoding="utf-8")):
            if alias not in _STANDARD:
                odd.append(f"{path.relative_to(base)}: {alias}")
    assert odd == []
