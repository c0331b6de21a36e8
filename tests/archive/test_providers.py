"""The provider registry of archival packages: every app's items under its own folder, nothing
ambiguous let through."""

from __future__ import annotations

import pytest

from archive import providers
from archive.providers import Item, collect, register
from core.errors import DomainError


@pytest.fixture
def clean_registry(monkeypatch):
    monkeypatch.setattr(providers, "_providers", {})


def _code(project: str) -> str:
    with pytest.raises(DomainError) as info:
        collect(project)
    return info.value.code


def test_items_are_collected_under_their_providers_folder_in_path_order(clean_registry):
    register("zeta", lambda p: [Item("b.json", "application/json", data=b"{}")] if p == "tender:1" else [])
    register("alpha", lambda p: [Item("x/a.pdf", "application/pdf", blob="a" * 64)])
    paths = [path for path, _item in collect("tender:1")]
    assert paths == ["alpha/x/a.pdf", "zeta/b.json"]
    assert [path for path, _item in collect("tender:2")] == ["alpha/x/a.pdf"]
    register("zeta", lambda p: [])  # re-registering replaces
    assert providers.registered() == ["alpha", "zeta"]


@pytest.mark.parametrize(
    ("item", "code"),
    [
        (Item("../etc/passwd", "text/plain", data=b"x"), "archive_path_invalid"),
        (Item("/abs.json", "application/json", data=b"x"), "archive_path_invalid"),
        (Item("Upper.json", "application/json", data=b"x"), "archive_path_invalid"),
        (Item("a//b.json", "application/json", data=b"x"), "archive_path_invalid"),
        (Item("a.json", "application/json"), "archive_item_invalid"),
        (Item("a.json", "application/json", data=b"x", blob="a" * 64), "archive_item_invalid"),
        (Item("a.json", "application/json", blob="nothex"), "archive_item_invalid"),
        (Item("a.json", "", data=b"x"), "archive_item_invalid"),
    ],
)
def test_an_ambiguous_or_unsafe_item_is_refused(clean_registry, item, code):
    register("app", lambda p: [item])
    assert _code("tender:1") == code


def test_two_items_at_one_path_are_refused(clean_registry):
    register(
        "app",
        lambda p: [
            Item("a.json", "application/json", data=b"1"),
            Item("a.json", "application/json", data=b"2"),
        ],
    )
    assert _code("tender:1") == "archive_path_duplicate"


def test_provider_names_are_identifiers(clean_registry):
    with pytest.raises(ValueError):
        register("../x", lambda p: [])


def test_monitoring_registers_its_provider():
    assert "monitoring" in providers.registered()
