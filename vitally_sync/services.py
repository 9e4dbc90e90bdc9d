"""Writes of the Vitally sync: claim an account, push its current state, record the outcome.

The guarantee (design.md, "Data flow"):
- The domain bumps Account.change_version in the transaction of every change; an account needs
  a push while that is ahead of AccountSync.acked_version.
- Whoever pushes first claims the account: `SELECT ... FOR UPDATE SKIP LOCKED` picks a due row
  nobody holds, and a conditional UPDATE stamps a lease on it. Two workers never push the same
  account at once; a killed worker's lease simply lapses and the sweeper takes the account.
- The payload is built from the CURRENT state after reading the version; on 2xx the pushed
  version is acknowledged, so a change that landed during the request keeps the account dirty.
- Waits (backoff, 429, a saturated limiter, coalescing) are stored in next_attempt_at; the
  sweeper on beat (or `manage.py vitally_sweep`) picks the row up again.
"""

import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from redis import RedisError

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.audit.services import audit_record
from vitally_sync.client import Kind, VitallyClient
from vitally_sync.conf import SyncConfig, sync_config
from vitally_sync.limiter import RateLimiter, acquire, limiter_get
from vitally_sync.models import AccountSync, SyncAttempt
from vitally_sync.payloads import payload_hash, traits_build
from vitally_sync.selectors import portal_values_get

logger = logging.getLogger(__name__)

ATTEMPTS_KEPT = 20  # per account, for the panel and the admin
# Added to a 429's wait: rounding (Redis counts whole ms) and the moments between Vitally's
# answer and ours never let a request land at the very edge of the wait.
RATE_LIMIT_MARGIN_SECONDS = 0.25
# Publishing the kick gives up fast when the broker is down: the edit must not wait on it.
KICK_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}


class Outcome(StrEnum):
    PUSHED = "pushed"
    UNCHANGED = "unchanged"  # identical to the last acknowledged payload: acknowledged, not sent
    DEFERRED = "deferred"  # the limiter or the coalescing window said later; next_attempt_at set
    RATE_LIMITED = "rate_limited"
    RETRYING = "retrying"
    FAILED = "failed"
    SKIPPED = "skipped"  # not linked, or the lease was lost


@dataclass
class PushReport:
    outcome: Outcome = Outcome.SKIPPED
    requests: int = 0
    message: str = ""
    retry_at: object = None  # datetime when the account is due again
    limited: bool = False  # deferred by the shared rate limit / a 429 pause


@dataclass(frozen=True)
class Claim:
    account_id: int
    token: uuid.UUID
    # The row as claimed (account joined): the first push needs no second read.
    row: AccountSync | None = field(default=None, compare=False, repr=False)
    claimed_at: float = field(default_factory=time.monotonic, compare=False)


@lru_cache(maxsize=4)
def _client_for(
    base_url: str, api_key: str, connect_timeout: float, read_timeout: float
) -> VitallyClient:
    return VitallyClient(
        base_url=base_url,
        api_key=api_key,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


def client_get(config: SyncConfig) -> VitallyClient:
    """One client (one connection pool) per process and configuration."""
    return _client_for(config.base_url, config.api_key, config.connect_timeout, config.read_timeout)


def sync_rows_ensure(*, account_ids: list[int] | None = None) -> int:
    """Give every linked account a sync row, so the sweeper can claim it (a new account, or one
    linked to Vitally after it was created)."""
    missing = Account.objects.exclude(vitally_account_id="").filter(vitally_sync__isnull=True)
    if account_ids is not None:
        missing = missing.filter(pk__in=account_ids)
    rows = [AccountSync(account_id=pk) for pk in missing.values_list("pk", flat=True)]
    AccountSync.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _lease_free(now) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lte=now)


