"""The import page's forms (vitally_sync/importing.py)."""

from django import forms

from handoff.common.forms import FilterForm
from vitally_sync.importing import IMPORT_LIST_LIMIT, import_refusals, importable_list
from vitally_sync.models import VitallyAccount


class ImportFilterForm(FilterForm):
    q = forms.CharField(
        label="Filter by name",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "Part of the name"}),
    )


class ImportForm(forms.Form):
    """The Vitally accounts to import: among those the page lists."""

    vitally_ids = forms.MultipleChoiceField(
        label="Vitally accounts to import",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one Vitally account to import.",
            "invalid_choice": "%(value)s is not among the Vitally accounts listed: it may have "
            "been imported or linked since. Choose again.",
        },
    )

    def __init__(self, *args, rows: list[VitallyAccount], **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            # Any account not yet in the portal, listed or not: one chosen, then filtered out of
            # the list, is still sent (app.js keeps it).
            # A value PostgreSQL cannot hold (a NUL) is no account: the field refuses it.
            wanted = [v for v in self.data.getlist("vitally_ids") if "\x00" not in v]
            wanted = wanted[:IMPORT_LIST_LIMIT]
            rows = list(importable_list().filter(vitally_id__in=wanted))
        self.fields["vitally_ids"].choices = [(row.vitally_id, row.name) for row in rows]

    def clean_vitally_ids(self) -> list[str]:
        ids = self.cleaned_data["vitally_ids"]
        refusals = import_refusals(list(VitallyAccount.objects.filter(vitally_id__in=ids)))
        if refusals:
            raise forms.ValidationError(refusals)
        return ids
