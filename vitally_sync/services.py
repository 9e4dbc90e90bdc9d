"""Writes of the Vitally sync: claim an account, push what Vitally does not hold, record it.

The guarantee (design.md, "Data flow"; README, "Vitally sync"):
- The domain bumps Account.change_version in the transaction of every change; an account needs
  a push while that is ahead of AccountSync.acked_version, while a full push was asked for, or
  while it was acknowledged under another trait map or value format.
- "Synced" means Vitally holds the portal's values: what Vitally holds is known only from a
  2xx. The payload is written (committed) to `inflight_traits` before each request; an answer
  that never comes, a 5xx, or a killed worker leaves its keys unknown, and they are sent again.
- A push sends the keys whose value differs from what Vitally is known to hold (all of them for
  a full push), so an unrelated edit never overwrites a trait someone changed in Vitally.
- Whoever pushes first claims the account: `SELECT ... FOR UPDATE SKIP LOCKED` picks a due row
  nobody holds and a conditional UPDATE stamps a lease on the database's clock (one clock for
  every host). The lease is renewed before each request with room for its timeouts; an
  acknowledgement that no longer matches the lease asks for a full push, since another push
  may have been acknowledged before this one landed.
- Waits (backoff, 429, a saturated limiter, coalescing, the hourly retry of an account that
  needs attention) live in next_attempt_at; a 429's wait and a refused key live in VitallyKey
  (PostgreSQL), so a Redis restart or a killed worker forgets neither.
- One account's failure never stops a sweep: an exception is recorded on its row, counted, and
  after VITALLY_QUARANTINE_AFTER failures in a row the account needs attention.
"""

import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from redis import RedisError

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.audit.services import audit_record
from vitally_sync.client import Kind, Result, VitallyClient
from vitally_sync.conf import SyncConfig, sync_config
from vitally_sync.limiter import RateLimiter, acquire, limiter_get
from vitally_sync.metrics import request_count_add
from vitally_sync.models import AccountSync, SyncAttempt, TraitDifference, VitallyKey
from vitally_sync.payloads import traits_acked, traits_build, traits_to_send
from vitally_sync.selectors import portal_values_get, sync_known_traits

logger = logging.getLogger(__name__)

ATTEMPTS_KEPT = 20  # per account, for the panel and the admin
# Added to a 429's wait: rounding (Redis counts whole ms) and the moments between Vitally's
# answer and ours never let a request land at the very edge of the wait.
RATE_LIMIT_MARGIN_SECONDS = 0.25
# A lease renewed before a request outlasts the request's connect and read timeouts by this.
LEASE_MARGIN_SECONDS = 5.0
# An account that needs attention is retried this often (and by hand, and when edited).
ATTENTION_RETRY = timedelta(hours=1)
# Publishing the kick gives up fast when the broker is down: the edit must not wait on it.
KICK_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}


class Outcome(StrEnum):
    PUSHED = "pushed"
    UNCHANGED = "unchanged"  # Vitally is known to hold every value: acknowledged, not sent
    DEFERRED = "deferred"  # the limiter, a 429's wait or coalescing said later
    RATE_LIMITED = "rate_limited"
    RETRYING = "retrying"
    FAILED = "failed"  # Vitally refuses the API key: waits for the key to work again
    ATTENTION = "attention"  # a 4xx on the account, or too many failures in a row
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


def _db_in(seconds: float):
    """The database's now + `seconds`: leases and waits on one clock for every host."""
    return ExpressionWrapper(
        Now() + Value(timedelta(seconds=seconds)), output_field=DateTimeField()
    )


def sync_rows_ensure(*, account_ids: list[int] | None = None) -> int:
    """Give every linked account a sync row, so the sweeper can claim it (a new account, or one
    linked to Vitally after it was created)."""
    missing = Account.objects.exclude(vitally_account_id="").filter(vitally_sync__isnull=True)
    if account_ids is not None:
        missing = missing.filter(pk__in=account_ids)
    rows = [AccountSync(account_id=pk) for pk in missing.values_list("pk", flat=True)]
    AccountSync.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _lease_free() -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lte=Now())


