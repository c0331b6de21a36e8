"""Rate limits on endpoints anyone can reach: counted per address, per window, refused with a code."""

from __future__ import annotations

import pytest

from core.throttle import RateLimited, throttle_hit

pytestmark = pytest.mark.django_db


def test_the_limit_is_reached_then_the_next_window_opens_again(settings, clock):
    settings.RATE_LIMITS = {"login": "3/60"}
    clock.set(clock.current.replace(second=0, microsecond=0))
    for _ in range(3):
        throttle_hit(scope="login", key="10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        throttle_hit(scope="login", key="10.0.0.1")
    assert refused.value.code == "rate_limited" and refused.value.status == 429
    # another address is counted apart
    throttle_hit(scope="login", key="10.0.0.2")
    # the next window starts from zero
    clock.advance(seconds=60)
    throttle_hit(scope="login", key="10.0.0.1")


def test_challenge_endpoint_answers_429_json_past_its_limit(client, settings):
    settings.RATE_LIMITS = {"challenge": "2/600"}
    url = "/accounts/key-login/challenge?username=nobody"
    statuses = [client.get(url).status_code for _ in range(3)]
    assert statuses[2] == 429
    body = client.get(url).json()
    assert body["error"]["code"] == "rate_limited"


def test_password_login_is_rate_limited_per_address(client, settings):
    settings.RATE_LIMITS = {"login": "2/600"}
    for _ in range(2):
        client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    assert response.status_code == 429
    assert "rate_limited" in response.content.decode()


def test_anonymous_registration_is_rate_limited_per_address(client, settings):
    settings.RATE_LIMITS = {"register": "1/3600"}
    client.post("/registry/register/", {"name": "x"})
    response = client.post("/registry/register/", {"name": "x"})
    assert response.status_code == 429
