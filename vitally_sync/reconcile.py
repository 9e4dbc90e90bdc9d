"""Reconcile: read Vitally back and find where it differs from what the portal acknowledged.

A push sends only what differs from what Vitally is known to hold (`selectors.sync_known_traits`),
so a trait someone changes by hand in Vitally stays as they left it, and nobody would know. A
reconcile pass reads each linked account (`GET /resources/accounts/:id`) and compares its traits
with the known state: only the keys the portal maps and knows (the keys of a request whose answer
was never recorded are unknown, and not compared). What differs is stored (`TraitDifference`):
the account's differences become exactly what the last read found, so a later read that agrees
clears them. `differences.py` shows them ("Differs in Vitally") and resolves them.

Reads go through the shared rate limiter like pushes, and honour the API key's durable state (a
429's wait, a refused key). A second limiter (the pacer, shared in Redis) keeps them within
VITALLY_RECONCILE_SHARE of VITALLY_RATE_LIMIT_PER_MINUTE: a pass of N accounts takes at least
N / (share x rate) minutes. An account a push holds, or that has something to push, is not read:
its push is about to change what Vitally holds. A read is compared only if the account's sync
row is unchanged since it was taken (checked under the row's lock), so a push that lands during
the request never shows up as a difference.
"""

import datetime
import json
import logging
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from django.utils.formats import date_format

from vitally_sync.client import Kind, VitallyClient
from vitally_sync.conf import SyncConfig, sync_config
from vitally_sync.limiter import (
    PREFIX,
    LocalRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    limiter_get,
)
from vitally_sync.models import AccountSync, TraitDifference
from vitally_sync.payloads import trait_field_get, trait_fields
from vitally_sync.selectors import sync_known_traits
from vitally_sync.services import (
    AGAIN,
    client_get,
    pass_answered,
    pass_may_go_on,
    pass_slot,
)

logger = logging.getLogger(__name__)


# --- comparing (pure) ---------------------------------------------------------------------------
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def trait_date(value: Any) -> datetime.date | None:
    """A date trait as Vitally may give it back (vitally-api.md §9: an ISO string, or epoch
    milliseconds as some clients see): the date, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _normal(value: Any, kind: str) -> Any:
    """A trait value as compared: how it is written does not count, what it says does."""
    if value is None:
        return None
    if kind == "number" and not isinstance(value, bool):
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                return value.strip() or None
        return value
    if kind == "datetime":
        date = trait_date(value)
        if date is not None:
            return date.isoformat()
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip() or None
    return value


def values_agree(portal: Any, vitally: Any, *, field_name: str) -> bool:
    """Whether Vitally says what the portal said: a date sent as midnight UTC read back as
    epoch milliseconds, 16 read back as 16.0, or an empty value read back as absent agree."""
    trait = trait_field_get(field_name)
    kind = trait.vitally_type if trait else "string"
    return _normal(portal, kind) == _normal(vitally, kind)


@dataclass(frozen=True)
class Found:
    field_name: str
    trait_key: str
    portal_value: Any  # what the portal had acknowledged
    vitally_value: Any  # what Vitally says now (None: not set)


def differences_find(
    known: Mapping[str, Any], vitally_traits: Mapping[str, Any], trait_map: Mapping[str, str]
) -> list[Found]:
    """The mapped keys the portal knows Vitally held, whose value in Vitally is another now,
    in the table's order. A key Vitally no longer has reads as None (a deleted trait)."""
    found = []
    for trait in trait_fields():
        key = trait_map.get(trait.name)
        if key is None or key not in known:
            continue
        vitally = vitally_traits.get(key)
        if not values_agree(known[key], vitally, field_name=trait.name):
            found.append(Found(trait.name, key, known[key], vitally))
    return found


_MIDNIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}T00:00:00(\.0+)?Z$")


def value_shown(value: Any, *, none: str = "not set") -> str:
    """A trait value as people read it (the pages; `value_text` for one line): a date as the
    portal writes dates, not the wire's midnight UTC; numbers with thousands separators."""
    if value is None:
        return none
    if isinstance(value, str) and _MIDNIGHT.match(value) and (date := trait_date(value)):
        return date_format(date, "j M Y")
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return f"{value:,}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def value_text(value: Any, *, none: str = "empty") -> str:
    """A trait value in one line for people (messages, History, the attention strip)."""
    shown = value_shown(value, none=none)
    return " · ".join(line.strip() for line in shown.splitlines() if line.strip()) or none


