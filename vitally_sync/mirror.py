"""The mirror: Vitally's accounts, pulled into `VitallyAccount` for the search and the import.

A pass reads `GET /resources/accounts` newest `updatedAt` first, 100 a page, following the
cursor. An incremental pass stops at the first account older than the watermark (the newest
`updatedAt` the last completed pass saw); a full pass reads every page and then removes the
mirrored accounts it did not see (deleted or churned in Vitally).

Requests go through the shared rate limiter and honour the API key's durable state (a 429's
wait, a refused key), like pushes and reads back; a pacer of its own keeps the pull within
VITALLY_MIRROR_SHARE of VITALLY_RATE_LIMIT_PER_MINUTE. A page is idempotent to read, so a page
whose answer was lost (a timeout, a closed connection, a 5xx) is read again with the same cursor;
a pass that stops (out of time, a long 429) keeps its cursor in `MirrorState` and the next run
goes on from there. The watermark moves only when a pass completes, so an account changed while
a pass ran is read by the next one.

Known limit: a cursor that counts positions (as the fake's does) can skip an account that moved
to the front while a pass ran past it; the next full pass (VITALLY_MIRROR_FULL_SECONDS) sees it.
"""

import datetime
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from vitally_sync.client import Kind, VitallyClient
from vitally_sync.conf import SyncConfig, sync_config
from vitally_sync.limiter import (
    PREFIX,
    LocalRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    limiter_get,
)
from vitally_sync.models import MirrorState, VitallyAccount
from vitally_sync.services import (
    AGAIN,
    backoff_seconds,
    client_get,
    pass_answered,
    pass_may_go_on,
    pass_slot,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 100  # Vitally's maximum (vitally-api.md §2)
MIRROR_PREFIX = f"{PREFIX}:mirror"
ADMIN_FIELDS = ("accountOwnerId", "csmId", "accountExecutiveId")
TRANSIENT_TRIES = 5  # a page that fails this many times in a row ends the run (the next resumes)


@lru_cache(maxsize=4)
def _pacer_for(redis_url: str) -> RateLimiter:
    return RedisRateLimiter(redis_url, prefix=MIRROR_PREFIX) if redis_url else LocalRateLimiter()


def pacer_get(redis_url: str) -> RateLimiter:
    """The pull's own pace (its share of the rate limit), shared through Redis when set."""
    return _pacer_for(redis_url or "")


def mirror_per_minute(config: SyncConfig) -> float:
    share = min(1.0, max(0.001, float(settings.VITALLY_MIRROR_SHARE)))
    return config.rate_limit_per_minute * share


def _when(text) -> datetime.datetime | None:
    parsed = parse_datetime(text) if isinstance(text, str) else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, datetime.UTC)
    return parsed


@dataclass
class PullReport:
    enabled: bool = True
    off_reason: str = ""
    full: bool = False
    pages: int = 0
    saved: int = 0  # accounts written to the mirror
    removed: int = 0  # mirrored accounts a completed full pass did not see
    retries: int = 0  # pages read again after a lost answer or a 5xx
    rate_limited: int = 0
    completed: bool = False
    stopped: str = ""  # why the run ended before the pass did (the next run goes on)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.enabled:
            return f"Vitally accounts pull: {self.off_reason}"
        kind = "full" if self.full else "incremental"
        parts = [f"{self.pages} page{'s' if self.pages != 1 else ''}", f"{self.saved} saved"]
        if self.removed:
            parts.append(f"{self.removed} removed (no longer in Vitally)")
        if self.retries:
            parts.append(f"{self.retries} page{'s' if self.retries != 1 else ''} read again")
        if self.rate_limited:
            parts.append(f"{self.rate_limited} × 429")
        tail = "complete" if self.completed else f"stopped: {self.stopped}"
        return (
            f"Vitally accounts pull ({kind}) in {self.seconds:.1f} s: {', '.join(parts)}; {tail}."
        )


def _state(config: SyncConfig) -> MirrorState:
    state, _ = MirrorState.objects.get_or_create(base_url=config.base_url)
    return state