def sync_due_q(*, now, config: SyncConfig) -> Q:
    """Rows a pass should push now: linked, not waiting, and either asked for by hand or dirty
    without a standing failure (see selectors.failure_holds)."""
    dirty = Q(account__change_version__gt=F("acked_version"))
    failure_lifted = (
        ~Q(status=AccountSync.Status.FAILED)
        | Q(account__change_version__gt=F("failed_version"))
        | (~Q(failed_key="") & ~Q(failed_key=config.key_fingerprint))
    )
    return (
        ~Q(account__vitally_account_id="")
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(push_requested=True) | (dirty & failure_lifted))
    )


def sync_claim(
    *,
    config: SyncConfig,
    account_id: int | None = None,
    force: bool = False,
    exclude: set[int] | frozenset = frozenset(),
) -> Claim | None:
    """Claim one account to push: the most overdue due row nobody holds (or `account_id`;
    `force` ignores whether it is due, as a backfill does). None when there is nothing to do or
    someone else holds it."""
    claim = _claim(config=config, account_id=account_id, force=force, exclude=exclude)
    if claim is None and account_id is not None and sync_rows_ensure(account_ids=[account_id]):
        # A new account (or newly linked): it has a sync row now.
        claim = _claim(config=config, account_id=account_id, force=force, exclude=exclude)
    return claim


def _claim(*, config, account_id, force, exclude) -> Claim | None:
    started = time.monotonic()  # before the lease is stamped: the holder's view is the shorter
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The claim is on the path of every push: do not wait for the WAL flush. Losing a
            # lease in a database crash costs at most one repeated (idempotent) PUT.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        rows = AccountSync.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            _lease_free(now)
        )
        rows = rows.exclude(account__vitally_account_id="")
        if account_id is not None:
            rows = rows.filter(account_id=account_id)
        if not force:
            rows = rows.filter(sync_due_q(now=now, config=config))
        if exclude:
            rows = rows.exclude(account_id__in=exclude)
        row = (
            rows.select_related("account")
            .order_by(F("next_attempt_at").asc(nulls_first=True), "account_id")
            .first()
        )
        if row is None:
            return None
        token = uuid.uuid4()
        lease_until = now + timedelta(seconds=config.lease_seconds)
        # Conditional, so the claim is exclusive even where row locks do not exist (SQLite).
        won = AccountSync.objects.filter(_lease_free(now), pk=row.pk).update(
            lease_token=token, lease_until=lease_until
        )
    if not won:
        return None
    row.lease_token, row.lease_until = token, lease_until
    return Claim(account_id=row.pk, token=token, row=row, claimed_at=started)


def _mine(claim: Claim):
    return AccountSync.objects.filter(pk=claim.account_id, lease_token=claim.token)


class _Lease:
    """Keeps the claim's lease ahead of the work. Within a quarter of the lease after claiming
    (or renewing) it cannot have lapsed, so nothing is checked; later, before a request, it is
    renewed with a conditional UPDATE that also tells whether it is still ours."""

    def __init__(self, claim: Claim, config: SyncConfig):
        self.claim, self.seconds = claim, config.lease_seconds
        self.renewed = claim.claimed_at

    def keep(self) -> bool:
        if time.monotonic() - self.renewed <= self.seconds / 4:
            return True
        still_ours = _mine(self.claim).update(
            lease_until=timezone.now() + timedelta(seconds=self.seconds)
        )
        self.renewed = time.monotonic()
        return bool(still_ours)


def _release(claim: Claim) -> None:
    _mine(claim).update(lease_token=None, lease_until=None)


def _record_attempt(*, account_id: int, version: int, result, sent_at, answered_at) -> None:
    outcome = {
        Kind.OK: SyncAttempt.Outcome.PUSHED,
        Kind.RATE_LIMITED: SyncAttempt.Outcome.RATE_LIMITED,
        Kind.TRANSIENT: SyncAttempt.Outcome.TRANSIENT,
        Kind.FAILED: SyncAttempt.Outcome.FAILED,
    }[result.kind]
    SyncAttempt.objects.create(
        account_id=account_id,
        change_version=version,
        outcome=outcome,
        http_status=result.http_status,
        message=result.message,
        duration_ms=result.duration_ms,
        wait_seconds=result.wait_seconds,
        at=sent_at,
        answered_at=answered_at,
    )
    oldest_kept = (
        SyncAttempt.objects.filter(account_id=account_id)
        .order_by("-at", "-id")
        .values_list("id", flat=True)[ATTEMPTS_KEPT - 1 : ATTEMPTS_KEPT]
    )
    if oldest_kept:
        SyncAttempt.objects.filter(account_id=account_id, id__lt=oldest_kept[0]).delete()


