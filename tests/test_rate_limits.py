"""Throttling that holds across gunicorn workers: counts live in Redis.

Needs the Redis server on 127.0.0.1:6379 (started by .ci/run); skipped, saying so, without it."""

from __future__ import annotations

import os

import pytest
import redis

from petition.accounts.rules import create_coordinator

from conftest import PASSWORD, csrf_from

# A Redis database number of each pytest-xdist worker's own, emptied around each test.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = f"redis://127.0.0.1:6379/{15 - _WORKER % 8}"


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (start it: redis-server --daemonize yes)")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def app_config(app_config, redis_client):
    return {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL}


def sign_in_attempt(client, csrf, password="wrong password"):
    return client.post("/coordinator/sign-in",
                       data={"email": "coord@example.org", "password": password, "csrf_token": csrf()})


def test_sign_in_attempts_are_counted_in_redis_and_refused_past_the_limit(client, csrf, coordinator, redis_client):
    statuses = [sign_in_attempt(client, csrf).status_code for _ in range(10)]
    refused = sign_in_attempt(client, csrf, password=PASSWORD)

    assert statuses == [400] * 10
    assert refused.status_code == 429
    assert "Too many requests" in refused.get_data(as_text=True)
    assert any(b"sign_in" in key for key in redis_client.scan_iter()), "the counter lives in Redis, for every worker"


# -- per account, from many addresses -------------------------------------------------------------


def from_address(client, address: str):
    """The same browser, seen as coming from another client address."""
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_guessing_one_accounts_password_from_many_addresses_is_refused_past_the_limit(client, csrf, coordinator,
                                                                                      redis_client):
    statuses = [sign_in_attempt(from_address(client, f"198.51.100.{n}"), csrf).status_code for n in range(10)]
    refused = sign_in_attempt(from_address(client, "198.51.100.200"), csrf, password=PASSWORD)

    assert statuses == [400] * 10, "each address stays under its own limit"
    assert refused.status_code == 429, "but the account's failures are counted together"
    assert "Too many requests" in refused.get_data(as_text=True)
    assert any(b"sign-in:coord@example.org" in key for key in redis_client.scan_iter())


def test_the_account_limit_counts_failures_only_so_its_owner_keeps_signing_in(app, csrf, coordinator, redis_client):
    for n in range(12):
        browser = from_address(app.test_client(), f"203.0.113.{n}")
        token = csrf_from(browser.get("/coordinator/sign-in").get_data(as_text=True))
        response = browser.post("/coordinator/sign-in",
                                data={"email": coordinator.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, n


def test_another_account_is_not_slowed_by_guesses_at_one(app, client, csrf, coordinator, platform, redis_client):
    create_coordinator("other@example.org", "Other Coordinator", PASSWORD, platform=platform)
    for n in range(10):
        sign_in_attempt(from_address(client, f"198.51.100.{n}"), csrf)

    browser = from_address(app.test_client(), "192.0.2.1")
    token = csrf_from(browser.get("/coordinator/sign-in").get_data(as_text=True))
    response = browser.post("/coordinator/sign-in",
                            data={"email": "other@example.org", "password": PASSWORD, "csrf_token": token})

    assert response.status_code == 302


# -- forgot your password -------------------------------------------------------------------------


def ask_for_reset(client, csrf, email: str):
    return client.post("/coordinator/forgot-password",
                       data={"email": email, "csrf_token": csrf("/coordinator/forgot-password")})


def test_reset_requests_for_one_address_are_refused_past_the_limit_from_any_client(client, csrf, coordinator,
                                                                                 outbox, redis_client):
    statuses = [ask_for_reset(from_address(client, f"198.51.100.{n}"), csrf, coordinator.email).status_code
                for n in range(5)]
    refused = ask_for_reset(from_address(client, "198.51.100.99"), csrf, coordinator.email.upper())

    assert statuses == [200] * 5
    assert refused.status_code == 429
    assert len(outbox.messages(to=coordinator.email, kind="password_reset")) == 5


def test_reset_requests_from_one_client_are_refused_past_the_limit_whatever_the_address(client, csrf, redis_client):
    statuses = [ask_for_reset(client, csrf, f"person{n}@example.org").status_code for n in range(20)]
    refused = ask_for_reset(client, csrf, "someone.else@example.org")

    assert statuses == [200] * 20
    assert refused.status_code == 429