def mirror_rows_save(results: list, *, trait_keys: set[str], seen_at) -> int:
    """Upsert one page's accounts (one statement): id, externalId, name, the mapped traits."""
    rows = []
    for item in results:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        updated = _when(item.get("updatedAt")) or seen_at
        traits = item["traits"] if isinstance(item.get("traits"), dict) else {}
        rows.append(
            VitallyAccount(
                vitally_id=str(item["id"])[:100],
                external_id=str(item.get("externalId") or "")[:200],
                name=str(item.get("name") or item.get("externalId") or item["id"])[:300],
                traits={k: v for k, v in traits.items() if k in trait_keys and v is not None},
                admin_ids=[
                    str(item[name])
                    for name in ADMIN_FIELDS
                    if isinstance(item.get(name), str) and item[name]
                ],
                vitally_updated_at=updated,
                last_seen_at=seen_at,
            )
        )
    VitallyAccount.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["vitally_id"],
        update_fields=[
            "external_id",
            "name",
            "traits",
            "admin_ids",
            "vitally_updated_at",
            "last_seen_at",
        ],  # fmt: skip
    )
    return len(rows)


def mirror_pull(
    *,
    full: bool = False,
    config: SyncConfig | None = None,
    budget: float = math.inf,
    max_wait: float = 5.0,
    wait_pauses: bool = True,
    client: VitallyClient | None = None,
    limiter: RateLimiter | None = None,
    pacer: RateLimiter | None = None,
    progress: Callable[[PullReport], None] | None = None,
    sleep=time.sleep,
) -> PullReport:
    """Pull Vitally's accounts into the mirror: incremental (stop at the watermark) or `full`.

    Goes on with a pass a previous run left under way (its cursor) when it is of the kind asked
    for, or a full one (a full pass covers an incremental). `wait_pauses` (the command) waits a
    429 out; without it (beat) the run stops and the next one resumes. `progress` is called
    after each page."""
    config = config or sync_config()
    report = PullReport(full=full)
    if not config.enabled:
        report.enabled, report.off_reason = False, "the Vitally sync is not configured."
        return report
    client = client or client_get(config)
    limiter = limiter or limiter_get(config.redis_url)
    pacer = pacer or pacer_get(config.redis_url)
    trait_keys = set(config.trait_map.values())
    started = time.monotonic()
    deadline = started + budget
    state = _state(config)
    if state.pass_started_at is None or (full and not state.pass_full):
        state.pass_full, state.pass_cursor, state.pass_top = full, "", None
        state.pass_started_at = timezone.now()
        state.save(update_fields=["pass_full", "pass_cursor", "pass_top", "pass_started_at"])
    report.full = state.pass_full
    failures = 0
    while True:
        stop = pass_may_go_on(
            config=config, limiter=limiter, deadline=deadline, wait_pauses=wait_pauses, sleep=sleep
        )
        if stop:
            report.stopped = stop
            break
        slot = pass_slot(
            config=config,
            limiter=limiter,
            pacer=pacer,
            pace_per_minute=mirror_per_minute(config),
            pace_name="pull",
            deadline=deadline,
            max_wait=max_wait,
            sleep=sleep,
        )
        if slot == AGAIN:
            continue
        if slot:
            report.stopped = slot
            break
        params = {"limit": str(PAGE_SIZE), "sortBy": "updatedAt"}
        if state.pass_cursor:
            params["from"] = state.pass_cursor
        result = client.request("GET", "/resources/accounts", params=params)
        answered = pass_answered(config=config, limiter=limiter, result=result)
        if answered == AGAIN:  # a 429: the gate waits it out or stops
            report.rate_limited += 1
            continue
        if answered:
            report.stopped = answered
            break
        body = result.body if isinstance(result.body, dict) else {}
        results = body.get("results")
        if result.kind is not Kind.OK or not isinstance(results, list):
            message = result.message if result.kind is not Kind.OK else "no results list"
            report.problems.append(message)
            failures += 1
            if result.kind is Kind.FAILED or failures >= TRANSIENT_TRIES:
                report.stopped = f"Vitally did not give the page: {message}"
                break
            report.retries += 1
            sleep(backoff_seconds(attempts=failures, base=config.backoff_base, cap=5.0))
            continue  # the same cursor: reading a page twice changes nothing
        failures = 0
        report.pages += 1
        newest = [
            moment
            for item in results
            if isinstance(item, dict) and (moment := _when(item.get("updatedAt"))) is not None
        ]
        # Incremental: the accounts not older than the watermark (equal ones again: an account
        # changed in the same millisecond as the watermark's may not have been seen).
        if not state.pass_full and state.watermark is not None:
            keep = [
                item
                for item in results
                if isinstance(item, dict)
                and (_when(item.get("updatedAt")) or state.watermark) >= state.watermark
            ]
            reached = len(keep) < len(results)
        else:
            keep, reached = results, False
        next_cursor = body["next"] if isinstance(body.get("next"), str) else ""
        with transaction.atomic():
            report.saved += mirror_rows_save(
                keep, trait_keys=trait_keys, seen_at=state.pass_started_at
            )
            if newest and (state.pass_top is None or max(newest) > state.pass_top):
                state.pass_top = max(newest)
            done = reached or not next_cursor
            if done:
                if state.pass_full:
                    report.removed, _ = VitallyAccount.objects.filter(
                        last_seen_at__lt=state.pass_started_at
                    ).delete()
                    state.last_full_at = timezone.now()
                state.watermark = state.pass_top or state.watermark
                state.last_pull_at = timezone.now()
                state.pass_started_at, state.pass_cursor, state.pass_top = None, "", None
                state.last_error = ""
            else:
                state.pass_cursor = next_cursor
            state.save()
        if progress:
            progress(report)
        if done:
            report.completed = True
            break
    if not report.completed and (report.problems or report.rate_limited or report.stopped):
        MirrorState.objects.filter(pk=state.pk).update(
            last_error=report.stopped, last_error_at=timezone.now()
        )
    report.seconds = time.monotonic() - started
    return report