def _label(field_name: str) -> str:
    """The field's words; its name when no contribution declares it any more."""
    trait = trait_field_get(field_name)
    return trait.label if trait is not None else field_name


# --- reading back ------------------------------------------------------------------------------
RECONCILE_PREFIX = f"{PREFIX}:reconcile"


@lru_cache(maxsize=4)
def _pacer_for(redis_url: str) -> RateLimiter:
    return RedisRateLimiter(redis_url, prefix=RECONCILE_PREFIX) if redis_url else LocalRateLimiter()


def pacer_get(redis_url: str) -> RateLimiter:
    """The reconcile's own pace (its share of the rate limit), shared by every process through
    Redis when REDIS_URL is set. Each read also takes a slot of the shared limiter."""
    return _pacer_for(redis_url or "")


def _lease_free() -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lte=Now())


def _dirty() -> Q:
    """Something to push (the sweeper's rule, services.sync_due_q, less the waits): the push
    will change what Vitally holds, so reading it now would compare against a passing state."""
    return Q(account__change_version__gt=F("acked_version")) | Q(
        full_push_asked__gt=F("full_push_done")
    )


def reconcile_candidates(
    *, config: SyncConfig, due_only: bool = True, account_ids=None
) -> QuerySet[AccountSync]:
    """Sync rows a read can be compared with, least recently checked first: linked, with a
    known state for the account they point at, not held by a push, nothing to push. With
    `due_only`, only those not checked (or pushed) for VITALLY_RECONCILE_SECONDS."""
    rows = (
        AccountSync.objects.exclude(account__vitally_account_id="")
        .filter(pushed_vitally_id=F("account__vitally_account_id"), acked_traits__isnull=False)
        .filter(_lease_free(), config_fingerprint=config.fingerprint)
        .exclude(_dirty())
        .alias(last_checked=Coalesce("reconciled_at", "last_pushed_at"))
    )
    if account_ids is not None:
        rows = rows.filter(account_id__in=account_ids)
    if due_only:
        since = timezone.now() - datetime.timedelta(seconds=config.reconcile_seconds)
        rows = rows.filter(Q(last_checked__isnull=True) | Q(last_checked__lte=since))
    return rows.order_by(F("last_checked").asc(nulls_first=True), "account_id")


def sync_read_token(sync: AccountSync) -> tuple:
    """What a push or a resolution changes on the sync row (and the account): a read is
    compared only if this is the same after it as before."""
    return (
        sync.account.change_version,
        sync.account.vitally_account_id,
        sync.acked_version,
        sync.acked_traits,
        sync.inflight_traits,
        sync.pushed_vitally_id,
        sync.lease_token,
        sync.full_push_asked,
        sync.full_push_done,
        sync.config_fingerprint,
        sync.last_attempt_at,
    )


@transaction.atomic
def reconcile_read_record(
    *, account_id: int, token: tuple, traits: Mapping[str, Any], config: SyncConfig, read_at
) -> list[Found] | None:
    """Compare a read with the known state and store what differs (the account's differences
    become exactly these). None when the sync row changed since the read began (a push, a
    resolution): the read is thrown away and nothing is stored."""
    sync = (
        AccountSync.objects.select_for_update(of=("self",))
        .select_related("account")
        .filter(pk=account_id)
        .first()
    )
    if sync is None or sync_read_token(sync) != token:
        return None
    known = sync_known_traits(sync, sync.account.vitally_account_id)
    found = differences_find(known, traits, config.trait_map)
    existing = {
        d.trait_key: d
        # Only these rows: the model's ordering by account would join (and lock) the account.
        for d in TraitDifference.objects.select_for_update(of=("self",))
        .filter(account_id=account_id)
        .order_by("pk")
    }
    new, seen_again = [], []
    for item in found:
        row = existing.pop(item.trait_key, None)
        if row is None:
            new.append(
                TraitDifference(
                    account_id=account_id,
                    trait_key=item.trait_key,
                    field_name=item.field_name,
                    portal_value=item.portal_value,
                    vitally_value=item.vitally_value,
                    first_seen_at=read_at,
                    last_seen_at=read_at,
                )
            )
        elif (row.field_name, row.portal_value, row.vitally_value) == (
            item.field_name,
            item.portal_value,
            item.vitally_value,
        ):
            seen_again.append(row.pk)
        else:  # other values: a form shown for the old ones is refused (version)
            TraitDifference.objects.filter(pk=row.pk).update(
                field_name=item.field_name,
                portal_value=item.portal_value,
                vitally_value=item.vitally_value,
                last_seen_at=read_at,
                version=F("version") + 1,
            )
    if new:
        TraitDifference.objects.bulk_create(new)
    if seen_again:
        TraitDifference.objects.filter(pk__in=seen_again).update(last_seen_at=read_at)
    if existing:  # Vitally agrees again, or the key is no longer compared
        TraitDifference.objects.filter(pk__in=[d.pk for d in existing.values()]).delete()
    AccountSync.objects.filter(pk=account_id).update(reconciled_at=read_at, differences=len(found))
    return found


