"""Numbers about the Vitally sync for /metrics (Prometheus), read from PostgreSQL at each scrape.

Every number comes from the database when Prometheus asks, through one custom collector, so
every web process answers the same and a restart loses nothing: no process keeps a counter of
something the database knows. The one count the database would not otherwise keep is requests
per outcome: SyncAttempt rows are pruned to the latest few per account, so a count of them
falls, and a Prometheus counter must only rise. RequestCount keeps it, and
`request_count_add` is called where attempts are recorded.

A scrape costs SCRAPE_QUERIES queries whatever the number of accounts."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Now
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from vitally_sync.conf import SyncConfig, sync_config
from vitally_sync.models import (
    AccountSync,
    RequestCount,
    SyncAttempt,
    TraitDifference,
    VitallyKey,
)

OUTCOMES = tuple(SyncAttempt.Outcome.values)
# The badge's states (selectors.sync_badge), in the order its rules are tried.
STATES = (
    "not_configured", "not_linked", "failed", "attention", "differs", "synced", "retrying",
    "pending",
)  # fmt: skip
# The accounts (states, quarantined, oldest unacknowledged change), the request counts, the key.
SCRAPE_QUERIES = 4
# The text format Prometheus has always read (prometheus-client's newer default is 1.0.0).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)  # before any audit event: "never synced"


def request_count_add(outcome: str) -> None:
    """Count one request to Vitally that ended with `outcome` (a SyncAttempt.Outcome value).
    Called where attempts are recorded (services._record_attempt).

    `count = count + 1` in the database (F()), so workers adding at once never lose one; the
    first request of an outcome creates its row (a concurrent creator's row is kept, and both
    add). Every request updates the same row, which stays locked until the caller commits:
    call it in autocommit or a short transaction, never around a request to Vitally."""
    if outcome not in OUTCOMES:
        raise ValueError(f"Unknown request outcome {outcome!r}; expected one of {OUTCOMES}.")
    if RequestCount.objects.filter(outcome=outcome).update(count=F("count") + 1):
        return
    RequestCount.objects.bulk_create([RequestCount(outcome=outcome)], ignore_conflicts=True)
    RequestCount.objects.filter(outcome=outcome).update(count=F("count") + 1)


# --- What the database says ----------------------------------------------------------------------
@dataclass(frozen=True)
class SyncFigures:
    accounts: dict[str, int] = field(default_factory=dict)  # per badge state, every state
    quarantined: int = 0  # linked accounts whose row says "Needs attention"
    oldest_unacknowledged_age: float = 0.0  # seconds
    requests: dict[str, int] = field(default_factory=dict)  # per outcome, every outcome
    key_refused: bool = False
    rate_limit_pause: float = 0.0  # seconds left
    trait_differences: int = 0


def _linked() -> Q:
    return ~Q(vitally_account_id="")


def account_state(config: SyncConfig):
    """The badge's state of each account (selectors.sync_badge) as one SQL expression, so the
    accounts can be counted per state in the database. The rules, in sync_badge's order:
    not configured, not linked, a refused key (failed), a failure that holds (attention),
    synced (or differs, with open differences or notes that wait for a decision), retrying,
    else pending. test_metrics checks
    that the two never disagree."""
    if not config.enabled:
        return Value("not_configured", output_field=CharField())
    sync = "vitally_sync__"
    push_requested = Q(**{f"{sync}full_push_asked__gt": F(f"{sync}full_push_done")})
    fixed_by_edit = Q(
        **{f"{sync}failed_version__gt": 0, "change_version__gt": F(f"{sync}failed_version")}
    )
    return Case(
        When(vitally_account_id="", then=Value("not_linked")),
        When(
            Q(
                **{
                    f"{sync}status": AccountSync.Status.FAILED,
                    f"{sync}failed_key": config.key_fingerprint,
                }
            ),
            then=Value("failed"),
        ),
        When(
            Q(**{f"{sync}status": AccountSync.Status.ATTENTION}) & ~push_requested & ~fixed_by_edit,
            then=Value("attention"),
        ),
        When(
            Q(change_version__lte=F(f"{sync}acked_version"))
            & ~push_requested
            & Q(**{f"{sync}config_fingerprint": config.fingerprint}),
            then=Case(
                When(
                    Q(**{f"{sync}differences__gt": 0}) | Q(**{f"{sync}note_decisions__gt": 0}),
                    then=Value("differs"),
                ),
                default=Value("synced"),
            ),
        ),
        When(Q(**{f"{sync}status": AccountSync.Status.RETRYING}), then=Value("retrying")),
        default=Value("pending"),
        output_field=CharField(),
    )


def unacknowledged_change_at():
    """When the account's oldest change that Vitally has not acknowledged was made: its first
    audit event after the acknowledged version was read (`synced_through`; never synced: its
    first audit event), else the account's last change. One correlated subquery, evaluated by
    the database inside the accounts query."""
    first_event = (
        AuditEvent.objects.filter(
            account=OuterRef("pk"),
            created_at__gt=Coalesce(
                OuterRef("vitally_sync__synced_through"),
                Value(_LONG_AGO),
                output_field=DateTimeField(),
            ),
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )
    return Coalesce(Subquery(first_event), F("changed_at"), output_field=DateTimeField())


def unacknowledged() -> Q:
    """Linked, and Vitally has not acknowledged its current version (or no sync row yet)."""
    return _linked() & (
        Q(vitally_sync__isnull=True) | Q(change_version__gt=F("vitally_sync__acked_version"))
    )


def _accounts_figures(config: SyncConfig) -> dict:
    """One query: accounts per state, quarantined accounts, the oldest unacknowledged change's
    age (on the database's clock, like every wait of the sync)."""
    counts = {state: Count("pk", filter=Q(vitally_metrics_state=state)) for state in STATES}
    return Account.objects.annotate(vitally_metrics_state=account_state(config)).aggregate(
        **counts,
        quarantined=Count(
            "pk", filter=_linked() & Q(vitally_sync__status=AccountSync.Status.ATTENTION)
        ),
        oldest_age=ExpressionWrapper(
            Now() - Min(unacknowledged_change_at(), filter=unacknowledged()),
            output_field=DurationField(),
        ),
    )


def _key_figures(config: SyncConfig) -> tuple[bool, float]:
    """Whether Vitally refuses the configured key, and the seconds left of its 429 wait."""
    row = (
        VitallyKey.objects.filter(pk=config.key_fingerprint)
        .annotate(pause=ExpressionWrapper(F("paused_until") - Now(), output_field=DurationField()))
        .values("auth_error", "pause")
        .first()
    )
    if row is None:
        return False, 0.0
    pause = row["pause"].total_seconds() if row["pause"] is not None else 0.0
    return bool(row["auth_error"]), max(0.0, pause)


def sync_figures(config: SyncConfig | None = None) -> SyncFigures:
    config = config or sync_config()
    accounts = _accounts_figures(config)
    requests = dict.fromkeys(OUTCOMES, 0)
    requests.update(
        RequestCount.objects.filter(outcome__in=OUTCOMES).values_list("outcome", "count")
    )
    key_refused, pause = _key_figures(config)
    age = accounts["oldest_age"]
    return SyncFigures(
        accounts={state: accounts[state] for state in STATES},
        quarantined=accounts["quarantined"],
        oldest_unacknowledged_age=max(0.0, age.total_seconds()) if age is not None else 0.0,
        requests=requests,
        key_refused=key_refused,
        rate_limit_pause=pause,
        trait_differences=TraitDifference.objects.count(),
    )


# --- What Prometheus reads -----------------------------------------------------------------------
class VitallySyncCollector:
    """Reads the figures from the database at each scrape (a custom collector: no state in the
    process, so every web process reports the same numbers)."""

    def collect(self):
        figures = sync_figures()
        yield GaugeMetricFamily(
            "handoff_vitally_oldest_unacknowledged_change_age_seconds",
            "How long ago the oldest change to a linked account was made that Vitally has not "
            "acknowledged yet, in seconds; 0 when Vitally holds every change.",
            value=figures.oldest_unacknowledged_age,
        )
        accounts = GaugeMetricFamily(
            "handoff_vitally_accounts",
            "Accounts per Vitally sync state, as their badge shows it: synced, pending, "
            "retrying, differs (fields or notes that differ in Vitally wait for a person), "
            "failed (Vitally refuses the API key), attention (needs a person), "
            "not_linked (no Vitally account id), not_configured (the sync is off).",
            labels=["state"],
        )
        for state in STATES:
            accounts.add_metric([state], figures.accounts[state])
        yield accounts
        requests = CounterMetricFamily(
            "handoff_vitally_requests_total",
            "Requests sent to Vitally, by how they ended: pushed (2xx), rate_limited (429), "
            "transient (5xx, timeout or no answer; retried), failed (refused, 4xx).",
            labels=["outcome"],
        )
        for outcome in OUTCOMES:
            requests.add_metric([outcome], figures.requests[outcome])
        yield requests
        yield CounterMetricFamily(
            "handoff_vitally_rate_limited_total",
            "Requests Vitally answered with 429 Too Many Requests.",
            value=figures.requests[SyncAttempt.Outcome.RATE_LIMITED],
        )
        yield GaugeMetricFamily(
            "handoff_vitally_quarantined_accounts",
            "Linked accounts whose push needs a person (Needs attention: Vitally refused the "
            "account, or too many failures in a row). Each is retried once an hour.",
            value=figures.quarantined,
        )
        yield GaugeMetricFamily(
            "handoff_vitally_key_refused",
            "1 while Vitally refuses the configured API key (401 or 403), else 0. Nothing is "
            "pushed meanwhile.",
            value=int(figures.key_refused),
        )
        yield GaugeMetricFamily(
            "handoff_vitally_rate_limit_pause_seconds",
            "Seconds left of the wait that Vitally's last 429 announced for the configured API "
            "key; nothing is sent to Vitally before it ends.",
            value=figures.rate_limit_pause,
        )
        yield GaugeMetricFamily(
            "handoff_vitally_trait_differences",
            "Differences found between the traits Vitally holds and the portal's values.",
            value=figures.trait_differences,
        )


def metrics_text() -> bytes:
    """The exposition: the Vitally sync's collector only, none of prometheus-client's
    per-process defaults (they would differ between the web processes)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(VitallySyncCollector())
    return generate_latest(registry)
