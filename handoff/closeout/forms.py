from django import forms

from handoff.closeout.models import ChecklistItem
from handoff.common.forms import PlainTextFormMixin, VersionedFormMixin


class ChecklistItemForm(PlainTextFormMixin, VersionedFormMixin, forms.ModelForm):
    """One checklist item, edited inline (htmx) on the account page."""

    text_limits = {"not_applicable_reason": 2_000}

    class Meta:
        model = ChecklistItem
        fields = ["status", "not_applicable_reason", "evidence_url", "evidence_note"]
        widgets = {
            "status": forms.RadioSelect,
            "not_applicable_reason": forms.Textarea(attrs={"rows": 2}),
            "evidence_url": forms.URLInput(attrs={"placeholder": "https://"}),
            "evidence_note": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "status": "Status",
            "not_applicable_reason": "Reason it does not apply",
            "evidence_url": "Evidence link",
            "evidence_note": "Evidence note",
        }
        help_texts = {
            "not_applicable_reason": "Required when the item does not apply.",
            "evidence_url": "A link to a ticket, document or dashboard (http or https).",
        }

    def __init__(self, data=None, *args, **kwargs):
        instance = kwargs["instance"]
        kwargs.setdefault("prefix", f"item-{instance.position}")
        if data is not None:
            # The item's forms post a part each ("Done" only its status, "Evidence" only the
            # evidence): what a post leaves out keeps its saved value. The version refuses a
            # post made from an older item, so those values are the current ones.
            data = data.copy()
            for name in self._meta.fields:
                key = f"{kwargs['prefix']}-{name}"
                if key not in data:
                    value = getattr(instance, name)
                    data[key] = "" if value is None else value
        super().__init__(data, *args, **kwargs)
        self.fields["version"].initial = self.instance.version

    # "Not applicable needs a reason" is ChecklistItem.clean(), which the ModelForm runs.


class SignOffForm(PlainTextFormMixin):
    override_reason = forms.CharField(
        label="Override reason",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required while blockers remain: say why you sign off anyway. It is recorded "
        "with the sign-off.",
    )


class ReopenForm(PlainTextFormMixin):
    reason = forms.CharField(
        label="Reason for reopening",
        max_length=2000,
        error_messages={"required": "Write why the account is reopened."},
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent to the implementation engineer and the technical advisor, and kept with "
        "the sign-off it reopens.",
    )