@dataclass(frozen=True)
class DifferenceLine:
    """One differing field as the command prints it."""

    account_id: int
    account_name: str
    label: str
    trait_key: str
    portal_value: Any
    vitally_value: Any

    def __str__(self) -> str:
        return (
            f"{self.account_name} (account {self.account_id}) | {self.label} | {self.trait_key}"
            f" | portal: {json.dumps(self.portal_value, ensure_ascii=False)}"
            f" | Vitally: {json.dumps(self.vitally_value, ensure_ascii=False)}"
        )


@dataclass
class ReadBackReport:
    """What a read-back pass did, as its command and beat task print it: the accounts'
    (`ReconcileReport`) and the notes' (`note_reconcile.NotesReadReport`)."""

    TITLE: ClassVar[str] = "Read back"
    SKIPPED_WHY: ClassVar[str] = "a push holds them"
    DISCARDED_WHY: ClassVar[str] = "pushed during the read (not compared)"

    enabled: bool = True
    off_reason: str = ""
    read: int = 0  # answered reads compared with what the portal sent
    skipped: int = 0  # pushed, held or changed before its turn: not read
    discarded: int = 0  # read, but pushed during the read: not compared
    failures: list[str] = field(default_factory=list)  # reads Vitally did not answer with 2xx
    rate_limited: int = 0
    stopped: str = ""  # why the pass ended before its rows did
    seconds: float = 0.0

    def found_parts(self) -> list[str]:
        """What the reads found, in words (after "N read")."""
        return []

    def __str__(self) -> str:
        if not self.enabled:
            return f"{self.TITLE}: {self.off_reason}"
        parts = [f"{self.read} read", *self.found_parts()]
        if self.skipped:
            parts.append(f"{self.skipped} skipped ({self.SKIPPED_WHY})")
        if self.discarded:
            parts.append(f"{self.discarded} {self.DISCARDED_WHY}")
        if self.failures:
            parts.append(f"{len(self.failures)} not read")
        if self.rate_limited:
            parts.append(f"{self.rate_limited} × 429")
        tail = f"; stopped: {self.stopped}" if self.stopped else ""
        return f"{self.TITLE} in {self.seconds:.1f} s: {', '.join(parts)}{tail}."


@dataclass
class ReconcileReport(ReadBackReport):
    TITLE: ClassVar[str] = "Reconcile"
    SKIPPED_WHY: ClassVar[str] = "changes to push, or a push holds them"

    differing_accounts: int = 0
    lines: list[DifferenceLine] = field(default_factory=list)

    def found_parts(self) -> list[str]:
        fields, accounts = len(self.lines), self.differing_accounts
        return [
            f"{fields} field{'s' if fields != 1 else ''} differ{'s' if fields == 1 else ''} "
            f"in {accounts} account{'s' if accounts != 1 else ''}"
        ]