def mirror_pull_scheduled(*, budget: float) -> PullReport:
    """Beat: a full pass when the last one is older than VITALLY_MIRROR_FULL_SECONDS (or none
    ever completed), else an incremental one; within `budget`, never waiting a 429 out."""
    config = sync_config()
    full = False
    if config.enabled:
        state = _state(config)
        age = float(settings.VITALLY_MIRROR_FULL_SECONDS)
        full = state.last_full_at is None or (
            age > 0 and timezone.now() - state.last_full_at > datetime.timedelta(seconds=age)
        )
    return mirror_pull(full=full, config=config, budget=budget, wait_pauses=False)


# --- what the pages say about the mirror ----------------------------------------------------
@dataclass(frozen=True)
class MirrorStatus:
    """How current the mirror is, for the import page and the account form's search."""

    configured: bool
    every_minutes: int  # how often the scheduled pull runs (0: never)
    last_pull_at: datetime.datetime | None = None  # the last completed pass
    newest_seen_at: datetime.datetime | None = None  # the newest row, however it got there
    last_error: str = ""
    last_error_at: datetime.datetime | None = None


def mirror_status(config: SyncConfig | None = None) -> MirrorStatus:
    """Two queries: the pull's state for the configured Vitally, and the newest mirrored row
    (rows may predate any completed pass: seed_demo writes them as a pull would)."""
    from django.db.models import Max

    config = config or sync_config()
    every = max(0, round(settings.VITALLY_MIRROR_SECONDS / 60))
    if not config.enabled:
        return MirrorStatus(configured=False, every_minutes=every)
    state = MirrorState.objects.filter(base_url=config.base_url).first()
    newest = VitallyAccount.objects.aggregate(newest=Max("last_seen_at"))["newest"]
    return MirrorStatus(
        configured=True,
        every_minutes=every,
        last_pull_at=state.last_pull_at if state else None,
        newest_seen_at=newest,
        last_error=state.last_error if state else "",
        last_error_at=state.last_error_at if state else None,
    )
