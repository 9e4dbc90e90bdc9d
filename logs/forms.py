from functools import cache, partial

from django import forms

from handoff.common.forms import (
    NOTE_LIMIT,
    FilterForm,
    OnceFormMixin,
    PersonFilterField,
    PlainTextFormMixin,
    VersionedFormMixin,
)
from handoff.people.models import User
from handoff.people.selectors import user_list_active
from logs.models import ExpansionOpportunity, Issue, JournalEntry, Risk
from logs.scoring import BANDS
from logs.selectors import DUE_FILTER, OPEN_FILTER

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OwnerChoiceField(forms.ModelChoiceField):
    """An active portal user. An id from outside the list (or of a deactivated person) is
    refused next to the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", user_list_active())
        kwargs.setdefault("empty_label", "— choose the owner —")
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": "Choose an active portal user as the owner."},
        )
        super().__init__(**kwargs)

    def label_from_instance(self, obj: User) -> str:
        return str(obj)


class _LogForm(PlainTextFormMixin, OnceFormMixin, VersionedFormMixin, forms.ModelForm):
    """Sets the version on edit; drops the fields that only an edit shows."""

    edit_only: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            del self.fields["submission"]  # an edit is guarded by its version instead
        else:
            for name in self.edit_only:
                self.fields.pop(name, None)
        if "owner" in self.fields:
            field = self.fields["owner"]
            self.fields["owner"] = OwnerChoiceField(label=field.label, help_text=field.help_text)

    def service_data(self) -> dict:
        return {
            k: v
            for k, v in self.cleaned_data.items()
            if k not in ("version", "submission", "started_from")
        }


class JournalEntryForm(_LogForm):
    text_limits = {"body": NOTE_LIMIT}

    class Meta:
        model = JournalEntry
        fields = ["title", "category", "kind", "body", "reference_url"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 6}),
            "reference_url": forms.URLInput(attrs={"placeholder": "https://"}),
        }


class IssueForm(_LogForm):
    edit_only = ("status", "resolution")

    class Meta:
        model = Issue
        fields = [
            "title",
            "severity",
            "owner",
            "target_date",
            "description",
            "external_ticket_url",
            "status",
            "resolution",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "resolution": forms.Textarea(attrs={"rows": 3}),
            "target_date": _DATE,
            "external_ticket_url": forms.URLInput(attrs={"placeholder": "https://"}),
        }


class IssueStatusForm(PlainTextFormMixin):
    status = forms.ChoiceField(choices=Issue.Status.choices)
    resolution = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class IssueNoteForm(PlainTextFormMixin, OnceFormMixin):
    body = forms.CharField(
        label="Update",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What changed, what is next. Dated and signed automatically.",
    )


def _risk_status_choices(current: str | None) -> list[tuple[str, str]]:
    # "Occurred" is reached only through "It happened", which raises the linked issue.
    return [
        (value, label)
        for value, label in Risk.Status.choices
        if value != Risk.Status.OCCURRED or current == Risk.Status.OCCURRED
    ]


class RiskForm(_LogForm):
    edit_only = ("status",)

    class Meta:
        model = Risk
        fields = [
            "title",
            "category",
            "description",
            "likelihood",
            "impact",
            "trigger",
            "response_strategy",
            "response_plan",
            "owner",
            "next_review_date",
            "status",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "trigger": forms.Textarea(attrs={"rows": 2}),
            "response_plan": forms.Textarea(attrs={"rows": 3}),
            "next_review_date": _DATE,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "status" in self.fields:
            self.fields["status"].choices = _risk_status_choices(self.instance.status)
        for name in ("likelihood", "impact"):
            self.fields[name].help_text = "1 (lowest) to 5 (highest)."


class RiskStatusForm(PlainTextFormMixin):
    status = forms.ChoiceField(choices=_risk_status_choices(None))


class OpportunityForm(_LogForm):
    edit_only = ("stage",)

    class Meta:
        model = ExpansionOpportunity
        fields = [
            "title",
            "opportunity_type",
            "owner",
            "estimated_additional_users",
            "description",
            "signal",
            "stage",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "signal": forms.Textarea(attrs={"rows": 3}),
        }


class OpportunityStageForm(PlainTextFormMixin):
    stage = forms.ChoiceField(choices=ExpansionOpportunity.Stage.choices)


# --- List filters (query strings) ---------------------------------------------------------------
DUE_CHOICE = (DUE_FILTER, "Due for an update")
ISSUE_STATUS_FILTERS = [(OPEN_FILTER, "Not resolved or closed"), DUE_CHOICE, *Issue.Status.choices]
RISK_STATUS_FILTERS = [(OPEN_FILTER, "Open or monitoring"), DUE_CHOICE, *Risk.Status.choices]
RISK_BAND_FILTERS = [(band.value, f"{band.label} ({low}–{high})") for band, low, high in BANDS]
STAGE_FILTERS = [(OPEN_FILTER, "Not won or lost"), *ExpansionOpportunity.Stage.choices]


class JournalFilterForm(FilterForm):
    selector_names = {"author": "author_id"}

    category = forms.ChoiceField(choices=JournalEntry.Category.choices)
    kind = forms.ChoiceField(choices=JournalEntry.Kind.choices)
    author = PersonFilterField()


class IssueFilterForm(FilterForm):
    selector_names = {"owner": "owner_id"}

    status = forms.ChoiceField(choices=ISSUE_STATUS_FILTERS)
    severity = forms.ChoiceField(choices=Issue.Severity.choices)
    owner = PersonFilterField()


class RiskFilterForm(FilterForm):
    selector_names = {"owner": "owner_id"}

    status = forms.ChoiceField(choices=RISK_STATUS_FILTERS)
    band = forms.ChoiceField(choices=RISK_BAND_FILTERS)
    owner = PersonFilterField()


class OpportunityFilterForm(FilterForm):
    selector_names = {"type": "opportunity_type", "owner": "owner_id"}

    stage = forms.ChoiceField(choices=STAGE_FILTERS)
    type = forms.ChoiceField(choices=ExpansionOpportunity.Type.choices)
    owner = PersonFilterField()


class PeopleFilterForm(FilterForm):
    """The cross-account pages' people filters: the item's owner (the Owner column), and the
    implementation engineer and technical advisor of its account, each labelled as such."""

    selector_names = {
        "owner": "owner_id",
        "ie": "implementation_engineer_id",
        "ta": "technical_advisor_id",
    }

    control_names = ("severity", "owner", "ie", "ta")

    owner = PersonFilterField(label="Owner")
    ie = PersonFilterField(
        label="Account's implementation engineer", role=User.Role.IMPLEMENTATION_ENGINEER
    )
    ta = PersonFilterField(label="Account's technical advisor", role=User.Role.TECHNICAL_ADVISOR)

    def __init__(self, data, *, viewer=None):
        super().__init__(data, viewer=viewer)
        # One query for the three selects: any active person may own an item; an account's
        # engineer and advisor are active people of that role.
        people = cache(lambda: list(user_list_active()))
        self.fields["owner"].people = people
        for name in ("ie", "ta"):
            field = self.fields[name]
            field.people = partial(_of_role, people, field.role)


def _of_role(people, role: str) -> list[User]:
    return [person for person in people() if person.role == role]


class IssueOverviewFilterForm(PeopleFilterForm):
    field_order = ["severity", "owner", "ie", "ta"]

    severity = forms.ChoiceField(choices=Issue.Severity.choices)


class RiskHeatmapFilterForm(PeopleFilterForm):
    """The people filters plus the matrix cell whose risks are listed (both or neither)."""

    likelihood = forms.TypedChoiceField(
        choices=Risk.Likelihood.choices, coerce=int, empty_value=None
    )
    impact = forms.TypedChoiceField(choices=Risk.Impact.choices, coerce=int, empty_value=None)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("likelihood") is None or cleaned.get("impact") is None:
            cleaned["likelihood"] = cleaned["impact"] = None
        return cleaned
