"""Reads for the logs' pages, sections, cross-account views, the digest and the Vitally sync.

Each returns what a page needs with its joins, so query counts do not grow with rows."""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from handoff.accounts.models import Account
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
SECTION_NOTES = 3  # implementation notes the account page shows


# --- The contract the Vitally sync reads -----------------------------------------------------
@dataclass(frozen=True)
class LogCounts:
    open_issues: int  # issues not resolved/closed
    open_high_risks: int  # open/monitoring risks whose band is high or critical


def log_counts(logs: "LogsRecord") -> LogCounts:
    high_from, _ = band_score_range(Risk.Band.HIGH)
    return LogCounts(
        open_issues=sum(1 for i in logs.issues if i.is_open),
        open_high_risks=sum(1 for r in logs.risks if r.is_open and (r.score or 0) >= high_from),
    )


# --- Ordering helpers ------------------------------------------------------------------------
def _rank(field: str, values) -> Case:
    return Case(
        *[When(**{field: value}, then=Value(rank)) for rank, value in enumerate(values)],
        default=Value(len(values)),
        output_field=IntegerField(),
    )


SEVERITY_RANK = _rank("severity", list(Issue.Severity))  # across accounts: in SQL

# One account's log is ordered over its rows, in Python: the same order for its list page, its
# export and its section, without a CASE expression compiled for every query.
_SEVERITIES = [severity.value for severity in Issue.Severity]
_STAGES = [stage.value for stage in ExpansionOpportunity.Stage]


def issues_in_order(issues: Iterable[Issue]) -> list[Issue]:
    """Open issues first, the most severe on top, then newest."""
    return sorted(
        issues,
        key=lambda i: (i.status in Issue.DONE_STATUSES, _SEVERITIES.index(i.severity), -i.number),
    )


def risks_in_order(risks: Iterable[Risk]) -> list[Risk]:
    """Open and monitored risks first, the highest score on top, then newest."""
    return sorted(risks, key=lambda r: (not r.is_open, -(r.score or 0), -r.number))


def opportunities_in_order(opportunities: Iterable[ExpansionOpportunity]) -> list:
    """By stage, then newest."""
    newest = sorted(opportunities, key=lambda o: (o.created_at, o.pk), reverse=True)
    return sorted(newest, key=lambda o: _STAGES.index(o.stage))


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
    return [*rows], rows[0].total if rows else 0


def journal_entry_get(*, account_id: int, entry_id: int) -> JournalEntry:
    return JournalEntry.objects.select_related("author", "account").get(
        pk=entry_id, account_id=account_id
    )


def journal_edit_history_get(
    *, account_id: int, entry_ids: list[int]
) -> dict[int, list[AuditEvent]]:
    """The corrections of each entry (earlier text → new text), one query for all entries."""
    events = AuditEvent.objects.filter(
        account_id=account_id,
        object_type=JournalEntry._meta.label_lower,
        object_id__in=[str(pk) for pk in entry_ids],
        action=AuditEvent.Kind.UPDATE,
    ).order_by("-created_at", "-id")
    history: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in events:
        history[int(event.object_id)].append(event)
    return history


# --- Issues Log ------------------------------------------------------------------------------
OPEN_FILTER = "open_any"  # the list filter meaning "open, in progress or blocked"
# The list filter meaning "due for an update": open and stale by logs/staleness.py's rule, the
# one My work counts with (accounts_with_items_due_list), so a count and its list agree.
DUE_FILTER = "due"


def issue_list(
    *, account_id: int, status: str = "", severity: str = "", owner_id: int | None = None
) -> list[Issue]:
    """Open issues first, the most severe on top, then newest."""
    qs = Issue.objects.filter(account_id=account_id).select_related(
        "owner", "raised_by", "source_risk"
    )
    if status == OPEN_FILTER:
        qs = qs.filter(status__in=Issue.OPEN_STATUSES)
    elif status == DUE_FILTER:
        qs = qs.filter(issue_stale_q(now=timezone.now()))
    elif status:
        qs = qs.filter(status=status)
    if severity:
        qs = qs.filter(severity=severity)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    return issues_in_order(qs.order_by())


def issue_get(*, account_id: int, issue_id: int) -> Issue:
    return Issue.objects.select_related("account", "owner", "raised_by", "source_risk").get(
        pk=issue_id, account_id=account_id
    )


def issue_note_list(*, issue_id: int) -> QuerySet[IssueNote]:
    return IssueNote.objects.filter(issue_id=issue_id).select_related("author")


# --- Risk Log --------------------------------------------------------------------------------
def risk_list(
    *, account_id: int, status: str = "", band: str = "", owner_id: int | None = None
) -> list[Risk]:
    """Open and monitored risks first, the highest score on top."""
    qs = with_score(
        Risk.objects.filter(account_id=account_id).select_related("owner", "issue", "raised_by")
    )
    if status == OPEN_FILTER:
        qs = qs.filter(status__in=Risk.OPEN_STATUSES)
    elif status == DUE_FILTER:
        qs = qs.filter(risk_stale_q(now=timezone.now()))
    elif status:
        qs = qs.filter(status=status)
    if band:
        low, high = band_score_range(band)
        qs = qs.filter(risk_score__gte=low, risk_score__lte=high)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    return risks_in_order(qs.order_by())


