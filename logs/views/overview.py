"""Across accounts, for TAs and managers: open issues by severity, and the risk heatmap."""

from itertools import groupby

from django.shortcuts import render

from handoff.people.models import User
from handoff.people.selectors import user_list_by_role
from handoff.permissions import Action, require
from logs.forms import IssueOverviewFilterForm, RiskHeatmapFilterForm
from logs.models import Issue, Risk
from logs.scoring import BANDS
from logs.selectors import issue_overview_list, open_risk_list, risk_heatmap_get


def _people_choices() -> dict:
    return {
        "engineers": list(user_list_by_role(role=User.Role.IMPLEMENTATION_ENGINEER)),
        "advisors": list(user_list_by_role(role=User.Role.TECHNICAL_ADVISOR)),
    }


def issue_overview_view(request):
    require(request.user, Action.LOGS_OVERVIEW)
    filters = IssueOverviewFilterForm(request.GET).filters()
    issues = list(issue_overview_list(**filters))
    labels = dict(Issue.Severity.choices)
    groups = [
        {"severity": key, "label": labels[key], "issues": list(rows)}
        for key, rows in groupby(issues, key=lambda issue: issue.severity)
    ]
    return render(
        request,
        "logs/issue_overview.html",
        {
            "groups": groups,
            "total": len(issues),
            "filters": filters,
            "severities": Issue.Severity.choices,
            **_people_choices(),
        },
    )


RISK_LIST_LIMIT = 50


def risk_heatmap_view(request):
    """The 5 × 5 matrix of open risks; a cell's link lists its risks under the matrix."""
    require(request.user, Action.LOGS_OVERVIEW)
    people = RiskHeatmapFilterForm(request.GET).filters()
    likelihood, impact = people.pop("likelihood"), people.pop("impact")  # the cell, if any
    query = request.GET.copy()
    for key in ("likelihood", "impact"):
        query.pop(key, None)
    grid = risk_heatmap_get(**people)
    if likelihood:
        total = next(
            c.count
            for r in grid
            for c in r.cells
            if (c.likelihood, c.impact) == (likelihood, impact)
        )
    else:
        total = sum(cell.count for row in grid for cell in row.cells)
    # A portfolio holds thousands of open risks: list the highest-scoring ones (the queryset is
    # ordered by score), the matrix above counts them all.
    risks = list(open_risk_list(likelihood=likelihood, impact=impact, **people)[:RISK_LIST_LIMIT])
    return render(
        request,
        "logs/risk_heatmap.html",
        {
            "grid": grid,
            "total": total,
            "impacts": Risk.Impact.choices,
            "risks": risks,
            "selected": {"likelihood": likelihood, "impact": impact} if likelihood else None,
            "filters": people,
            "people_query": query.urlencode(),
            "bands": BANDS,
            **_people_choices(),
        },
    )
