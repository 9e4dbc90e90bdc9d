"""Forms of the deployment record: the environment form with its two row lists (design
documents, machine instance types) and the code hosts list.

Row lists are Django formsets. Adding or removing a row re-renders the whole form from what was
posted (htmx swaps it in; without JavaScript the same buttons post the page), so nothing typed is
lost; see `rows_from_data` and `EditableRows`."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import QueryDict

from deployments.models import MAX_INSTANCE_COUNT, CodeHostConnection, Environment
from deployments.services import (
    CODE_HOST_FIELDS,
    ENVIRONMENT_FIELDS,
    CodeHostChange,
    DocumentLink,
    InstanceSpec,
)
from handoff.common.conflicts import STARTED_FROM, started_from_values
from handoff.common.forms import (
    OnceFormMixin,
    PlainTextFormMixin,
    VersionedFormMixin,
    WholeNumberInput,
)
from handoff.common.services import INVALID_VERSION_MESSAGE, MISSING_VERSION_MESSAGE
from handoff.common.validators import HttpURLFormField

MAX_DOCUMENTS = 20
MAX_INSTANCE_ROWS = 30
MAX_CODE_HOSTS = 100

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def bound_integer_fields(form: forms.ModelForm, model) -> None:
    """Give each number field the model's bounds, so the message names the real limit
    ("at least 1", not PositiveIntegerField's 0), and a text input for whole numbers
    (WholeNumberInput: what was typed reaches the server, which says what is wrong)."""
    for name, field in form.fields.items():
        if not isinstance(field, forms.IntegerField) or isinstance(field.widget, forms.HiddenInput):
            continue
        validators = model._meta.get_field(name).validators
        low = next(v.limit_value for v in validators if isinstance(v, MinValueValidator))
        high = next(v.limit_value for v in validators if isinstance(v, MaxValueValidator))
        field.min_value, field.max_value = low, high
        field.validators = [
            v for v in field.validators if not isinstance(v, MinValueValidator | MaxValueValidator)
        ] + [MinValueValidator(low), MaxValueValidator(high)]
        # min/max/step belong to type="number" only; the bounds are in the field's message.
        field.widget = WholeNumberInput(
            {k: v for k, v in field.widget.attrs.items() if k not in ("min", "max", "step")}
        )


def _deployment_type_choices() -> list:
    legacy = Environment.LEGACY_DEPLOYMENT_TYPES
    types = Environment.DeploymentType
    current = [(t.value, t.label) for t in types if t not in legacy and t != types.OTHER]
    earlier = [(t.value, f"{t.label} — {legacy[t]}") for t in types if t in legacy]
    return [
        ("", "— choose —"),
        ("Current methods", current),
        ("Earlier methods", earlier),
        (types.OTHER.value, types.OTHER.label),
    ]


class EnvironmentForm(PlainTextFormMixin, OnceFormMixin, VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Environment
        fields = ENVIRONMENT_FIELDS
        widgets = {
            "infra_start_date": DATE_WIDGET,
            "infra_completion_date": DATE_WIDGET,
            "sourcegraph_instance_url": forms.URLInput(
                attrs={"placeholder": "https://sourcegraph.example.com"}
            ),
            "special_details": forms.Textarea(attrs={"rows": 4}),
            "sourcegraph_version": forms.TextInput(attrs={"placeholder": "e.g. 6.0.0"}),
        }
        labels = {
            "deployment_type_other": "If Other: describe the method",
            "hosting_provider_other": "If Other: name the provider",
            # Inside the "Discussed upper limits" fieldset; History keeps the long names.
            "max_users": "Users",
            "max_concurrent_users": "Concurrent users",
            "max_repositories": "Repositories",
        }
        help_texts = {
            "special_details": "Anything a TA needs to support this deployment: deviations "
            "from the standard deployment, significant errors, engineering involvement.",
        }

    def __init__(self, *args, production: bool, **kwargs):
        self.production = production
        super().__init__(*args, **kwargs)
        self.fields["deployment_type"].choices = _deployment_type_choices()
        if production:
            del self.fields["kind"]
            del self.fields["name"]
            self.fields["deployment_type"].required = True
            self.fields["hosting_provider"].required = True
        else:
            self.fields["kind"].choices = [("", "— choose —")] + [
                c for c in Environment.Kind.choices if c[0] != Environment.Kind.PRODUCTION
            ]
            # The handbook's date labels speak of production; here they are this environment's.
            self.fields["infra_start_date"].label = "Start date of implementation of infrastructure"
            self.fields[
                "infra_completion_date"
            ].label = "Completion date of implementation of infrastructure"
        self.fields["hosting_provider"].choices = [("", "— choose —")] + list(
            Environment.HostingProvider.choices
        )
        bound_integer_fields(self, Environment)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        if self.instance.pk or production:
            # Edits carry a version; the one production environment is guarded by its existence.
            del self.fields["submission"]

    def version_required(self) -> bool:
        # The production page records and edits the one production environment at one URL: a
        # form without a version there was opened to record it, and the view shows it as a
        # conflict with what was recorded meanwhile (never saved over it).
        return super().version_required() and not self.production

    def service_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k in ENVIRONMENT_FIELDS}


class DesignDocumentForm(PlainTextFormMixin):
    title = forms.CharField(label="Title", max_length=200)
    url = HttpURLFormField(
        label="URL", max_length=500, widget=forms.URLInput(attrs={"placeholder": "https://"})
    )


class InstanceTypeForm(PlainTextFormMixin):
    count = forms.IntegerField(
        label="Count",
        min_value=1,
        max_value=MAX_INSTANCE_COUNT,
        initial=1,
        widget=WholeNumberInput(),
    )
    instance_type = forms.CharField(
        label="Instance type",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "e.g. m6a.4xlarge"}),
    )


class CodeHostForm(PlainTextFormMixin, forms.ModelForm):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    removed = forms.BooleanField(widget=forms.HiddenInput, required=False)
    # What a saved row held when the form was rendered: after a conflict it tells what this
    # person changed from what the other did (handoff.common.conflicts), as on every edit form.
    started_from = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2_000)

    class Meta:
        model = CodeHostConnection
        fields = [
            "kind",
            "display_name",
            "url",
            "repository_count",
            "monorepo_count",
            "largest_repository_mb",
        ]
        labels = {
            "kind": "Kind",
            "display_name": "Display name",
            "url": "URL",
            "repository_count": "Number of repositories",
            "monorepo_count": "Number of monorepos",
            "largest_repository_mb": "Largest repository (MB)",
        }
        widgets = {"url": forms.URLInput(attrs={"placeholder": "https://"})}
        help_texts = {"largest_repository_mb": "Size of its .git directory."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = CodeHostConnection.Kind
        packages = CodeHostConnection.PACKAGE_HOSTS
        self.fields["kind"].choices = [
            ("", "— choose —"),
            ("Code hosts", [(k.value, k.label) for k in kinds if k not in packages]),
            ("Package hosts", [(k.value, k.label) for k in kinds if k in packages]),
        ]
        bound_integer_fields(self, CodeHostConnection)
        if not self.is_bound and self.initial.get("id") and not self.initial.get(STARTED_FROM):
            self.initial[STARTED_FROM] = started_from_values(self.initial, CODE_HOST_FIELDS)

    def has_changed(self) -> bool:
        # A saved row marked removed matters even when nothing else was typed.
        return super().has_changed() or bool(self.data.get(self.add_prefix("id")))

    def full_clean(self):
        super().full_clean()
        # A row on its way out needs no valid values.
        if self.is_bound and self.data.get(self.add_prefix("removed")) in ("True", "on", "1"):
            self._errors = forms.utils.ErrorDict()
            self.cleaned_data = {
                "id": _int_or_none(self.data.get(self.add_prefix("id"))),
                "version": _int_or_none(self.data.get(self.add_prefix("version"))),
                "removed": True,
            }


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class RowFormSet(forms.BaseFormSet):
    """Every posted row counts as new, so a row left blank is skipped instead of refused."""

    def initial_form_count(self):
        return 0 if self.is_bound else super().initial_form_count()


class CodeHostRowFormSet(RowFormSet):
    """A saved row (one with an id) must carry the version it was rendered from: without it the
    save would overwrite blind, so the whole list is refused above the form."""

    def clean(self):
        super().clean()
        for form in self.forms:
            if not form.data.get(form.add_prefix("id")):
                continue  # a new row: nothing saved to compare against
            posted = form.data.get(form.add_prefix("version"))
            if not posted:
                raise forms.ValidationError(MISSING_VERSION_MESSAGE, code="missing_version")
            version = _int_or_none(posted)
            if version is None or version < 1:
                raise forms.ValidationError(INVALID_VERSION_MESSAGE, code="invalid_version")


DesignDocumentFormSet = forms.formset_factory(
    DesignDocumentForm,
    formset=RowFormSet,
    extra=0,
    max_num=MAX_DOCUMENTS,
    validate_max=True,
    absolute_max=MAX_DOCUMENTS,
)
InstanceTypeFormSet = forms.formset_factory(
    InstanceTypeForm,
    formset=RowFormSet,
    extra=0,
    max_num=MAX_INSTANCE_ROWS,
    validate_max=True,
    absolute_max=MAX_INSTANCE_ROWS,
)
CodeHostFormSet = forms.formset_factory(
    CodeHostForm,
    formset=CodeHostRowFormSet,
    extra=0,
    max_num=MAX_CODE_HOSTS,
    validate_max=True,
    absolute_max=MAX_CODE_HOSTS,
)

DOCUMENTS_PREFIX = "documents"
INSTANCES_PREFIX = "instances"
CODE_HOSTS_PREFIX = "codehosts"


def rows_from_data(data: QueryDict, *, prefix: str, fields: list[str], limit: int) -> list[dict]:
    """The rows of a posted formset as {field: raw string}, for re-rendering them."""
    try:
        total = int(data.get(f"{prefix}-TOTAL_FORMS", 0))
    except ValueError:
        total = 0
    total = max(0, min(total, limit))
    return [{name: data.get(f"{prefix}-{i}-{name}", "") for name in fields} for i in range(total)]


def form_initial_from_data(form: forms.Form, data: QueryDict) -> dict[str, Any]:
    """What a person typed into a (non-row) form, as initial values for re-rendering it."""
    initial = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.BooleanField):
            initial[name] = name in data
        else:
            initial[name] = data.get(name, "")
    return initial


@dataclass(frozen=True)
class RowAction:
    """An add / remove / restore button of a row list, parsed from the posted `_action`."""

    verb: str  # "add", "remove", "restore"
    rows: str  # "documents", "instances", "codehosts"
    index: int | None = None

    @classmethod
    def parse(cls, value: str) -> "RowAction | None":
        parts = value.split(":")
        if len(parts) == 2 and parts[0] == "add":
            return cls(verb="add", rows=parts[1])
        # isdecimal, not isdigit: int() refuses "²", which isdigit accepts; and int() refuses
        # more than 4,300 digits, while no row list has even 1,000 rows.
        index = parts[2] if len(parts) == 3 else ""
        if parts[0] in ("remove", "restore") and index.isdecimal() and len(index) <= 3:
            return cls(verb=parts[0], rows=parts[1], index=int(index))
        return None

    def apply(self, rows: list[dict], *, limit: int, removable_in_place: bool = False) -> int:
        """Change `rows` in place; return the index to focus."""
        if self.verb == "add":
            if len(rows) < limit:
                rows.append({})
            return len(rows) - 1
        if self.index is None or not 0 <= self.index < len(rows):
            return -1
        row = rows[self.index]
        if removable_in_place and row.get("id"):
            # A saved row stays in the form, marked, so the save deletes it (and Undo works).
            row["removed"] = "" if self.verb == "restore" else "True"
            return self.index
        if self.verb == "remove":
            del rows[self.index]
        return min(self.index, len(rows) - 1)


def document_links(formset) -> list[DocumentLink]:
    return [
        DocumentLink(title=f.cleaned_data["title"], url=f.cleaned_data["url"])
        for f in formset.forms
        if f.cleaned_data
    ]


def instance_specs(formset) -> list[InstanceSpec]:
    return [
        InstanceSpec(count=f.cleaned_data["count"], instance_type=f.cleaned_data["instance_type"])
        for f in formset.forms
        if f.cleaned_data
    ]


def code_host_changes(formset) -> list[CodeHostChange]:
    changes = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data:
            continue
        changes.append(
            CodeHostChange(
                id=data.get("id"),
                version=data.get("version"),
                delete=bool(data.get("removed")),
                data={k: v for k, v in data.items() if k not in ("id", "version", "removed")},
            )
        )
    return changes
