"""Risk Log: list (filters, inline add / edit / status / "It happened"), item page, CSV."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from handoff.permissions import Action, can, require
from logs.csv_export import csv_response
from logs.forms import (
    RISK_BAND_FILTERS,
    RISK_STATUS_FILTERS,
    RiskFilterForm,
    RiskForm,
    RiskStatusForm,
)
from logs.models import Risk
from logs.selectors import item_history, risk_get, risk_list
from logs.services import (
    RISK_FIELDS,
    risk_create,
    risk_mark_occurred,
    risk_status_change,
    risk_update,
)
from logs.views.common import (
    account_or_404,
    create_form_save,
    created_response,
    edit_form_save,
    owner_filter,
    render_form,
    scoped_or_404,
    with_edit_permission,
)

COLUMNS = 8
STATUS_ERROR = "Choose one of the statuses."


def _risk(request, account_id: int, risk_id: int, action=Action.LOG_EDIT):
    account = account_or_404(account_id)
    risk = scoped_or_404(risk_get, account_id=account.pk, risk_id=risk_id)
    require(request.user, action, account, obj=risk if action == Action.LOG_EDIT else None)
    return account, risk


def _status_choices():
    return [(v, label) for v, label in Risk.Status.choices if v != Risk.Status.OCCURRED]


def _row(request, account, risk, *, status_error: str = ""):
    with_edit_permission([risk], request.user, account)
    return render(
        request,
        "logs/_risk_row.html",
        {
            "account": account,
            "risk": risk,
            "statuses": _status_choices(),
            "status_error": status_error,
        },
    )


def risk_list_view(request, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    filters = RiskFilterForm(request.GET).filters()
    risks = with_edit_permission(
        list(risk_list(account_id=account.pk, **filters)), request.user, account
    )
    context = {
        "account": account,
        "items": risks,
        "statuses": _status_choices(),
        "filtered": any(filters.values()),
        "rows_template": "logs/_risk_rows.html",
    }
    if request.htmx:
        return render(request, "logs/_risk_rows.html", context)
    context.update(
        {
            "log_title": "Risk Log",
            "lede": "Potential future problems, and the responses if they come to fruition. "
            "Score = likelihood × impact: low 1–4, medium 5–9, high 10–15, critical 16–25.",
            "list_url": reverse("logs:risk_list", args=[account.pk]),
            "add_url": reverse("logs:risk_create", args=[account.pk]),
            "add_label": "New risk",
            "export_url": reverse("logs:risk_export", args=[account.pk]),
            "can_add": can(request.user, Action.LOG_EDIT, account),
            "filter_fields": [
                {
                    "name": "status",
                    "label": "Status",
                    "options": RISK_STATUS_FILTERS,
                    "selected": filters["status"],
                },
                {
                    "name": "band",
                    "label": "Band",
                    "options": RISK_BAND_FILTERS,
                    "selected": filters["band"],
                },
                owner_filter(filters["owner_id"]),
            ],
        }
    )
    return render(request, "logs/log_list.html", context)


@require_http_methods(["GET", "POST"])
def risk_create_view(request, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.LOG_EDIT, account)
    form = RiskForm(request.POST or None, auto_id="new-risk-%s", initial={"owner": request.user})
    list_url = reverse("logs:risk_list", args=[account.pk])
    risk = create_form_save(
        request, form, create=partial(risk_create, account=account, actor=request.user)
    )
    if risk is not None:
        message = (
            f"{risk.reference} “{risk.title}” added to the Risk Log: score {risk.score}, "
            f"{risk.band.label.lower()}."
        )
        return created_response(request, message=message, list_url=list_url)
    return render_form(
        request,
        form=form,
        account=account,
        heading="New risk",
        submit_label="Add risk",
        action_url=reverse("logs:risk_create", args=[account.pk]),
        hx_target="#log-form-slot",
        hx_swap="innerHTML",
        back_url=list_url,
        back_label="Risk Log",
    )


@require_http_methods(["GET", "POST"])
def risk_edit_view(request, account_id: int, risk_id: int):
    account, risk = _risk(request, account_id, risk_id)
    form = RiskForm(request.POST or None, instance=risk, auto_id=f"risk-{risk.pk}-%s")
    saved, conflict = edit_form_save(
        request,
        form,
        fields=RISK_FIELDS,
        update=partial(risk_update, risk=risk, actor=request.user),
    )
    if saved is not None:
        risk = saved
        if request.htmx:
            return _row(request, account, risk_get(account_id=account.pk, risk_id=risk.pk))
        messages.success(request, f"{risk.reference} saved.")
        return redirect(risk)
    return render_form(
        request,
        template_partial="logs/_edit_row.html",
        form=form,
        account=account,
        item=risk,
        conflict=conflict,
        colspan=COLUMNS,
        heading=f"Edit {risk.reference}",
        submit_label="Save risk",
        action_url=reverse("logs:risk_edit", args=[account.pk, risk.pk]),
        hx_target=f"#risk-{risk.pk}",
        hx_swap="outerHTML",
        cancel_url=reverse("logs:risk_row", args=[account.pk, risk.pk]),
        back_url=risk.get_absolute_url(),
        back_label=risk.reference,
    )


def risk_row_view(request, account_id: int, risk_id: int):
    account, risk = _risk(request, account_id, risk_id, action=Action.ACCOUNT_VIEW)
    return _row(request, account, risk)


@require_POST
def risk_status_view(request, account_id: int, risk_id: int):
    account, risk = _risk(request, account_id, risk_id)
    form = RiskStatusForm(request.POST)
    if form.is_valid():
        risk = risk_status_change(risk=risk, actor=request.user, status=form.cleaned_data["status"])
        if not request.htmx:
            messages.success(
                request, f"{risk.reference} is now {risk.get_status_display().lower()}."
            )
    elif not request.htmx:
        messages.error(request, STATUS_ERROR)
    if request.htmx:  # refused: the row again, its select marked with the message beside it
        error = "" if form.is_valid() else STATUS_ERROR
        fresh = risk_get(account_id=account.pk, risk_id=risk.pk)
        return _row(request, account, fresh, status_error=error)
    return redirect(risk)


@require_POST
def risk_occurred_view(request, account_id: int, risk_id: int):
    """ "It happened": the risk becomes an issue, linked both ways."""
    account, risk = _risk(request, account_id, risk_id)
    try:
        issue = risk_mark_occurred(risk=risk, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(risk)
    if request.htmx:
        return _row(request, account, risk_get(account_id=account.pk, risk_id=risk.pk))
    messages.success(request, f"{risk.reference} occurred: {issue.reference} raised.")
    return redirect(issue)


def risk_detail_view(request, account_id: int, risk_id: int):
    account, risk = _risk(request, account_id, risk_id, action=Action.ACCOUNT_VIEW)
    return render(
        request,
        "logs/risk_detail.html",
        {
            "account": account,
            "risk": risk,
            "history": item_history(obj=risk),
            "can_edit": can(request.user, Action.LOG_EDIT, account, obj=risk),
            "statuses": _status_choices(),
        },
    )


def risk_export_view(request, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    risks = risk_list(account_id=account.pk, **RiskFilterForm(request.GET).filters())
    header = [
        "Number",
        "Title",
        "Category",
        "Description",
        "Likelihood",
        "Impact",
        "Score",
        "Band",
        "Trigger",
        "Response strategy",
        "Response plan",
        "Owner",
        "Status",
        "Next review date",
        "Issue raised",
    ]
    rows = (
        [
            r.reference,
            r.title,
            r.get_category_display(),
            r.description,
            r.likelihood,
            r.impact,
            r.score,
            r.band.label,
            r.trigger,
            r.get_response_strategy_display(),
            r.response_plan,
            r.owner,
            r.get_status_display(),
            r.next_review_date,
            r.issue.reference if r.issue else "",
        ]
        for r in risks
    )
    return csv_response(account=account, log="risks", header=header, rows=rows)
