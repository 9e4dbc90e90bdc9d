"""The Vitally sync's settings, read at call time (tests and the benchmark override them)."""

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from vitally_sync.payloads import config_fingerprint, trait_map_resolve


@dataclass(frozen=True)
class SyncConfig:
    base_url: str
    api_key: str
    rate_limit_per_minute: int
    trait_map: dict[str, str]
    connect_timeout: float
    read_timeout: float
    backoff_base: float
    backoff_cap: float
    lease_seconds: float
    coalesce_seconds: float
    sweep_seconds: float
    redis_url: str
    quarantine_after: int = 10
    key_probe_seconds: float = 60.0
    reconcile_seconds: float = 21600.0  # 0: never read Vitally back on a schedule
    reconcile_share: float = 0.1  # of rate_limit_per_minute, at most, for reading back
    error: str = ""  # a setting that cannot be used (the system check reports it too)

    @property
    def enabled(self) -> bool:
        """Off (the UI says "not configured") until both the URL and the key are set, and
        while a setting is unusable: better nothing than wrong traits."""
        return bool(self.base_url and self.api_key and not self.error)

    @property
    def key_fingerprint(self) -> str:
        """Tells API keys apart without storing one: an auth failure is tied to the key that
        caused it, so replacing the key retries the accounts it failed."""
        return hashlib.sha256(self.api_key.encode()).hexdigest()[:16] if self.api_key else ""

    @property
    def fingerprint(self) -> str:
        """The trait map and value formats: accounts acknowledged under another are due."""
        return config_fingerprint(self.trait_map)

    @property
    def request_seconds(self) -> float:
        """The longest one request can take: a lease renewed before sending covers it."""
        return self.connect_timeout + self.read_timeout

    @property
    def reconcile_per_minute(self) -> float:
        """Reads back per minute at most: the reconcile's share of the rate limit."""
        return self.rate_limit_per_minute * self.reconcile_share

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc


def sync_config() -> SyncConfig:
    try:
        trait_map, error = trait_map_resolve(settings.VITALLY_TRAIT_MAP), ""
    except (ValueError, TypeError) as problem:
        trait_map, error = {}, f"VITALLY_TRAIT_MAP is invalid: {problem}"
    return SyncConfig(
        base_url=settings.VITALLY_BASE_URL.rstrip("/"),
        api_key=settings.VITALLY_API_KEY,
        rate_limit_per_minute=max(1, int(settings.VITALLY_RATE_LIMIT_PER_MINUTE)),
        trait_map=trait_map,
        connect_timeout=float(settings.VITALLY_CONNECT_TIMEOUT),
        read_timeout=float(settings.VITALLY_READ_TIMEOUT),
        backoff_base=float(settings.VITALLY_BACKOFF_BASE_SECONDS),
        backoff_cap=float(settings.VITALLY_BACKOFF_CAP_SECONDS),
        lease_seconds=float(settings.VITALLY_LEASE_SECONDS),
        coalesce_seconds=float(settings.VITALLY_COALESCE_SECONDS),
        sweep_seconds=float(settings.VITALLY_SWEEP_SECONDS),
        redis_url=settings.REDIS_URL,
        quarantine_after=max(1, int(settings.VITALLY_QUARANTINE_AFTER)),
        key_probe_seconds=max(1.0, float(settings.VITALLY_KEY_PROBE_SECONDS)),
        reconcile_seconds=max(0.0, float(settings.VITALLY_RECONCILE_SECONDS)),
        # Out of (0, 1]: the system check says so; reads then stay at the smallest share.
        reconcile_share=min(1.0, max(0.001, float(settings.VITALLY_RECONCILE_SHARE))),
        error=error,
    )
