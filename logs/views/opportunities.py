"""Expansion Opportunities: list (filters, inline add / edit / stage), item page, CSV."""

from functools import partial

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from handoff.permissions import Action, can, require
from logs.csv_export import csv_response
from logs.forms import (
    STAGE_FILTERS,
    OpportunityFilterForm,
    OpportunityForm,
    OpportunityStageForm,
)
from logs.models import ExpansionOpportunity
from logs.selectors import item_history, opportunity_get, opportunity_list
from logs.services import (
    OPPORTUNITY_FIELDS,
    opportunity_create,
    opportunity_stage_change,
    opportunity_update,
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

Stage = ExpansionOpportunity.Stage
COLUMNS = 8
STAGE_ERROR = "Choose one of the stages."


def _opportunity(request, account_id: int, opportunity_id: int, action=Action.LOG_EDIT):
    account = account_or_404(account_id)
    opportunity = scoped_or_404(
        opportunity_get, account_id=account.pk, opportunity_id=opportunity_id
    )
    require(request.user, action, account, obj=opportunity if action == Action.LOG_EDIT else None)
    return account, opportunity


def _row(request, account, opportunity, *, stage_error: str = ""):
    with_edit_permission([opportunity], request.user, account)
    return render(
        request,
        "logs/_opportunity_row.html",
        {
            "account": account,
            "opportunity": opportunity,
            "stages": Stage.choices,
            "stage_error": stage_error,
        },
    )


def opportunity_list_view(request, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    filters = OpportunityFilterForm(request.GET).filters()
    opportunities = with_edit_permission(
        list(opportunity_list(account_id=account.pk, **filters)), request.user, account
    )
    context = {
        "account": account,
        "items": opportunities,
        "stages": Stage.choices,
        "filtered": any(filters.values()),
        "rows_template": "logs/_opportunity_rows.html",
    }
    if request.htmx:
        return render(request, "logs/_opportunity_rows.html", context)
    context.update(
        {
            "log_title": "Expansion Opportunities",
            "lede": "User or feature expansion spotted during implementation: identified → "
            "transitioned to TA → handed to account executive → won or lost.",
            "list_url": reverse("logs:opportunity_list", args=[account.pk]),
            "add_url": reverse("logs:opportunity_create", args=[account.pk]),
            "add_label": "New opportunity",
            "export_url": reverse("logs:opportunity_export", args=[account.pk]),
            "can_add": can(request.user, Action.LOG_EDIT, account),
            "filter_fields": [
                {
                    "name": "stage",
                    "label": "Stage",
                    "options": STAGE_FILTERS,
                    "selected": filters["stage"],
                },
                {
                    "name": "type",
                    "label": "Type",
                    "options": ExpansionOpportunity.Type.choices,
                    "selected": filters["opportunity_type"],
                },
                owner_filter(filters["owner_id"]),
            ],
        }
    )
    return render(request, "logs/log_list.html", context)


@require_http_methods(["GET", "POST"])
def opportunity_create_view(request, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.LOG_EDIT, account)
    form = OpportunityForm(
        request.POST or None, auto_id="new-opportunity-%s", initial={"owner": request.user}
    )
    list_url = reverse("logs:opportunity_list", args=[account.pk])
    opportunity = create_form_save(
        request, form, create=partial(opportunity_create, account=account, actor=request.user)
    )
    if opportunity is not None:
        message = f"Opportunity “{opportunity.title}” added."
        return created_response(request, message=message, list_url=list_url)
    return render_form(
        request,
        form=form,
        account=account,
        heading="New expansion opportunity",
        submit_label="Add opportunity",
        action_url=reverse("logs:opportunity_create", args=[account.pk]),
        hx_target="#log-form-slot",
        hx_swap="innerHTML",
        back_url=list_url,
        back_label="Expansion Opportunities",
    )


@require_http_methods(["GET", "POST"])
def opportunity_edit_view(request, account_id: int, opportunity_id: int):
    account, opportunity = _opportunity(request, account_id, opportunity_id)
    form = OpportunityForm(
        request.POST or None, instance=opportunity, auto_id=f"opportunity-{opportunity.pk}-%s"
    )
    saved, conflict = edit_form_save(
        request,
        form,
        fields=OPPORTUNITY_FIELDS,
        update=partial(opportunity_update, opportunity=opportunity, actor=request.user),
    )
    if saved is not None:
        opportunity = saved
        if request.htmx:
            fresh = opportunity_get(account_id=account.pk, opportunity_id=opportunity.pk)
            return _row(request, account, fresh)
        messages.success(request, "Opportunity saved.")
        return redirect(opportunity)
    return render_form(
        request,
        template_partial="logs/_edit_row.html",
        form=form,
        account=account,
        item=opportunity,
        conflict=conflict,
        colspan=COLUMNS,
        heading=f"Edit “{opportunity.title}”",
        submit_label="Save opportunity",
        action_url=reverse("logs:opportunity_edit", args=[account.pk, opportunity.pk]),
        hx_target=f"#opportunity-{opportunity.pk}",
        hx_swap="outerHTML",
        cancel_url=reverse("logs:opportunity_row", args=[account.pk, opportunity.pk]),
        back_url=opportunity.get_absolute_url(),
        back_label=opportunity.title,
    )


def opportunity_row_view(request, account_id: int, opportunity_id: int):
    account, opportunity = _opportunity(
        request, account_id, opportunity_id, action=Action.ACCOUNT_VIEW
    )
    return _row(request, account, opportunity)


@require_POST
def opportunity_stage_view(request, account_id: int, opportunity_id: int):
    account, opportunity = _opportunity(request, account_id, opportunity_id)
    form = OpportunityStageForm(request.POST)
    if form.is_valid():
        opportunity = opportunity_stage_change(
            opportunity=opportunity, actor=request.user, stage=form.cleaned_data["stage"]
        )
        if not request.htmx:
            messages.success(request, f"Stage: {opportunity.get_stage_display()}.")
    elif not request.htmx:
        messages.error(request, STAGE_ERROR)
    if request.htmx:  # refused: the row again, its select marked with the message beside it
        error = "" if form.is_valid() else STAGE_ERROR
        fresh = opportunity_get(account_id=account.pk, opportunity_id=opportunity.pk)
        return _row(request, account, fresh, stage_error=error)
    return redirect(opportunity)


def opportunity_detail_view(request, account_id: int, opportunity_id: int):
    account, opportunity = _opportunity(
        request, account_id, opportunity_id, action=Action.ACCOUNT_VIEW
    )
    return render(
        request,
        "logs/opportunity_detail.html",
        {
            "account": account,
            "opportunity": opportunity,
            "history": item_history(obj=opportunity),
            "can_edit": can(request.user, Action.LOG_EDIT, account, obj=opportunity),
            "stages": Stage.choices,
        },
    )


def opportunity_export_view(request, account_id: int):
    account = account_or_404(account_id)
    require(request.user, Action.ACCOUNT_VIEW, account)
    opportunities = opportunity_list(
        account_id=account.pk, **OpportunityFilterForm(request.GET).filters()
    )
    header = [
        "Title",
        "Type",
        "Stage",
        "Description",
        "Signal / evidence",
        "Estimated additional users",
        "Owner",
        "Identified by",
        "Identified",
        "Transitioned to TA",
    ]
    rows = (
        [
            o.title,
            o.get_opportunity_type_display(),
            o.get_stage_display(),
            o.description,
            o.signal,
            o.estimated_additional_users,
            o.owner,
            o.identified_by,
            o.created_at,
            o.transitioned_at,
        ]
        for o in opportunities
    )
    return csv_response(account=account, log="expansion-opportunities", header=header, rows=rows)