def sync_due_q(*, config: SyncConfig, now=None) -> Q:
    """Rows a pass should push now (selectors.sync_badge says the same to people):
    - linked, and not waiting for a key Vitally refuses (the probe requeues them);
    - something to send: a change, a full push asked for, or another trait map / format;
    - not waiting (backoff, 429, hourly retry), unless an account that needed attention for
      a 4xx was edited since (the edit may be the fix, e.g. a corrected Vitally id)."""
    now = Now() if now is None else now
    key_refused = Q(status=AccountSync.Status.FAILED, failed_key=config.key_fingerprint)
    to_send = (
        Q(account__change_version__gt=F("acked_version"))
        | Q(full_push_asked__gt=F("full_push_done"))
        | ~Q(config_fingerprint=config.fingerprint)
    )
    waited = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    fixed_by_edit = Q(
        status=AccountSync.Status.ATTENTION,
        failed_version__gt=0,
        account__change_version__gt=F("failed_version"),
    )
    return ~Q(account__vitally_account_id="") & ~key_refused & to_send & (waited | fixed_by_edit)


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
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The claim is on the path of every push: do not wait for the WAL flush. Losing a
            # lease in a database crash costs at most one repeated PUT, whose keys are unknown.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        rows = AccountSync.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            _lease_free()
        )
        rows = rows.exclude(account__vitally_account_id="")
        if account_id is not None:
            rows = rows.filter(account_id=account_id)
        if not force:
            rows = rows.filter(sync_due_q(config=config))
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
        # Conditional, so the claim is exclusive even where row locks do not exist (SQLite).
        won = AccountSync.objects.filter(_lease_free(), pk=row.pk).update(
            lease_token=token, lease_until=_db_in(config.lease_seconds)
        )
    if not won:
        return None
    row.lease_token = token
    return Claim(account_id=row.pk, token=token, row=row)


def _mine(claim: Claim):
    """The claimed row while the lease is still ours (unexpired, on the database's clock)."""
    return AccountSync.objects.filter(
        pk=claim.account_id, lease_token=claim.token, lease_until__gt=Now()
    )


def _lease_renew(claim: Claim, seconds: float) -> bool:
    return bool(_mine(claim).update(lease_until=_db_in(seconds)))


def _release(claim: Claim) -> None:
    AccountSync.objects.filter(pk=claim.account_id, lease_token=claim.token).update(
        lease_token=None, lease_until=None
    )


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
    request_count_add(outcome)  # a counter that survives the pruning below (/metrics)
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


# --- the API key's state: 429 waits and refusals, durable ---------------------------------------
@dataclass(frozen=True)
class KeyState:
    paused_for: float = 0.0  # seconds left of a 429's wait (the database's clock)
    auth_error: str = ""  # why Vitally refuses the key, while it does


def key_state_get(config: SyncConfig) -> KeyState:
    row = (
        VitallyKey.objects.filter(pk=config.key_fingerprint)
        .annotate(db_now=Now())
        .values("paused_until", "auth_error", "db_now")
        .first()
    )
    if row is None:
        return KeyState()
    paused = 0.0
    if row["paused_until"] is not None:
        paused = max(0.0, (row["paused_until"] - row["db_now"]).total_seconds())
    return KeyState(paused_for=paused, auth_error=row["auth_error"])


def _key_row(config: SyncConfig):
    VitallyKey.objects.bulk_create([VitallyKey(pk=config.key_fingerprint)], ignore_conflicts=True)
    return VitallyKey.objects.filter(pk=config.key_fingerprint)


def key_pause_record(config: SyncConfig, seconds: float) -> None:
    """A 429's wait, kept in PostgreSQL: extends, never shortens, the current one."""
    until = _db_in(seconds)
    _key_row(config).filter(Q(paused_until__isnull=True) | Q(paused_until__lt=until)).update(
        paused_until=until
    )


def key_refused_record(config: SyncConfig, message: str) -> None:
    _key_row(config).update(
        auth_error=message,
        auth_failed_at=Coalesce(F("auth_failed_at"), Now()),
        probe_after=Coalesce(F("probe_after"), _db_in(config.key_probe_seconds)),
    )


