"""Secure defaults: content-security policy with nonces, session cookie flags, CSRF, Argon2.

The URLconf of this module is the real one plus one probe view that uses the CSP nonce and
the session, because no production page needs inline script or an anonymous session.
"""

from __future__ import annotations

import importlib
import re

import pytest
from django.http import HttpResponse
from django.template import engines
from django.test import Client
from django.urls import path

import config.urls

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.test_security")]


def probe(request):
    request.session["seen"] = True  # makes SessionMiddleware set the session cookie
    template = engines["django"].from_string(
        '<script nonce="{{ csp_nonce }}">var ok = 1;</script><form method="post">{% csrf_token %}</form>'
    )
    return HttpResponse(template.render({}, request))


urlpatterns = [path("_probe/", probe), *config.urls.urlpatterns]


def directives(header: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


def test_a_public_page_carries_a_strict_content_security_policy(client):
    # when
    response = client.get("/announcements/")

    # then
    assert response.status_code == 200
    csp = directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]


def test_the_nonce_in_the_header_is_the_one_the_page_uses_and_changes_per_response(client):
    # when
    first = client.get("/_probe/")
    second = client.get("/_probe/")

    # then
    nonces = []
    for response in (first, second):
        script_src = directives(response["Content-Security-Policy"])["script-src"]
        in_page = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
        assert f"'nonce-{in_page}'" in script_src
        nonces.append(in_page)
    assert nonces[0] != nonces[1]
    assert len(nonces[0]) >= 16


def test_other_security_headers(client):
    response = client.get("/healthz")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_samesite_lax(client):
    # when a response starts a session
    response = client.get("/_probe/")

    # then
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_cookies_are_secure_by_default_in_the_real_settings(monkeypatch):
    # given no environment override (tests/conftest.py relaxes them for the test client)
    monkeypatch.delenv("SECURE_COOKIES", raising=False)
    import config.settings as real

    real = importlib.reload(real)
    try:
        # then
        assert real.SESSION_COOKIE_SECURE is True
        assert real.CSRF_COOKIE_SECURE is True
        assert real.SESSION_COOKIE_HTTPONLY is True
        assert real.SESSION_COOKIE_SAMESITE == "Lax"
    finally:
        importlib.reload(real)


def test_csrf_is_enforced_on_post():
    # given a browser that does not send the token
    browser = Client(enforce_csrf_checks=True)

    # when
    response = browser.post("/i18n/setlang/", {"language": "en", "next": "/"})

    # then
    assert response.status_code == 403


def test_post_with_the_csrf_token_is_accepted():
    # given a browser that got the token with a form
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/_probe/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    # when
    response = browser.post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": token})

    # then
    assert response.status_code == 302


def test_argon2_is_the_first_password_hasher_of_the_real_settings():
    # tests/conftest.py swaps in MD5 for speed, so read the settings module itself
    from django.contrib.auth.hashers import Argon2PasswordHasher

    import config.settings as real

    assert real.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    hasher = Argon2PasswordHasher()
    encoded = hasher.encode("correct horse battery", hasher.salt())  # the library is installed
    assert encoded.startswith("argon2$argon2id$")
    assert hasher.verify("correct horse battery", encoded)
