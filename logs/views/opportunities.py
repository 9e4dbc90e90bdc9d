"""Expansion Opportunities: its spec; the generic pages in generic.py serve it all. An
opportunity has no reference: its labels name it by title, and its status is its stage."""

from logs.forms import OpportunityFilterForm, OpportunityForm, OpportunityStageForm
from logs.models import ExpansionOpportunity
from logs.selectors import opportunity_get, opportunity_list
from logs.services import (
    opportunity_create,
    opportunity_stage_change,
    opportunity_update,
)
from logs.views.generic import LogSpec

OPPORTUNITIES = LogSpec(
    name="opportunity",
    model=ExpansionOpportunity,
    url_prefix="opportunities",
    form=OpportunityForm,
    filter_form=OpportunityFilterForm,
    status_form=OpportunityStageForm,
    status_field="stage",
    create=opportunity_create,
    update=opportunity_update,
    change_status=opportunity_stage_change,
    list_selector=opportunity_list,
    get_selector=opportunity_get,
    row_template="logs/_opportunity_row.html",
    rows_template="logs/_opportunity_rows.html",
    detail_template="logs/opportunity_detail.html",
    columns=8,
    csv_name="expansion-opportunities",
    csv_columns=(
        ("Title", lambda o: o.title),
        ("Type", lambda o: o.get_opportunity_type_display()),
        ("Stage", lambda o: o.get_stage_display()),
        ("Description", lambda o: o.description),
        ("Signal / evidence", lambda o: o.signal),
        ("Estimated additional users", lambda o: o.estimated_additional_users),
        ("Owner", lambda o: o.owner),
        ("Identified by", lambda o: o.identified_by),
        ("Identified", lambda o: o.created_at),
        ("Transitioned to TA", lambda o: o.transitioned_at),
    ),
    title="Expansion Opportunities",
    section="expansion-opportunities",
    lede="User or feature expansion spotted during implementation: identified → "
    "transitioned to TA → handed to account executive → won or lost.",
    create_heading="New expansion opportunity",
    status_error="Choose one of the stages.",
    created_message=lambda o: f"Opportunity “{o.title}” added to Expansion Opportunities.",
    saved_message=lambda o: "Opportunity saved.",
    status_message=lambda o: f"Stage: {o.get_stage_display()}.",
    edit_heading=lambda o: f"Edit “{o.title}”",
    back_label=lambda o: o.title,
)
