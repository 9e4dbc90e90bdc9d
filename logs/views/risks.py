"""Risk Log: its spec (the generic pages in generic.py serve it), and what only risks have:
"It happened", which raises the issue."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from logs.forms import RiskFilterForm, RiskForm, RiskStatusForm
from logs.models import Risk
from logs.selectors import risk_get, risk_list
from logs.services import (
    RiskAlreadyOccurred,
    risk_create,
    risk_mark_occurred,
    risk_status_change,
    risk_update,
)
from logs.views.generic import LogSpec, item_or_404, render_row

RISKS = LogSpec(
    name="risk",
    model=Risk,
    url_prefix="risks",
    form=RiskForm,
    filter_form=RiskFilterForm,
    status_form=RiskStatusForm,  # offers every status but "occurred" (that is "It happened")
    status_field="status",
    create=risk_create,
    update=risk_update,
    change_status=risk_status_change,
    list_selector=risk_list,
    get_selector=risk_get,
    row_template="logs/_risk_row.html",
    rows_template="logs/_risk_rows.html",
    detail_template="logs/risk_detail.html",
    columns=8,
    csv_name="risks",
    csv_columns=(
        ("Number", lambda r: r.reference),
        ("Title", lambda r: r.title),
        ("Category", lambda r: r.get_category_display()),
        ("Description", lambda r: r.description),
        ("Likelihood", lambda r: r.likelihood),
        ("Impact", lambda r: r.impact),
        ("Score", lambda r: r.score),
        ("Band", lambda r: r.band.label),
        ("Trigger", lambda r: r.trigger),
        ("Response strategy", lambda r: r.get_response_strategy_display()),
        ("Response plan", lambda r: r.response_plan),
        ("Owner", lambda r: r.owner),
        ("Status", lambda r: r.get_status_display()),
        ("Next review date", lambda r: r.next_review_date),
        ("Issue raised", lambda r: r.issue.reference if r.issue else ""),
    ),
    title="Risk Log",
    section="risk-log",
    lede="Potential future problems, and the responses if they come to fruition. "
    "Score = likelihood × impact: low 1–4, medium 5–9, high 10–15, critical 16–25.",
    create_heading="New risk",
    status_error="Choose one of the statuses.",
    created_message=lambda r: (
        f"{r.reference} “{r.title}” added to the Risk Log: score {r.score}, {r.band.label.lower()}."
    ),
)


@require_POST
def risk_occurred_view(request, account_id: int, risk_id: int):
    """ "It happened": the risk becomes an issue, linked both ways."""
    account, risk = item_or_404(request, RISKS, account_id, risk_id, edit=True)
    try:
        issue = risk_mark_occurred(risk=risk, actor=request.user)
    except RiskAlreadyOccurred as already:
        if request.htmx:
            return render_row(request, RISKS, account, RISKS.get(account, risk.pk))
        messages.info(request, f"{already} Nothing changed.")
        return redirect(already.issue)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(risk)
    if request.htmx:
        return render_row(request, RISKS, account, RISKS.get(account, risk.pk))
    messages.success(request, f"{risk.reference} occurred: {issue.reference} raised.")
    return redirect(issue)