def _requeue_key_failures(config: SyncConfig) -> int:
    """Every account that failed with the key, due again (the key works)."""
    return AccountSync.objects.filter(
        status=AccountSync.Status.FAILED, failed_key=config.key_fingerprint
    ).update(status=AccountSync.Status.PENDING, failed_key="", next_attempt_at=None)


def key_works_record(config: SyncConfig) -> int:
    """Vitally accepted the key: lift its refusal (if any) and requeue what failed with it.
    Returns how many accounts were requeued."""
    lifted = (
        VitallyKey.objects.filter(pk=config.key_fingerprint)
        .exclude(auth_error="")
        .update(auth_error="", auth_failed_at=None, probe_after=None)
    )
    return _requeue_key_failures(config) if lifted else 0


def key_probe(
    *, config: SyncConfig, client: VitallyClient, limiter: RateLimiter, max_wait: float = 5.0
) -> Result | None:
    """While Vitally refuses the key: one cheap request (the custom-fields list) at most every
    VITALLY_KEY_PROBE_SECONDS across every process, to learn when the key works again. None
    when it was not this process's turn, or the rate limit said later."""
    turn = (
        VitallyKey.objects.filter(pk=config.key_fingerprint, probe_after__lte=Now())
        .exclude(auth_error="")
        .update(probe_after=_db_in(config.key_probe_seconds))
    )
    if not turn or key_state_get(config).paused_for > 0:
        return None
    if acquire(limiter, per_minute=config.rate_limit_per_minute, max_wait=max_wait):
        return None
    result = client.custom_fields()
    if result.kind is Kind.OK:
        requeued = key_works_record(config)
        logger.info("The Vitally API key works again; %d account(s) queued again.", requeued)
    elif result.kind is Kind.RATE_LIMITED:
        _pause_share(config, limiter, result.wait_seconds or 0.0)
    elif result.auth_failed:
        key_refused_record(config, result.message)
    return result


def _pause_share(config: SyncConfig, limiter: RateLimiter, wait_seconds: float) -> None:
    """A 429: every worker must know at once (Redis), and for as long as it lasts (PostgreSQL,
    which survives a Redis restart and this process)."""
    seconds = wait_seconds + RATE_LIMIT_MARGIN_SECONDS
    try:
        limiter.pause(seconds)
    except RedisError:  # this process still waits (it remembers), and so does PostgreSQL
        logger.warning("Could not share Vitally's 429 pause through Redis")
    key_pause_record(config, seconds)