def risk_get(*, account_id: int, risk_id: int) -> Risk:
    return Risk.objects.select_related("account", "owner", "raised_by", "issue").get(
        pk=risk_id, account_id=account_id
    )


# --- Expansion Opportunities -----------------------------------------------------------------
def opportunity_list(
    *,
    account_id: int,
    stage: str = "",
    opportunity_type: str = "",
    owner_id: int | None = None,
) -> list[ExpansionOpportunity]:
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
    return opportunities_in_order(qs.order_by())


def opportunity_get(*, account_id: int, opportunity_id: int) -> ExpansionOpportunity:
    return ExpansionOpportunity.objects.select_related("account", "owner", "identified_by").get(
        pk=opportunity_id, account_id=account_id
    )


# --- The logs' slice of an account's record (handoff/record.py) ------------------------------
@dataclass(frozen=True)
class LogsRecord:
    notes: list[JournalEntry]  # newest first: every note for the snapshot, else the newest few
    notes_total: int
    issues: list[Issue]  # as issue_list orders them
    risks: list[Risk]  # as risk_list orders them
    opportunities: list[ExpansionOpportunity]  # as opportunity_list orders them


def logs_record_get(*, account_id: int, for_snapshot: bool = False) -> LogsRecord:
    """Four queries, whatever the logs' size. The people the rows name, and a risk's issue, are
    set by the record's loader from what is loaded. Without `for_snapshot`, only the newest
    SECTION_NOTES notes and their total (one query): the pages show no more."""
    if for_snapshot:
        notes = list(
            JournalEntry.objects.filter(account_id=account_id).order_by("-created_at", "-id")
        )
        total = len(notes)
    else:
        notes, total = journal_latest_get(account_id=account_id, limit=SECTION_NOTES)
    return _logs_record_build(
        notes=notes,
        notes_total=total,
        issues=_issues_for_record().filter(account_id=account_id).order_by(),
        risks=Risk.objects.filter(account_id=account_id).order_by(),
        opportunities=ExpansionOpportunity.objects.filter(account_id=account_id).order_by(),
    )


def logs_records_list(*, account_ids: list[int]) -> dict[int, LogsRecord]:
    """The logs' slice of many accounts (handoff.record.account_records_list), as the pages
    load it: the same four queries whatever the number of accounts (the newest notes of each
    account and their total come from window functions partitioned by account)."""
    by_account = Window(Count("pk"), partition_by=[F("account_id")])
    notes = (
        JournalEntry.objects.filter(account_id__in=account_ids)
        .annotate(
            total=by_account,
            row=Window(
                RowNumber(),
                partition_by=[F("account_id")],
                order_by=[F("created_at").desc(), F("id").desc()],
            ),
        )
        .filter(row__lte=SECTION_NOTES)
        .order_by("account_id", "-created_at", "-id")
    )
    grouped: dict[str, dict[int, list]] = {
        kind: defaultdict(list) for kind in ("notes", "issues", "risks", "opportunities")
    }
    for kind, rows in (
        ("notes", notes),
        ("issues", _issues_for_record().filter(account_id__in=account_ids).order_by()),
        ("risks", Risk.objects.filter(account_id__in=account_ids).order_by()),
        (
            "opportunities",
            ExpansionOpportunity.objects.filter(account_id__in=account_ids).order_by(),
        ),
    ):
        for row in rows:
            grouped[kind][row.account_id].append(row)
    return {
        pk: _logs_record_build(
            notes=grouped["notes"][pk],
            notes_total=grouped["notes"][pk][0].total if grouped["notes"][pk] else 0,
            issues=grouped["issues"][pk],
            risks=grouped["risks"][pk],
            opportunities=grouped["opportunities"][pk],
        )
        for pk in account_ids
    }


def _issues_for_record() -> QuerySet[Issue]:
    # The reverse one-to-one (the risk an issue came from) is joined: an issue without one
    # would otherwise ask the database whether it has one.
    return Issue.objects.select_related("source_risk")


def _logs_record_build(*, notes, notes_total, issues, risks, opportunities) -> LogsRecord:
    """Each log in its list page's order."""
    return LogsRecord(
        notes=list(notes),
        notes_total=notes_total,
        issues=issues_in_order(issues),
        risks=risks_in_order(risks),
        opportunities=opportunities_in_order(opportunities),
    )


def logs_of(record) -> LogsRecord:
    return record.slices["logs"]


