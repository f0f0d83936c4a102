"""Throttling that holds across gunicorn workers: counts live in Redis.

Needs the Redis server on 127.0.0.1:6379 (started by .ci/run); skipped, saying so, without it."""

from __future__ import annotations

import os

import pytest
import redis

from conftest import PASSWORD

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
