"""Vitally's REST API over HTTP, and nothing else: no ORM, no settings, no waiting.

Every call returns a `Result` that says what to do next (done, wait for the rate limit, back
off, or stop and show the reason); the caller owns the waiting. The API key travels only in
the Authorization header built by requests; neither is ever logged or put in a message.
"""

import email.utils
import logging
import math
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

import requests

logger = logging.getLogger(__name__)

# When a 429 carries no usable header, wait this long (vitally-api.md §2: "fall back to 60 s").
DEFAULT_RATE_LIMIT_WAIT = 60.0
# A header asking for more than an hour is not believed.
MAX_RATE_LIMIT_WAIT = 3600.0


class Kind(StrEnum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"  # 429: nobody may call before `wait_seconds`
    TRANSIENT = "transient"  # 5xx, 408, timeouts, connection errors: back off and retry
    FAILED = "failed"  # 400/401/403/404 and other 4xx: stop until fixed or retried by hand


@dataclass(frozen=True)
class Result:
    kind: Kind
    http_status: int | None
    message: str  # for people; never contains the key
    body: Any = None
    wait_seconds: float | None = None  # RATE_LIMITED only
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.kind is Kind.OK

    @property
    def auth_failed(self) -> bool:
        """The key is refused (401) or lacks the permission (403): a state of the key, not of
        the account."""
        return self.kind is Kind.FAILED and self.http_status in (401, 403)


def rate_limit_wait(headers: Any, *, now: float | None = None) -> float:
    """Seconds to wait after a 429, from the first header that says: Retry-After (seconds or
    an HTTP date), RateLimit-Reset (seconds, the documented one), X-RateLimit-Reset (seconds,
    or a Unix time in s or ms as some clients read it). 60 s when none does."""
    now = time.time() if now is None else now

    def get(name: str) -> str | None:
        value = headers.get(name) if headers is not None else None
        return value.strip() if isinstance(value, str) and value.strip() else None

    def number(text: str) -> float | None:
        try:
            value = float(text.split(",")[0].split(";")[0])
        except ValueError:
            return None
        return value if math.isfinite(value) else None

    candidates: list[float] = []
    if (retry_after := get("Retry-After")) is not None:
        seconds = number(retry_after)
        if seconds is None:
            try:
                seconds = email.utils.parsedate_to_datetime(retry_after).timestamp() - now
            except (TypeError, ValueError):
                seconds = None
        if seconds is not None:
            candidates.append(seconds)
    if not candidates and (reset := get("RateLimit-Reset")) is not None:
        seconds = number(reset)
        if seconds is not None:
            candidates.append(seconds)
    if not candidates and (reset := get("X-RateLimit-Reset")) is not None:
        value = number(reset)
        if value is not None:
            if value > 1e12:  # a Unix time in milliseconds
                value = value / 1000 - now
            elif value > 1e9:  # a Unix time in seconds
                value = value - now
            candidates.append(value)
    if not candidates:
        return DEFAULT_RATE_LIMIT_WAIT
    return min(max(candidates[0], 0.0), MAX_RATE_LIMIT_WAIT)


def _error_text(body: Any) -> str:
    """Vitally's error bodies say `error` or `message` (vitally-api.md §2)."""
    if isinstance(body, dict):
        for key in ("error", "message"):
            if isinstance(body.get(key), str):
                return body[key][:300]
    return ""


def _failure_message(status: int, body: Any, account_key: str | None) -> str:
    said = _error_text(body)
    detail = f" Vitally said: “{said}”" if said else ""
    if status == 401:
        return f"Vitally refused the API key (HTTP 401): check the Vitally API key.{detail}"
    if status == 403:
        return f"Vitally refused access (HTTP 403): check the API key's permissions.{detail}"
    if status == 404:
        if not account_key:
            return f"Vitally has no such resource (HTTP 404).{detail}"
        return (
            f"Vitally has no account “{account_key}” (HTTP 404): check the account's Vitally "
            f"account id.{detail}"
        )
    if status == 400:
        return f"Vitally rejected the data (HTTP 400).{detail}"
    return f"Vitally refused the request (HTTP {status}).{detail}"


def classify(
    status: int, headers: Any, body: Any, *, account_key: str | None = None, now=None
) -> Result:
    if 200 <= status < 300:
        said = _error_text(body) if isinstance(body, dict) and "error" in body else ""
        if said:
            # Not an acknowledgement: whether anything was applied is unknown, so it is retried.
            return Result(
                Kind.TRANSIENT, status, f"Vitally answered {status} with an error: “{said}”", body
            )
        return Result(Kind.OK, status, "Accepted by Vitally.", body)
    if status == 429:
        wait = rate_limit_wait(headers, now=now)
        return Result(
            Kind.RATE_LIMITED,
            status,
            f"Vitally's rate limit was reached (HTTP 429); no request before {wait:.0f} s.",
            body,
            wait_seconds=wait,
        )
    if status >= 500 or status == 408:
        return Result(Kind.TRANSIENT, status, f"Vitally had an error (HTTP {status}).", body)
    return Result(Kind.FAILED, status, _failure_message(status, body, account_key), body)


class VitallyClient:
    """One API key against one base URL (e.g. https://acme.rest.vitally.io)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
    ):
        self.base_url = base_url.rstrip("/")
        self._auth = (api_key, "")  # Basic: the key as user name, an empty password
        self.timeout = (connect_timeout, read_timeout)
        self._session = requests.Session()
        self._session.headers.update(
            {"Accept": "application/json", "User-Agent": "handoff-vitally-sync/1"}
        )

    def __repr__(self) -> str:
        return f"<VitallyClient {urlsplit(self.base_url).netloc}>"

    def close(self) -> None:
        self._session.close()

    def account_update(self, *, account_key: str, traits: dict[str, Any]) -> Result:
        """PUT /resources/accounts/:idOrExternalId {"traits": ...}: a shallow merge in
        Vitally, null deletes a trait."""
        path = f"/resources/accounts/{quote(account_key, safe='')}"
        return self.request("PUT", path, json={"traits": traits}, account_key=account_key)

    def account_get(self, *, account_key: str) -> Result:
        """GET /resources/accounts/:idOrExternalId: the account with its traits."""
        path = f"/resources/accounts/{quote(account_key, safe='')}"
        return self.request("GET", path, account_key=account_key)

    def custom_fields(self, *, model: str = "accounts") -> Result:
        """GET /resources/customFields?model=accounts: a bare array of {label, path, type}."""
        return self.request("GET", "/resources/customFields", params={"model": model})

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        account_key: str | None = None,
    ) -> Result:
        started = time.monotonic()
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                json=json,
                params=params,
                auth=self._auth,
                timeout=self.timeout,
            )
        except requests.Timeout:
            result = Result(
                Kind.TRANSIENT, None, f"Vitally did not answer within {self.timeout[1]:g} s."
            )
        except requests.ConnectionError:
            result = Result(
                Kind.TRANSIENT, None, f"Could not connect to Vitally at {self._host()}."
            )
        except requests.RequestException as error:
            result = Result(
                Kind.TRANSIENT, None, f"The request to Vitally failed ({type(error).__name__})."
            )
        else:
            try:
                body = response.json() if response.content else None
            except ValueError:
                body = None
            result = classify(response.status_code, response.headers, body, account_key=account_key)
        duration_ms = int((time.monotonic() - started) * 1000)
        result = Result(
            result.kind,
            result.http_status,
            result.message,
            result.body,
            result.wait_seconds,
            duration_ms,
        )
        # Method, path and outcome only: never headers (Authorization) nor the key.
        logger.log(
            logging.INFO if result.ok else logging.WARNING,
            "Vitally %s %s -> %s in %d ms%s",
            method,
            path,
            result.http_status or result.kind.value,
            duration_ms,
            "" if result.ok else f": {result.message}",
        )
        return result

    def _host(self) -> str:
        return urlsplit(self.base_url).netloc