def backoff_seconds(*, attempts: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(attempts-1)))."""
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return random.uniform(0, ceiling)  # noqa: S311  # nosec B311  # retry jitter, not cryptography


def sync_claimed_push(
    *,
    claim: Claim,
    config: SyncConfig | None = None,
    client: VitallyClient | None = None,
    limiter: RateLimiter | None = None,
    max_wait: float = 5.0,
    force: bool = False,
    budget: float = 20.0,
    sleep=time.sleep,
) -> PushReport:
    """Push the claimed account's current state, then keep pushing while changes land during
    the request (at most one PUT per account per VITALLY_COALESCE_SECONDS), within `budget`
    seconds. Always releases the claim."""
    config = config or sync_config()
    client = client or client_get(config)
    limiter = limiter or limiter_get(config.redis_url)
    deadline = time.monotonic() + budget
    report = PushReport()
    lease = _Lease(claim, config)
    preloaded = claim.row
    try:
        while True:
            sync = preloaded or _mine(claim).select_related("account").first()
            preloaded = None
            if sync is None:
                report.outcome, report.message = Outcome.SKIPPED, "The claim lapsed."
                return report
            account = sync.account
            target = account.vitally_account_id
            if not target:
                report.outcome, report.message = Outcome.SKIPPED, "Not linked to Vitally."
                return report
            forced = force or sync.push_requested
            # The version first, then the values: what is sent is at least this version.
            version = account.change_version
            traits = traits_build(portal_values_get(account=account), trait_map=config.trait_map)
            digest = payload_hash(vitally_account_id=target, traits=traits)
            unchanged = digest == sync.last_payload_hash and not forced
            if not unchanged and not forced and sync.last_attempt_at:
                # Coalescing: edits in quick succession wait for one PUT of the latest state.
                due = sync.last_attempt_at + timedelta(seconds=config.coalesce_seconds)
                wait = (due - timezone.now()).total_seconds()
                if wait > 0:
                    if time.monotonic() + wait > deadline:
                        _mine(claim).update(next_attempt_at=due)
                        report.outcome, report.retry_at = Outcome.DEFERRED, due
                        return report
                    sleep(wait)
                    lease.keep()
                    continue  # read the state again: more edits may have landed
            if unchanged:
                _mine(claim).update(
                    acked_version=version,
                    status=AccountSync.Status.SYNCED,
                    attempts=0,
                    next_attempt_at=None,
                )
                report.outcome = Outcome.UNCHANGED
            else:
                step = _send(
                    claim=claim,
                    sync=sync,
                    version=version,
                    target=target,
                    traits=traits,
                    digest=digest,
                    forced=forced,
                    config=config,
                    client=client,
                    limiter=limiter,
                    lease=lease,
                    max_wait=max_wait,
                    sleep=sleep,
                )
                report.requests += step.requests
                report.outcome, report.message = step.outcome, step.message
                report.retry_at, report.limited = step.retry_at, step.limited
                if step.outcome is not Outcome.PUSHED:
                    return report
            force = False
            changed_meanwhile = Account.objects.filter(
                pk=account.pk, change_version__gt=version
            ).exists()
            if not changed_meanwhile or time.monotonic() >= deadline:
                return report
    finally:
        _release(claim)


def _send(
    *,
    claim: Claim,
    sync: AccountSync,
    version: int,
    target: str,
    traits: dict,
    digest: str,
    forced: bool,
    config: SyncConfig,
    client: VitallyClient,
    limiter: RateLimiter,
    lease: _Lease,
    max_wait: float,
    sleep,
) -> PushReport:
    fingerprint = config.key_fingerprint
    gate = None if forced else limiter.auth_blocked(key_fingerprint=fingerprint)
    if gate:
        # Another account just got a 401 with this key: no request, same verdict.
        _mine(claim).update(
            status=AccountSync.Status.FAILED,
            failed_version=version,
            failed_key=fingerprint,
            next_attempt_at=None,
            last_error=gate,
            last_error_at=timezone.now(),
        )
        return PushReport(Outcome.FAILED, message=gate)
    wait = acquire(limiter, per_minute=config.rate_limit_per_minute, max_wait=max_wait, sleep=sleep)
    if wait:
        retry_at = timezone.now() + timedelta(seconds=wait)
        _mine(claim).update(next_attempt_at=retry_at)
        return PushReport(Outcome.DEFERRED, retry_at=retry_at, limited=True)
    if not lease.keep():  # the lease must cover the request
        return PushReport(Outcome.SKIPPED, message="The claim lapsed.")
    # Checked again just before sending: another worker may have had a 429 since the slot.
    if (paused := limiter.paused_for()) > 0:
        retry_at = timezone.now() + timedelta(seconds=paused)
        _mine(claim).update(next_attempt_at=retry_at)
        return PushReport(Outcome.DEFERRED, retry_at=retry_at, limited=True)
    sent_at = timezone.now()
    result = client.account_update(account_key=target, traits=traits)
    if result.kind is Kind.RATE_LIMITED:
        # First of all, so every other worker sees it; the answer time is taken after it.
        try:
            limiter.pause(result.wait_seconds + RATE_LIMIT_MARGIN_SECONDS)
        except RedisError:  # this process still waits (it remembers); the attempt is recorded
            logger.warning("Could not share Vitally's 429 pause: Redis is unreachable")
    answered_at = timezone.now()
    _record_attempt(
        account_id=claim.account_id,
        version=version,
        result=result,
        sent_at=sent_at,
        answered_at=answered_at,
    )
    if result.kind is Kind.OK:
        _mine(claim).update(
            acked_version=version,
            status=AccountSync.Status.SYNCED,
            attempts=0,
            next_attempt_at=None,
            push_requested=False,
            failed_key="",
            last_attempt_at=answered_at,
            last_pushed_at=answered_at,
            pushed_vitally_id=target,
            last_payload=traits,
            last_payload_hash=digest,
        )
        if sync.failed_key or forced:
            limiter.auth_clear()  # the key works (again): lift the gate for everyone
        return PushReport(Outcome.PUSHED, requests=1, message=result.message)
    if result.kind is Kind.RATE_LIMITED:
        retry_at = answered_at + timedelta(seconds=result.wait_seconds)
        _failed_attempt(claim, answered_at, result.message, retry_at=retry_at)
        return PushReport(Outcome.RATE_LIMITED, 1, result.message, retry_at=retry_at, limited=True)
    if result.kind is Kind.TRANSIENT:
        delay = backoff_seconds(
            attempts=sync.attempts + 1, base=config.backoff_base, cap=config.backoff_cap
        )
        retry_at = answered_at + timedelta(seconds=delay)
        _failed_attempt(claim, answered_at, result.message, retry_at=retry_at)
        return PushReport(Outcome.RETRYING, 1, result.message, retry_at=retry_at)
    # 400/401/403/404...: retrying would not help; people see why.
    if result.auth_failed:
        limiter.auth_block(key_fingerprint=fingerprint, message=result.message)
    _mine(claim).update(
        status=AccountSync.Status.FAILED,
        failed_version=version,
        failed_key=fingerprint if result.auth_failed else "",
        push_requested=False,
        attempts=F("attempts") + 1,
        next_attempt_at=None,
        last_attempt_at=answered_at,
        last_error=result.message,
        last_error_at=answered_at,
    )
    return PushReport(Outcome.FAILED, 1, result.message)


def _failed_attempt(claim: Claim, answered_at, message: str, *, retry_at) -> None:
    _mine(claim).update(
        status=AccountSync.Status.RETRYING,
        attempts=F("attempts") + 1,
        next_attempt_at=retry_at,
        last_attempt_at=answered_at,
        last_error=message,
        last_error_at=answered_at,
    )


def sync_account_push(*, account_id: int, config: SyncConfig | None = None) -> PushReport:
    """The on-commit kick: push this account now if it is due and nobody holds it."""
    config = config or sync_config()
    if not config.enabled:
        return PushReport(Outcome.SKIPPED, message="Vitally sync is not configured.")
    claim = sync_claim(config=config, account_id=account_id)
    if claim is None:
        return PushReport(Outcome.SKIPPED, message="Not due, or someone else is pushing it.")
    return sync_claimed_push(claim=claim, config=config)


@dataclass
class SweepReport:
    enabled: bool = True
    outcomes: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    stopped_by_limit: bool = False

    def add(self, report: PushReport) -> None:
        self.outcomes[report.outcome.value] = self.outcomes.get(report.outcome.value, 0) + 1
        self.requests += report.requests

    def __str__(self) -> str:
        if not self.enabled:
            return "Vitally sync is not configured: nothing to do."
        parts = [f"{n} {name}" for name, n in sorted(self.outcomes.items())] or ["nothing due"]
        tail = "; stopped: the rate limit says later" if self.stopped_by_limit else ""
        return f"Sweep: {', '.join(parts)} ({self.requests} requests){tail}."


def sync_sweep(*, budget: float = 25.0, max_wait: float = 5.0) -> SweepReport:
    """One sweeper pass (beat every VITALLY_SWEEP_SECONDS, or `manage.py vitally_sweep`): push
    every due account, one claim at a time, until none is due or `budget` seconds are used."""
    config = sync_config()
    if not config.enabled:
        return SweepReport(enabled=False)
    sync_rows_ensure()
    limiter = limiter_get(config.redis_url)
    report = SweepReport()
    deadline = time.monotonic() + budget
    seen: set[int] = set()
    while (remaining := deadline - time.monotonic()) > 0:
        if limiter.paused_for() > max_wait:
            report.stopped_by_limit = True
            break
        claim = sync_claim(config=config, exclude=seen)
        if claim is None:
            break
        seen.add(claim.account_id)
        push = sync_claimed_push(
            claim=claim, config=config, limiter=limiter, max_wait=max_wait, budget=remaining
        )
        report.add(push)
        if push.limited:
            report.stopped_by_limit = True
            break
    return report


def sync_kick(*, account_id: int) -> bool:
    """Queue a push now (best effort: when the broker is down the sweeper pushes later)."""
    from vitally_sync.tasks import account_push

    try:
        account_push.apply_async(
            (account_id,), retry=True, retry_policy=KICK_RETRY_POLICY, ignore_result=True
        )
    except Exception:  # the broker is down or unreachable: the outbox row still says "dirty"
        logger.warning(
            "Could not queue the Vitally push of account %s; the sweeper will push it.",
            account_id,
        )
        return False
    return True


@transaction.atomic
def sync_push_request(*, account: Account, actor) -> AccountSync:
    """ "Push now" (panel, admin): send the current state even if unchanged, lift a failure and
    any backoff. The push itself happens in a worker, never in the web request."""
    sync, _ = AccountSync.objects.get_or_create(account=account)
    AccountSync.objects.filter(pk=account.pk).update(push_requested=True, next_attempt_at=None)
    sync.refresh_from_db()
    audit_record(
        actor=actor,
        account=account,
        obj=sync,
        action=AuditEvent.Action.ACTION,
        message="Asked for a push to Vitally now.",
    )
    transaction.on_commit(lambda: sync_kick(account_id=account.pk))
    return sync