def reconcile_pass(
    *,
    config: SyncConfig | None = None,
    account_ids: list[int] | None = None,
    due_only: bool = True,
    budget: float = 45.0,
    max_wait: float = 5.0,
    wait_pauses: bool = False,
    client: VitallyClient | None = None,
    limiter: RateLimiter | None = None,
    pacer: RateLimiter | None = None,
    sleep=time.sleep,
) -> ReconcileReport:
    """Read accounts back from Vitally and record what differs, least recently checked first,
    paced to the reconcile's share of the rate limit, within `budget` seconds.

    Beat (`tasks.reconcile`) reads the due accounts and stops at a 429's wait, a refused key or
    a saturated rate limit (the next run goes on). `manage.py vitally_reconcile` reads every
    linked account now and waits (`wait_pauses`, no budget)."""
    config = config or sync_config()
    report = ReconcileReport()
    if not config.enabled:
        report.enabled, report.off_reason = False, "the Vitally sync is not configured."
        return report
    client = client or client_get(config)
    limiter = limiter or limiter_get(config.redis_url)
    pacer = pacer or pacer_get(config.redis_url)
    started = time.monotonic()
    deadline = started + budget
    candidates = reconcile_candidates(config=config, due_only=due_only, account_ids=account_ids)
    ids = candidates.values_list("account_id", flat=True)
    if math.isfinite(budget):  # no more than the pace allows within the budget
        ids = ids[: math.ceil(budget * config.reconcile_per_minute / 60) + 1]
    if account_ids is not None:
        report.skipped += len(set(account_ids) - set(ids))
    for account_id in list(ids):
        outcome = _read_one(
            account_id=account_id,
            config=config,
            report=report,
            client=client,
            limiter=limiter,
            pacer=pacer,
            deadline=deadline,
            max_wait=max_wait,
            wait_pauses=wait_pauses,
            due_only=due_only,
            sleep=sleep,
        )
        if outcome == "stop":
            break
    report.differing_accounts = len({line.account_id for line in report.lines})
    report.seconds = time.monotonic() - started
    return report


def _read_one(
    *,
    account_id,
    config,
    report,
    client,
    limiter,
    pacer,
    deadline,
    max_wait,
    wait_pauses,
    due_only,
    sleep,
) -> str:
    """Read one account back and record it: "ok", "skip", or "stop" (the pass ends)."""
    while True:
        stop = pass_may_go_on(
            config=config, limiter=limiter, deadline=deadline, wait_pauses=wait_pauses, sleep=sleep
        )
        if stop:
            report.stopped = stop
            return "stop"
        sync = (
            reconcile_candidates(config=config, due_only=due_only)
            .filter(account_id=account_id)
            .select_related("account")
            .first()
        )
        if sync is None:
            report.skipped += 1
            return "skip"
        slot = pass_slot(
            config=config,
            limiter=limiter,
            pacer=pacer,
            pace_per_minute=config.reconcile_per_minute,
            pace_name="reconcile",
            deadline=deadline,
            max_wait=max_wait,
            sleep=sleep,
        )
        if slot == AGAIN:
            continue
        if slot:
            report.stopped = slot
            return "stop"
        token = sync_read_token(sync)
        vitally_id = sync.account.vitally_account_id
        result = client.account_get(account_key=vitally_id)
        answered = pass_answered(config=config, limiter=limiter, result=result)
        if answered == AGAIN:  # a 429: the gate waits it out or stops
            report.rate_limited += 1
            continue
        if answered:
            report.stopped = answered
            return "stop"
        body = result.body if isinstance(result.body, dict) else {}
        traits = body.get("traits")
        if result.kind is Kind.OK and not isinstance(traits, dict):
            result_message = "Vitally's answer has no traits object."
        else:
            result_message = result.message
        if result.kind is not Kind.OK or not isinstance(traits, dict):
            report.failures.append(f"{sync.account.name} (account {account_id}): {result_message}")
            logger.warning("Reconcile of account %s: %s", account_id, result_message)
            if result.kind is Kind.FAILED:  # a 404 or 400: read again next time, not each run
                AccountSync.objects.filter(pk=account_id).update(reconciled_at=timezone.now())
            return "skip"
        found = reconcile_read_record(
            account_id=account_id,
            token=token,
            traits=traits,
            config=config,
            read_at=timezone.now(),
        )
        if found is None:
            report.discarded += 1
            return "skip"
        report.read += 1
        report.lines += [
            DifferenceLine(
                account_id=account_id,
                account_name=sync.account.name,
                label=_label(item.field_name),
                trait_key=item.trait_key,
                portal_value=item.portal_value,
                vitally_value=item.vitally_value,
            )
            for item in found
        ]
        return "ok"
