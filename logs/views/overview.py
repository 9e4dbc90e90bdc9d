"""Across accounts, for TAs and managers: open issues by severity, and the risk heatmap."""

from itertools import groupby

from django.shortcuts import render

from handoff.permissions import Action, require
from logs.forms import IssueOverviewFilterForm, RiskHeatmapFilterForm
from logs.models import Issue, Risk
from logs.scoring import BANDS
from logs.selectors import issue_overview_list, open_risk_list, risk_heatmap_get
from logs.views.common import rows_or_page


def _render(request, template: str, rows_template: str, context: dict):
    """The page, or (an htmx change of its filters) the part under the filter bar."""
    return render(request, rows_template if request.htmx else template, context)


@rows_or_page
def issue_overview_view(request):
    require(request.user, Action.LOGS_OVERVIEW)
    filter_form = IssueOverviewFilterForm(request.GET, viewer=request.user)
    filters = filter_form.filters()
    issues = list(issue_overview_list(**filters))
    labels = dict(Issue.Severity.choices)
    groups = [
        {"severity": key, "label": labels[key], "issues": list(rows)}
        for key, rows in groupby(issues, key=lambda issue: issue.severity)
    ]
    return _render(
        request,
        "logs/issue_overview.html",
        "logs/_issue_overview_rows.html",
        {"groups": groups, "total": len(issues), "filter_form": filter_form},
    )


RISK_LIST_LIMIT = 50


@rows_or_page
def risk_heatmap_view(request):
    """The 5 × 5 matrix of open risks; a cell's link lists its risks under the matrix."""
    require(request.user, Action.LOGS_OVERVIEW)
    filter_form = RiskHeatmapFilterForm(request.GET, viewer=request.user)
    people = filter_form.filters()
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
    return _render(
        request,
        "logs/risk_heatmap.html",
        "logs/_risk_heatmap_rows.html",
        {
            "grid": grid,
            "total": total,
            "impacts": Risk.Impact.choices,
            "risks": risks,
            "selected": {"likelihood": likelihood, "impact": impact} if likelihood else None,
            "filter_form": filter_form,
            "people_query": query.urlencode(),
            "bands": BANDS,
        },
    )