def pass_may_go_on(
    *, config: SyncConfig, limiter: RateLimiter, deadline: float, wait_pauses: bool, sleep
) -> str:
    """Before a background pass's next request (the reconcile's read, the mirror's page): ""
    once it may go on, else why the pass stops (out of time, the key refused, a 429 pause it may
    not wait out). It waits out a pause it may, telling every worker of the key's pause again
    (Redis may have restarted empty)."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "out of time, the next run goes on"
        key = key_state_get(config)
        if key.auth_error:
            return f"Vitally refuses the API key ({key.auth_error})"
        paused = max(key.paused_for, limiter.paused_for())
        if paused <= 0:
            return ""
        if key.paused_for > 0:
            try:
                limiter.pause(key.paused_for)
            except RedisError:
                logger.warning("Could not share Vitally's 429 pause through Redis")
        if not wait_pauses or paused > remaining:
            return f"Vitally's rate limit said wait {paused:.0f} s (429)"
        sleep(paused)


AGAIN = "again"  # pass_slot / pass_answered: another try at the same request


def pass_slot(
    *,
    config: SyncConfig,
    limiter: RateLimiter,
    pacer: RateLimiter,
    pace_per_minute: float,
    pace_name: str,
    deadline: float,
    max_wait: float,
    sleep,
) -> str:
    """After the gate (`pass_may_go_on`), a background pass's request takes a slot of its own
    pace (its share of the rate limit, which may be long) and then one of the limiter every
    request shares. "" when the request may go; AGAIN when another worker's 429 came in since
    the slot (through the gate again); else why the pass stops (the next run goes on)."""
    if acquire(
        pacer, per_minute=pace_per_minute, max_wait=deadline - time.monotonic(), sleep=sleep
    ):
        return f"out of time at the {pace_name}'s pace, the next run goes on"
    remaining = max(0.0, deadline - time.monotonic())
    if acquire(
        limiter,
        per_minute=config.rate_limit_per_minute,
        max_wait=min(max_wait, remaining),
        sleep=sleep,
    ):
        return "the shared rate limit is saturated, the next run goes on"
    return AGAIN if limiter.paused_for() > 0 else ""


def pass_answered(*, config: SyncConfig, limiter: RateLimiter, result: Result) -> str:
    """After a background pass's request: AGAIN after a 429 (its wait told to every worker
    first; the gate then waits it out or stops the pass), the refusal after a refused key
    (recorded: every pass and push stops), else "" (the answer is the pass's to judge)."""
    if result.kind is Kind.RATE_LIMITED:
        _pause_share(config, limiter, result.wait_seconds or 0.0)
        return AGAIN
    if result.auth_failed:
        key_refused_record(config, result.message)
        return result.message
    return ""


# --- pushing -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    """One request to make: what to send and what it is measured against."""

    target: str
    version: int  # the account's change_version read before the values
    read_at: object  # when that version was read
    current: dict[str, Any]  # every mapped trait as the portal has it
    known: dict[str, Any]
    sending: dict[str, Any]
    full: bool
    asked: int  # full_push_asked as read: a full push answers the asks up to it
    attempts: int  # failures in a row so far
    overridden: frozenset = frozenset()  # differences whose portal value changed since


def _differences_held(sync: AccountSync, current: dict) -> tuple[set, frozenset]:
    """Traits someone changed in Vitally that nobody has resolved: no push overwrites them, a
    full push included, until a person keeps the portal's value or takes Vitally's. An edit of
    the field in the portal since the read is such a decision: its new value is sent."""
    if not sync.differences:
        return set(), frozenset()
    rows = TraitDifference.objects.filter(account_id=sync.pk).values_list(
        "trait_key", "portal_value"
    )
    held = {key for key, portal_value in rows if current.get(key) == portal_value}
    return held, frozenset(key for key, _ in rows if key not in held)


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
    """Push what Vitally does not hold of the claimed account, then keep pushing while changes
    land during the request (at most one PUT per account per VITALLY_COALESCE_SECONDS), within
    `budget` seconds. Always releases the claim; an exception is recorded on the account as a
    failure (it never reaches a sweep)."""
    config = config or sync_config()
    client = client or client_get(config)
    limiter = limiter or limiter_get(config.redis_url)
    try:
        return _push(
            claim=claim,
            config=config,
            client=client,
            limiter=limiter,
            max_wait=max_wait,
            force=force,
            budget=budget,
            sleep=sleep,
        )
    except Exception as error:  # one account's failure never stops the others
        logger.exception("Pushing account %s to Vitally raised", claim.account_id)
        return _failure_record(
            claim,
            config,
            message=f"The push failed inside the portal ({type(error).__name__}: {error})"[:500],
        )
    finally:
        _release(claim)


def _push(*, claim, config, client, limiter, max_wait, force, budget, sleep) -> PushReport:
    deadline = time.monotonic() + budget
    report = PushReport()
    preloaded = claim.row
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
        full = force or sync.push_requested or sync.pushed_vitally_id != target
        # The version first, then the values: what is sent is at least this version.
        read_at = timezone.now()
        version = account.change_version
        current = traits_build(portal_values_get(account_id=account.pk), trait_map=config.trait_map)
        known = sync_known_traits(sync, target)
        held, overridden = _differences_held(sync, current)
        plan = _Plan(
            target=target,
            version=version,
            read_at=read_at,
            current=current,
            known=known,
            sending={
                key: value
                for key, value in traits_to_send(current, known, full=full).items()
                if key not in held
            },
            full=full,
            asked=sync.full_push_asked,
            attempts=sync.attempts,
            overridden=overridden,
        )
        if plan.sending and not full and sync.last_attempt_at:
            # Coalescing: edits in quick succession wait for one PUT of the latest state.
            due = sync.last_attempt_at + timedelta(seconds=config.coalesce_seconds)
            wait = (due - timezone.now()).total_seconds()
            if wait > 0:
                if time.monotonic() + wait > deadline:
                    _mine(claim).update(next_attempt_at=due)
                    report.outcome, report.retry_at = Outcome.DEFERRED, due
                    return report
                sleep(wait)
                if not _lease_renew(claim, config.lease_seconds):
                    report.outcome, report.message = Outcome.SKIPPED, "The claim lapsed."
                    return report
                continue  # read the state again: more edits may have landed
        if not plan.sending:
            _mine(claim).update(
                acked_version=version,
                status=AccountSync.Status.SYNCED,
                attempts=0,
                next_attempt_at=None,
                failed_version=0,
                config_fingerprint=config.fingerprint,
                synced_through=read_at,
            )
            report.outcome = Outcome.UNCHANGED
        else:
            step = _send(
                claim=claim,
                plan=plan,
                config=config,
                client=client,
                limiter=limiter,
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
        preloaded = _mine(claim).select_related("account").first()


def _defer(claim: Claim, seconds: float) -> PushReport:
    retry_at = timezone.now() + timedelta(seconds=seconds)
    _mine(claim).update(next_attempt_at=retry_at)
    return PushReport(Outcome.DEFERRED, retry_at=retry_at, limited=True)


def _send(*, claim, plan: _Plan, config, client, limiter, max_wait, sleep) -> PushReport:
    fingerprint = config.key_fingerprint
    key = key_state_get(config)
    if key.auth_error:
        # Vitally refuses this key: no request (forced or not); the probe requeues the account.
        _mine(claim).update(
            status=AccountSync.Status.FAILED,
            failed_key=fingerprint,
            next_attempt_at=None,
            last_error=key.auth_error,
            last_error_at=timezone.now(),
        )
        return PushReport(Outcome.FAILED, message=key.auth_error)
    if key.paused_for > 0:
        try:  # Redis may have restarted empty: tell every worker again
            limiter.pause(key.paused_for)
        except RedisError:
            logger.warning("Could not share Vitally's 429 pause through Redis")
        return _defer(claim, key.paused_for)
    wait = acquire(limiter, per_minute=config.rate_limit_per_minute, max_wait=max_wait, sleep=sleep)
    if wait:
        return _defer(claim, wait)
    # Checked again just before sending: another worker may have had a 429 since the slot.
    if (paused := limiter.paused_for()) > 0:
        return _defer(claim, paused)
    # Committed before the request: if the answer never reaches us, these keys are unknown.
    # The same write renews the lease past the request's timeouts.
    in_flight = _mine(claim).update(
        inflight_traits=plan.sending,
        inflight_at=timezone.now(),
        lease_until=_db_in(
            max(config.lease_seconds, config.request_seconds + LEASE_MARGIN_SECONDS)
        ),
    )
    if not in_flight:
        return PushReport(Outcome.SKIPPED, message="The claim lapsed.")
    sent_at = timezone.now()
    result = client.account_update(account_key=plan.target, traits=plan.sending)
    if result.kind is Kind.RATE_LIMITED:
        _pause_share(config, limiter, result.wait_seconds)  # first: every worker must know
    answered_at = timezone.now()
    _record_attempt(
        account_id=claim.account_id,
        version=plan.version,
        result=result,
        sent_at=sent_at,
        answered_at=answered_at,
    )
    if result.kind is Kind.OK:
        return _acknowledged(claim, plan, config, result, answered_at)
    if result.kind is Kind.RATE_LIMITED:  # not applied: what Vitally holds is as known
        retry_at = answered_at + timedelta(seconds=result.wait_seconds)
        _mine(claim).update(
            status=AccountSync.Status.RETRYING,
            next_attempt_at=retry_at,
            last_attempt_at=answered_at,
            last_error=result.message,
            last_error_at=answered_at,
            inflight_traits=None,
            inflight_at=None,
        )
        return PushReport(Outcome.RATE_LIMITED, 1, result.message, retry_at=retry_at, limited=True)
    if result.auth_failed:  # not applied; a state of the key, not of this account
        key_refused_record(config, result.message)
        _mine(claim).update(
            status=AccountSync.Status.FAILED,
            failed_key=fingerprint,
            next_attempt_at=None,
            last_attempt_at=answered_at,
            last_error=result.message,
            last_error_at=answered_at,
            inflight_traits=None,
            inflight_at=None,
        )
        return PushReport(Outcome.FAILED, 1, result.message)
    if result.kind is Kind.TRANSIENT:
        # May have been applied (5xx, no answer, an error in a 2xx): these keys are unknown.
        unknown = {k: v for k, v in plan.known.items() if k not in plan.sending}
        report = _failure_record(
            claim,
            config,
            message=result.message,
            attempts=plan.attempts,
            extra={"acked_traits": unknown, "inflight_traits": None, "inflight_at": None},
            answered_at=answered_at,
        )
        report.requests = 1
        return report
    # 400/404/409...: not applied, and retrying the same request will not help: a person needs
    # to look; retried hourly, when the account is edited, or by hand.
    _mine(claim).update(
        status=AccountSync.Status.ATTENTION,
        failed_version=plan.version,
        attempts=F("attempts") + 1,
        next_attempt_at=answered_at + ATTENTION_RETRY,
        last_attempt_at=answered_at,
        last_error=result.message,
        last_error_at=answered_at,
        inflight_traits=None,
        inflight_at=None,
    )
    return PushReport(Outcome.ATTENTION, 1, result.message, retry_at=answered_at + ATTENTION_RETRY)


def _acknowledged(claim: Claim, plan: _Plan, config, result: Result, answered_at) -> PushReport:
    done = {"full_push_done": plan.asked} if plan.full else {}
    won = _mine(claim).update(
        acked_version=plan.version,
        status=AccountSync.Status.SYNCED,
        attempts=0,
        next_attempt_at=None,
        failed_key="",
        failed_version=0,
        last_attempt_at=answered_at,
        last_pushed_at=answered_at,
        pushed_vitally_id=plan.target,
        acked_traits=traits_acked(plan.known, plan.sending, plan.current.keys()),
        inflight_traits=None,
        inflight_at=None,
        config_fingerprint=config.fingerprint,
        synced_through=plan.read_at,
        **done,
    )
    if not won:
        # The lease lapsed during the request: another push may have been acknowledged before
        # this (older) one landed in Vitally. Only a full push started now restores certainty.
        AccountSync.objects.filter(pk=claim.account_id).update(
            full_push_asked=F("full_push_asked") + 1, next_attempt_at=None
        )
        message = "Vitally accepted the push after the claim lapsed: a full push follows."
        logger.warning("Account %s: %s", claim.account_id, message)
        return PushReport(Outcome.SKIPPED, 1, message)
    key_works_record(config)  # a success lifts a refusal recorded meanwhile
    if plan.overridden & plan.sending.keys():  # the portal's new value is Vitally's now
        from vitally_sync.differences import differences_recount  # (it imports us, via reconcile)

        TraitDifference.objects.filter(
            account_id=claim.account_id, trait_key__in=plan.overridden & plan.sending.keys()
        ).delete()
        differences_recount(account_id=claim.account_id)
    return PushReport(Outcome.PUSHED, requests=1, message=result.message)


def _failure_record(
    claim: Claim,
    config: SyncConfig,
    *,
    message: str,
    attempts: int | None = None,
    extra: dict | None = None,
    answered_at=None,
) -> PushReport:
    """A failure that may pass (5xx, no answer, an exception): retried with backoff, and after
    VITALLY_QUARANTINE_AFTER in a row the account needs attention, retried hourly."""
    now = timezone.now()
    if attempts is None:
        attempts = (
            AccountSync.objects.filter(pk=claim.account_id)
            .values_list("attempts", flat=True)
            .first()
            or 0
        )
    failures = attempts + 1
    if failures >= config.quarantine_after:
        status, outcome, retry_at = (
            AccountSync.Status.ATTENTION,
            Outcome.ATTENTION,
            now + ATTENTION_RETRY,
        )
    else:
        delay = backoff_seconds(attempts=failures, base=config.backoff_base, cap=config.backoff_cap)
        status, outcome, retry_at = AccountSync.Status.RETRYING, Outcome.RETRYING, now
        retry_at = now + timedelta(seconds=delay)
    updates = {
        "status": status,
        "attempts": failures,
        "next_attempt_at": retry_at,
        "last_error": message,
        "last_error_at": now,
        **(extra or {}),
    }
    if status == AccountSync.Status.ATTENTION:
        updates["failed_version"] = 0  # only time or a person lifts a quarantine
    if answered_at is not None:
        updates["last_attempt_at"] = answered_at
    AccountSync.objects.filter(pk=claim.account_id, lease_token=claim.token).update(**updates)
    return PushReport(outcome, message=message, retry_at=retry_at)


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
    probe: Result | None = None  # the key's probe, when Vitally refuses it and it was time

    def add(self, report: PushReport) -> None:
        self.outcomes[report.outcome.value] = self.outcomes.get(report.outcome.value, 0) + 1
        self.requests += report.requests

    def __str__(self) -> str:
        if not self.enabled:
            return "Vitally sync is not configured: nothing to do."
        parts = [f"{n} {name}" for name, n in sorted(self.outcomes.items())] or ["nothing due"]
        tail = "; stopped: the rate limit says later" if self.stopped_by_limit else ""
        probe = f" Key probe: {self.probe.message}" if self.probe is not None else ""
        requests = self.requests + (self.probe is not None)
        return f"Sweep: {', '.join(parts)} ({requests} requests){tail}.{probe}"


def sync_sweep(*, budget: float = 25.0, max_wait: float = 5.0) -> SweepReport:
    """One sweeper pass (beat every VITALLY_SWEEP_SECONDS, or `manage.py vitally_sweep`): push
    every due account, one claim at a time, until none is due or `budget` seconds are used."""
    config = sync_config()
    if not config.enabled:
        return SweepReport(enabled=False)
    sync_rows_ensure()
    limiter = limiter_get(config.redis_url)
    client = client_get(config)
    report = SweepReport()
    key = key_state_get(config)
    if key.auth_error:
        report.probe = key_probe(config=config, client=client, limiter=limiter, max_wait=max_wait)
    else:  # the key works: nothing may stay failed with it (a refusal lifted meanwhile)
        _requeue_key_failures(config)
    if key.paused_for > max_wait:
        report.stopped_by_limit = True
        return report
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
            claim=claim,
            config=config,
            client=client,
            limiter=limiter,
            max_wait=max_wait,
            budget=remaining,
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
    """ "Push now" (panel, admin): send every trait even if unchanged, lift a backoff or the
    hourly wait of an account that needs attention. A key Vitally refuses still holds it: the
    push goes when the key works again. The push happens in a worker, never in the request."""
    sync, _ = AccountSync.objects.get_or_create(account=account)
    AccountSync.objects.filter(pk=account.pk).update(
        full_push_asked=F("full_push_asked") + 1, next_attempt_at=None
    )
    sync.refresh_from_db()
    audit_record(
        actor=actor,
        account=account,
        obj=sync,
        action=AuditEvent.Kind.ACTION,
        message="Asked for a push to Vitally now.",
    )
    transaction.on_commit(lambda: sync_kick(account_id=account.pk))
    return sync


def sync_read_kick(*, account_id: int) -> bool:
    """Queue a read back of one account now (best effort: when the broker is down the
    scheduled read does it later)."""
    from vitally_sync.tasks import account_read_back

    try:
        account_read_back.apply_async(
            (account_id,), retry=True, retry_policy=KICK_RETRY_POLICY, ignore_result=True
        )
    except Exception:  # the broker is down or unreachable: the scheduled read comes anyway
        logger.warning(
            "Could not queue the Vitally read back of account %s; the scheduled read will.",
            account_id,
        )
        return False
    return True


def sync_read_request(*, account: Account, actor) -> bool:
    """ "Read Vitally back now" (panel): a worker reads the account's traits and its sent notes
    now, through the same limiter, pace and gates as the scheduled read. Recorded, then queued
    (after the commit): False when the broker could not take it."""
    _read_request_record(account=account, actor=actor)
    return sync_read_kick(account_id=account.pk)


@transaction.atomic
def _read_request_record(*, account: Account, actor) -> None:
    sync, _ = AccountSync.objects.get_or_create(account=account)
    audit_record(
        actor=actor,
        account=account,
        obj=sync,
        action=AuditEvent.Kind.ACTION,
        message="Asked for a read back from Vitally now.",
    )
