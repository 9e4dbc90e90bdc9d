"""The HTTP client against the fake on loopback: outcomes, waits, and no secrets in logs."""

import base64
import email.utils
import logging

import pytest

from tests.vitally_sync.conftest import free_port
from vitally_sync.client import DEFAULT_RATE_LIMIT_WAIT, Kind, VitallyClient, rate_limit_wait
from vitally_sync.fake import FakeVitally, Scripted

KEY = "sk_live_very_secret_0123"


@pytest.fixture
def fake():
    fake = FakeVitally(api_key=KEY, seed_accounts=[{"externalId": "acme", "name": "Acme"}])
    fake.start()
    yield fake
    fake.stop()


def client_for(fake, key=KEY, **kwargs):
    return VitallyClient(base_url=fake.url + "/", api_key=key, **kwargs)


def test_put_sends_traits_with_basic_auth_and_json(fake):
    result = client_for(fake).account_update(account_key="acme", traits={"a": 1, "b": None})
    assert result.kind is Kind.OK and result.http_status == 200
    assert result.body["traits"] == {"a": 1}
    (put,) = fake.puts("acme")
    assert put["body"] == {"traits": {"a": 1, "b": None}}


def test_account_keys_are_quoted_into_the_path(fake):
    fake.account_create(external_id="acme:eu/1", name="Odd")
    result = client_for(fake).account_update(account_key="acme:eu/1", traits={"a": 1})
    assert result.ok
    assert fake.puts()[-1]["path"] == "/resources/accounts/acme%3Aeu%2F1"
    assert fake.account_get("acme:eu/1")["traits"] == {"a": 1}


@pytest.mark.parametrize(
    "status, kind, words",
    [
        (400, Kind.FAILED, "Vitally rejected the data (HTTP 400). Vitally said: “bad trait”"),
        (401, Kind.FAILED, "check the Vitally API key"),
        (403, Kind.FAILED, "HTTP 403"),
        (404, Kind.FAILED, "Vitally has no account “acme” (HTTP 404): check the account's"),
        (409, Kind.FAILED, "HTTP 409"),
        (408, Kind.TRANSIENT, "HTTP 408"),
        (500, Kind.TRANSIENT, "Vitally had an error (HTTP 500)."),
        (503, Kind.TRANSIENT, "HTTP 503"),
        (429, Kind.RATE_LIMITED, "rate limit"),
    ],
)
def test_status_codes_are_classified(fake, status, kind, words):
    fake.script(Scripted(status, body={"message": "bad trait"}))
    result = client_for(fake).account_update(account_key="acme", traits={"a": 1})
    assert result.kind is kind
    assert result.http_status == status
    assert words in result.message


def test_real_401_from_a_wrong_key_says_check_the_key(fake):
    result = client_for(fake, key="sk_wrong").account_update(account_key="acme", traits={})
    assert result.auth_failed
    assert result.message.startswith("Vitally refused the API key (HTTP 401): check the Vitally")
    assert "Authorization header not present." in result.message


def test_unknown_account_is_a_404_failure_naming_the_id(fake):
    result = client_for(fake).account_update(account_key="ghost", traits={})
    assert result.kind is Kind.FAILED
    assert "Vitally has no account “ghost” (HTTP 404)" in result.message


def test_timeouts_and_connection_errors_are_transient(fake):
    fake.timeout_rate, fake.timeout_seconds = 1.0, 2.0
    slow = client_for(fake, read_timeout=0.3).account_update(account_key="acme", traits={})
    assert (slow.kind, slow.http_status) == (Kind.TRANSIENT, None)
    assert "did not answer within 0.3 s" in slow.message
    fake.timeout_rate, fake.close_rate = 0.0, 1.0
    closed = client_for(fake).account_update(account_key="acme", traits={})
    assert closed.kind is Kind.TRANSIENT and "Could not connect" in closed.message
    refused = VitallyClient(base_url=f"http://127.0.0.1:{free_port()}", api_key=KEY)
    result = refused.account_update(account_key="acme", traits={})
    assert result.kind is Kind.TRANSIENT and "Could not connect to Vitally" in result.message


def test_custom_fields(fake):
    result = client_for(fake).custom_fields()
    assert result.ok and isinstance(result.body, list)
    assert fake.requests_log()[-1]["query"] == {"model": "accounts"}


NOW = 1_750_000_000.0


@pytest.mark.parametrize(
    "headers, seconds",
    [
        ({"Retry-After": "2"}, 2),
        ({"Retry-After": "2", "RateLimit-Reset": "50"}, 2),  # Retry-After wins
        ({"Retry-After": email.utils.formatdate(NOW + 30, usegmt=True)}, 30),
        ({"RateLimit-Reset": "17"}, 17),  # the documented header: seconds
        ({"X-RateLimit-Reset": "12"}, 12),  # seconds
        ({"X-RateLimit-Reset": str(int(NOW + 40))}, 40),  # a Unix time (K1, K8)
        ({"X-RateLimit-Reset": str(int((NOW + 25) * 1000))}, 25),  # a Unix time in ms
        ({"Retry-After": "soon"}, DEFAULT_RATE_LIMIT_WAIT),
        ({}, DEFAULT_RATE_LIMIT_WAIT),
        ({"Retry-After": "-5"}, 0),
        ({"Retry-After": "999999"}, 3600),
    ],
)
def test_rate_limit_wait_reads_every_header_spelling(headers, seconds):
    assert rate_limit_wait(headers, now=NOW) == pytest.approx(seconds, abs=1)


def test_429_result_carries_the_wait(fake):
    fake.script(Scripted(429, {"RateLimit-Reset": "7"}))
    result = client_for(fake).account_update(account_key="acme", traits={})
    assert result.kind is Kind.RATE_LIMITED and result.wait_seconds == 7


def test_the_api_key_and_authorization_header_never_reach_the_logs(fake, caplog):
    caplog.set_level(logging.DEBUG)  # everything, urllib3's connection logs included
    client = client_for(fake)
    client.account_update(account_key="acme", traits={"a": 1})
    fake.script(Scripted(500))
    client.account_update(account_key="acme", traits={"a": 1})
    client_for(fake, key=KEY + "x").account_update(account_key="acme", traits={})
    fake.close_rate = 1.0
    client.account_update(account_key="acme", traits={})
    assert "Vitally PUT /resources/accounts/acme -> 200" in caplog.text
    assert "-> 401" in caplog.text and "-> 500" in caplog.text
    encoded = base64.b64encode(f"{KEY}:".encode()).decode()
    for secret in (KEY, encoded, "Authorization:", "Basic "):
        assert secret not in caplog.text
    assert KEY not in repr(client)
