"""Reads for the logs' pages, sections, cross-account views, the digest and the Vitally sync.

Each returns what a page needs with its joins, so query counts do not grow with rows."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.utils import timezone

from handoff.audit.models import AuditEvent
from logs.models import ExpansionOpportunity, Issue, IssueNote, JournalEntry, Risk
from logs.scoring import band_score_range, risk_band
from logs.staleness import (
    issue_stale_q,
    issue_stale_reason,
    risk_stale_q,
    risk_stale_reason,
    with_score,
)

SECTION_ROWS = 5  # rows an account-page section shows before "View all"


# --- The contract the Vitally sync reads -----------------------------------------------------
@dataclass(frozen=True)
class LogCounts:
    open_issues: int  # issues not resolved/closed
    open_high_risks: int  # open/monitoring risks whose band is high or critical


def log_counts_get(*, account_id: int) -> LogCounts:
    """Two queries, whatever the size of the logs."""
    open_issues = Issue.objects.filter(
        account_id=account_id, status__in=Issue.OPEN_STATUSES
    ).count()
    high_from, _ = band_score_range(Risk.Band.HIGH)
    open_high_risks = (
        with_score(Risk.objects.filter(account_id=account_id, status__in=Risk.OPEN_STATUSES))
        .filter(risk_score__gte=high_from)
        .count()
    )
    return LogCounts(open_issues=open_issues, open_high_risks=open_high_risks)


def log_counts_of(*, account) -> LogCounts:
    """As `log_counts_get`, from the rows the handoff load prefetched when it did (no query)."""
    issues, risks = prefetched(account, "issues"), prefetched(account, "risks")
    if issues is None or risks is None:
        return log_counts_get(account_id=account.pk)
    high_from, _ = band_score_range(Risk.Band.HIGH)
    return LogCounts(
        open_issues=sum(1 for i in issues if i.is_open),
        open_high_risks=sum(1 for r in risks if r.is_open and (r.score or 0) >= high_from),
    )


# --- Ordering helpers ------------------------------------------------------------------------
def _rank(field: str, values) -> Case:
    return Case(
        *[When(**{field: value}, then=Value(rank)) for rank, value in enumerate(values)],
        default=Value(len(values)),
        output_field=IntegerField(),
    )


SEVERITY_RANK = _rank("severity", list(Issue.Severity))
ISSUE_DONE_RANK = Case(
    When(status__in=Issue.DONE_STATUSES, then=Value(1)),
    default=Value(0),
    output_field=IntegerField(),
)
RISK_DONE_RANK = Case(
    When(status__in=Risk.OPEN_STATUSES, then=Value(0)),
    default=Value(1),
    output_field=IntegerField(),
)
STAGE_RANK = _rank("stage", list(ExpansionOpportunity.Stage))


# --- Implementation notes --------------------------------------------------------------------
def journal_entry_list(
    *, account_id: int, category: str = "", kind: str = "", author_id: int | None = None
) -> QuerySet[JournalEntry]:
    qs = JournalEntry.objects.filter(account_id=account_id).select_related("author")
    if category:
        qs = qs.filter(category=category)
    if kind:
        qs = qs.filter(kind=kind)
    if author_id:
        qs = qs.filter(author_id=author_id)
    return qs.order_by("-created_at", "-id")


def journal_latest_get(*, account_id: int, limit: int) -> tuple[list[JournalEntry], int]:
    """The newest `limit` notes and how many there are, in one query (the window count is taken
    before the LIMIT): an account page costs the same with 3 notes or 3,000."""
    rows = list(
        journal_entry_list(account_id=account_id).annotate(total=Window(Count("pk")))[:limit]
    )
    return rows, rows[0].total if rows else 0


def journal_entry_get(*, account_id: int, entry_id: int) -> JournalEntry:
    return JournalEntry.objects.select_related("author", "account").get(
        pk=entry_id, account_id=account_id
    )


def journal_edit_history(*, account_id: int, entry_ids: list[int]) -> dict[int, list[AuditEvent]]:
    """The corrections of each entry (earlier text → new text), one query for all entries."""
    events = AuditEvent.objects.filter(
        account_id=account_id,
        object_type=JournalEntry._meta.label_lower,
        object_id__in=[str(pk) for pk in entry_ids],
        action=AuditEvent.Action.UPDATE,
    ).order_by("-created_at", "-id")
    history: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in events:
        history[int(event.object_id)].append(event)
    return history


# --- Issues Log ------------------------------------------------------------------------------
OPEN_FILTER = "open_any"  # the list filter meaning "open, in progress or blocked"


def issue_list(
    *, account_id: int, status: str = "", severity: str = "", owner_id: int | None = None
) -> QuerySet[Issue]:
    """Open issues first, the most severe on top, then newest."""
    qs = Issue.objects.filter(account_id=account_id).select_related(
        "owner", "raised_by", "source_risk"
    )
    if status == OPEN_FILTER:
        qs = qs.filter(status__in=Issue.OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if severity:
        qs = qs.filter(severity=severity)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    return qs.alias(done=ISSUE_DONE_RANK, rank=SEVERITY_RANK).order_by("done", "rank", "-number")


def issue_get(*, account_id: int, issue_id: int) -> Issue:
    return Issue.objects.select_related("account", "owner", "raised_by", "source_risk").get(
        pk=issue_id, account_id=account_id
    )


def issue_note_list(*, issue_id: int) -> QuerySet[IssueNote]:
    return IssueNote.objects.filter(issue_id=issue_id).select_related("author")


def issue_summary(*, account_id: int) -> dict[str, int]:
    """Counts for the account page, one query."""
    return Issue.objects.filter(account_id=account_id).aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(status__in=Issue.OPEN_STATUSES)),
        critical=Count(
            "pk", filter=Q(status__in=Issue.OPEN_STATUSES, severity=Issue.Severity.CRITICAL)
        ),
        stale=Count("pk", filter=issue_stale_q(now=timezone.now())),
    )


# --- Risk Log --------------------------------------------------------------------------------
def risk_list(
    *, account_id: int, status: str = "", band: str = "", owner_id: int | None = None
) -> QuerySet[Risk]:
    """Open and monitored risks first, the highest score on top."""
    qs = with_score(
        Risk.objects.filter(account_id=account_id).select_related("owner", "issue", "raised_by")
    )
    if status == OPEN_FILTER:
        qs = qs.filter(status__in=Risk.OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if band:
        low, high = band_score_range(band)
        qs = qs.filter(risk_score__gte=low, risk_score__lte=high)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    return qs.alias(done=RISK_DONE_RANK).order_by("done", "-risk_score", "-number")


def risk_get(*, account_id: int, risk_id: int) -> Risk:
    return Risk.objects.select_related("account", "owner", "raised_by", "issue").get(
        pk=risk_id, account_id=account_id
    )


def risk_summary(*, account_id: int) -> dict[str, int]:
    high_from, _ = band_score_range(Risk.Band.HIGH)
    is_open = Q(status__in=Risk.OPEN_STATUSES)
    return with_score(Risk.objects.filter(account_id=account_id)).aggregate(
        total=Count("pk"),
        open=Count("pk", filter=is_open),
        high=Count("pk", filter=is_open & Q(risk_score__gte=high_from)),
        stale=Count("pk", filter=risk_stale_q(now=timezone.now())),
    )


# --- Expansion Opportunities -----------------------------------------------------------------
def opportunity_list(
    *,
    account_id: int,
    stage: str = "",
    opportunity_type: str = "",
    owner_id: int | None = None,
) -> QuerySet[ExpansionOpportunity]:
    qs = ExpansionOpportunity.objects.filter(account_id=account_id).select_related(
        "owner", "identified_by"
    )
    if stage == OPEN_FILTER:
        qs = qs.filter(stage__in=ExpansionOpportunity.ACTIVE_STAGES)
    elif stage:
        qs = qs.filter(stage=stage)
    if opportunity_type:
        qs = qs.filter(opportunity_type=opportunity_type)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    return qs.alias(rank=STAGE_RANK).order_by("rank", "-created_at", "-id")


def opportunity_get(*, account_id: int, opportunity_id: int) -> ExpansionOpportunity:
    return ExpansionOpportunity.objects.select_related("account", "owner", "identified_by").get(
        pk=opportunity_id, account_id=account_id
    )


def opportunity_summary(*, account_id: int) -> dict[str, int]:
    return ExpansionOpportunity.objects.filter(account_id=account_id).aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(stage__in=ExpansionOpportunity.ACTIVE_STAGES)),
        won=Count("pk", filter=Q(stage=ExpansionOpportunity.Stage.WON)),
    )


# --- The account as the handoff loads it ----------------------------------------------------
def handoff_prefetch() -> tuple[Prefetch, ...]:
    """What the handoff registries read (closeout's `account_handoff_get` applies it): every
    row of the four logs. Four queries, whatever the logs' size; the people they name and a
    risk's issue are set afterwards from what is loaded (loaded_relations_attach)."""
    return (
        Prefetch("journal_entries", queryset=JournalEntry.objects.order_by("-created_at", "-id")),
        # The reverse one-to-one (the risk an issue came from) is joined: an issue without one
        # would otherwise ask the database whether it has one.
        Prefetch(
            "issues", queryset=Issue.objects.select_related("source_risk").order_by("-number")
        ),
        Prefetch("risks", queryset=Risk.objects.order_by("-number")),
        Prefetch(
            "expansion_opportunities",
            queryset=ExpansionOpportunity.objects.order_by("-created_at", "-id"),
        ),
    )


def prefetched(account, name: str) -> list | None:
    """The rows `handoff_prefetch` loaded for `name`, or None when the account came without."""
    cache = getattr(account, "_prefetched_objects_cache", {})
    return list(cache[name]) if name in cache else None


# The orders and counts of the lists and summaries above, for rows already loaded (no query).
# tests/logs/test_handoff.py holds each pair together.
_SEVERITIES = list(Issue.Severity)
_STAGES = list(ExpansionOpportunity.Stage)


def journal_entries_ordered(entries: list[JournalEntry]) -> list[JournalEntry]:
    return sorted(entries, key=lambda e: (e.created_at, e.pk), reverse=True)


def issues_ordered(issues: list[Issue]) -> list[Issue]:
    """As `issue_list`: open first, the most severe on top, then newest."""
    return sorted(
        issues,
        key=lambda i: (i.status in Issue.DONE_STATUSES, _SEVERITIES.index(i.severity), -i.number),
    )


def risks_ordered(risks: list[Risk]) -> list[Risk]:
    """As `risk_list`: open and monitored first, the highest score on top, then newest."""
    return sorted(risks, key=lambda r: (not r.is_open, -r.score, -r.number))


def opportunities_ordered(opportunities: list[ExpansionOpportunity]) -> list:
    """As `opportunity_list`: by stage, then newest."""
    newest = sorted(opportunities, key=lambda o: (o.created_at, o.pk), reverse=True)
    return sorted(newest, key=lambda o: _STAGES.index(o.stage))


def issue_summary_of(issues: list[Issue], *, now: datetime.datetime) -> dict[str, int]:
    open_issues = [i for i in issues if i.is_open]
    return {
        "total": len(issues),
        "open": len(open_issues),
        "critical": sum(1 for i in open_issues if i.severity == Issue.Severity.CRITICAL),
        "stale": sum(1 for i in open_issues if issue_stale_reason(i, now=now)),
    }


def risk_summary_of(risks: list[Risk], *, now: datetime.datetime) -> dict[str, int]:
    high_from, _ = band_score_range(Risk.Band.HIGH)
    open_risks = [r for r in risks if r.is_open]
    return {
        "total": len(risks),
        "open": len(open_risks),
        "high": sum(1 for r in open_risks if r.score >= high_from),
        "stale": sum(1 for r in open_risks if risk_stale_reason(r, now=now)),
    }


def opportunity_summary_of(opportunities: list[ExpansionOpportunity]) -> dict[str, int]:
    return {
        "total": len(opportunities),
        "active": sum(1 for o in opportunities if o.stage in ExpansionOpportunity.ACTIVE_STAGES),
        "won": sum(1 for o in opportunities if o.stage == ExpansionOpportunity.Stage.WON),
    }


# --- Across accounts -------------------------------------------------------------------------
def _people_filter(prefix: str, *, implementation_engineer_id, technical_advisor_id) -> Q:
    q = Q()
    if implementation_engineer_id:
        q &= Q(**{f"{prefix}implementation_engineer_id": implementation_engineer_id})
    if technical_advisor_id:
        q &= Q(**{f"{prefix}technical_advisor_id": technical_advisor_id})
    return q


def issue_overview_list(
    *,
    severity: str = "",
    implementation_engineer_id: int | None = None,
    technical_advisor_id: int | None = None,
) -> QuerySet[Issue]:
    """Every open issue across accounts, the most severe first, then the longest open."""
    qs = Issue.objects.filter(
        _people_filter(
            "account__",
            implementation_engineer_id=implementation_engineer_id,
            technical_advisor_id=technical_advisor_id,
        ),
        status__in=Issue.OPEN_STATUSES,
    ).select_related("account", "owner")
    if severity:
        qs = qs.filter(severity=severity)
    return qs.alias(rank=SEVERITY_RANK).order_by("rank", "raised_at", "pk")


def open_risk_list(
    *,
    likelihood: int | None = None,
    impact: int | None = None,
    implementation_engineer_id: int | None = None,
    technical_advisor_id: int | None = None,
) -> QuerySet[Risk]:
    qs = with_score(
        Risk.objects.filter(
            _people_filter(
                "account__",
                implementation_engineer_id=implementation_engineer_id,
                technical_advisor_id=technical_advisor_id,
            ),
            status__in=Risk.OPEN_STATUSES,
        ).select_related("account", "owner")
    )
    if likelihood:
        qs = qs.filter(likelihood=likelihood)
    if impact:
        qs = qs.filter(impact=impact)
    return qs.order_by("-risk_score", "account__name", "number")


@dataclass(frozen=True)
class HeatmapCell:
    likelihood: int
    impact: int
    count: int

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def band(self) -> Risk.Band:
        return risk_band(self.score)


@dataclass(frozen=True)
class HeatmapRow:
    likelihood: int
    label: str
    cells: list[HeatmapCell]


def risk_heatmap_get(
    *,
    implementation_engineer_id: int | None = None,
    technical_advisor_id: int | None = None,
) -> list[HeatmapRow]:
    """5 × 5 counts of open risks: rows from likelihood 5 (top) to 1, columns impact 1 to 5.
    One grouped query."""
    counts = {
        (row["likelihood"], row["impact"]): row["n"]
        for row in open_risk_list(
            implementation_engineer_id=implementation_engineer_id,
            technical_advisor_id=technical_advisor_id,
        )
        .order_by()
        .values("likelihood", "impact")
        .annotate(n=Count("pk"))
    }
    return [
        HeatmapRow(
            likelihood=likelihood,
            label=Risk.Likelihood(likelihood).label,
            cells=[
                HeatmapCell(likelihood, impact, counts.get((likelihood, impact), 0))
                for impact in range(1, 6)
            ],
        )
        for likelihood in range(5, 0, -1)
    ]


# --- Staleness digest ------------------------------------------------------------------------
def stale_items_by_owner(*, now: datetime.datetime) -> dict:
    """{owner: [stale issues and risks]} for active owners, two queries. Each item carries
    `digest_reason`, why it is stale at `now`."""
    issues = (
        Issue.objects.filter(issue_stale_q(now=now), owner__is_active=True)
        .select_related("account", "owner")
        .alias(rank=SEVERITY_RANK)
        .order_by("account__name", "rank", "number")
    )
    risks = (
        with_score(Risk.objects.select_related("account", "owner"))
        .filter(risk_stale_q(now=now), owner__is_active=True)
        .order_by("account__name", "-risk_score", "number")
    )
    by_owner: dict = defaultdict(list)
    for issue in issues:
        issue.digest_reason = issue_stale_reason(issue, now=now)
        by_owner[issue.owner].append(issue)
    for risk in risks:
        risk.digest_reason = risk_stale_reason(risk, now=now)
        by_owner[risk.owner].append(risk)
    for items in by_owner.values():
        items.sort(key=lambda item: item.account.name)  # stable: keeps issues before risks
    return dict(by_owner)


def item_history(*, obj, limit: int = 50) -> QuerySet[AuditEvent]:
    """The audit events of one log item, newest first."""
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("-created_at", "-id")[:limit]