def issue_summary(issues: list[Issue], *, now: datetime.datetime) -> dict[str, int]:
    open_issues = [i for i in issues if i.is_open]
    return {
        "total": len(issues),
        "open": len(open_issues),
        "critical": sum(1 for i in open_issues if i.severity == Issue.Severity.CRITICAL),
        "stale": sum(1 for i in open_issues if issue_stale_reason(i, now=now)),
    }


def risk_summary(risks: list[Risk], *, now: datetime.datetime) -> dict[str, int]:
    high_from, _ = band_score_range(Risk.Band.HIGH)
    open_risks = [r for r in risks if r.is_open]
    return {
        "total": len(risks),
        "open": len(open_risks),
        "high": sum(1 for r in open_risks if (r.score or 0) >= high_from),
        "stale": sum(1 for r in open_risks if risk_stale_reason(r, now=now)),
    }


def opportunity_summary(opportunities: list[ExpansionOpportunity]) -> dict[str, int]:
    return {
        "total": len(opportunities),
        "active": sum(1 for o in opportunities if o.stage in ExpansionOpportunity.ACTIVE_STAGES),
        "won": sum(1 for o in opportunities if o.stage == ExpansionOpportunity.Stage.WON),
    }


# --- Across accounts -------------------------------------------------------------------------
def _people_filter(*, owner_id, implementation_engineer_id, technical_advisor_id) -> Q:
    """The item's owner, and its account's engineer and advisor: what the cross-account pages'
    people filters name."""
    q = Q()
    if owner_id:
        q &= Q(owner_id=owner_id)
    if implementation_engineer_id:
        q &= Q(account__implementation_engineer_id=implementation_engineer_id)
    if technical_advisor_id:
        q &= Q(account__technical_advisor_id=technical_advisor_id)
    return q


def issue_overview_list(
    *,
    severity: str = "",
    owner_id: int | None = None,
    implementation_engineer_id: int | None = None,
    technical_advisor_id: int | None = None,
) -> QuerySet[Issue]:
    """Every open issue across accounts, the most severe first, then the longest open."""
    qs = Issue.objects.filter(
        _people_filter(
            owner_id=owner_id,
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
    owner_id: int | None = None,
    implementation_engineer_id: int | None = None,
    technical_advisor_id: int | None = None,
) -> QuerySet[Risk]:
    qs = with_score(
        Risk.objects.filter(
            _people_filter(
                owner_id=owner_id,
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
    owner_id: int | None = None,
    implementation_engineer_id: int | None = None,
    technical_advisor_id: int | None = None,
) -> list[HeatmapRow]:
    """5 × 5 counts of open risks: rows from likelihood 5 (top) to 1, columns impact 1 to 5.
    One grouped query."""
    counts = {
        (row["likelihood"], row["impact"]): row["n"]
        for row in open_risk_list(
            owner_id=owner_id,
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
def stale_item_list_by_owner(*, now: datetime.datetime) -> dict:
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
        issue.digest_reason = issue_stale_reason(issue, now=now)  # type: ignore[attr-defined]
        by_owner[issue.owner].append(issue)
    for risk in risks:
        risk.digest_reason = risk_stale_reason(risk, now=now)
        by_owner[risk.owner].append(risk)
    for items in by_owner.values():
        items.sort(key=lambda item: item.account.name)  # stable: keeps issues before risks
    return dict(by_owner)


# --- My work (handoff/accounts/inbox.py) ------------------------------------------------------
def accounts_with_items_due_list(accounts: QuerySet, *, now: datetime.datetime) -> list:
    """The handed-off accounts among `accounts` with open issues or risks due for an update
    (the staleness rule as SQL), each with `issues_due` and `risks_due`. One query."""
    issues = (
        Issue.objects.filter(issue_stale_q(now=now), account_id=OuterRef("pk"))
        .order_by()
        .values("account_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    risks = (
        with_score(Risk.objects.filter(account_id=OuterRef("pk")))
        .filter(risk_stale_q(now=now))
        .order_by()
        .values("account_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        accounts.filter(phase=Account.Phase.HANDED_OFF)
        .annotate(
            issues_due=Coalesce(Subquery(issues), 0),
            risks_due=Coalesce(Subquery(risks), 0),
        )
        .filter(Q(issues_due__gt=0) | Q(risks_due__gt=0))
        .order_by("name", "pk")
    )


def critical_risk_list(accounts: QuerySet) -> list[Risk]:
    """Open and monitored risks of band critical on `accounts`, the highest score first. One
    query."""
    critical_from, _ = band_score_range(Risk.Band.CRITICAL)
    return list(
        with_score(Risk.objects.filter(account__in=accounts, status__in=Risk.OPEN_STATUSES))
        .filter(risk_score__gte=critical_from)
        .select_related("account", "owner")
        .order_by("-risk_score", "account__name", "number")
    )


def item_history_list(*, obj, limit: int = 50) -> QuerySet[AuditEvent]:
    """The audit events of one log item, newest first."""
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("-created_at", "-id")[:limit]
