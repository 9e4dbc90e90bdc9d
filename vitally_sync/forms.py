from django import forms
from django.utils.http import urlencode

from handoff.common.forms import FilterForm, PersonFilterField
from handoff.people.models import User
from handoff.people.selectors import user_list_by_role
from vitally_sync.selectors import HEALTH_LABELS, HEALTH_STATES

STATE_FILTERS = [
    ("trouble", "Any trouble"),
    *[(state, HEALTH_LABELS[state]) for state in HEALTH_STATES],
]


class SyncHealthFilterForm(FilterForm):
    """The Vitally sync page's filters: a state (or any trouble) and the accounts' manager, "Me"
    for the manager's own."""

    selector_names = {"manager": "manager_id"}
    empty_labels = {"state": "All states"}

    state = forms.ChoiceField(choices=STATE_FILTERS)
    manager = PersonFilterField(
        label="Manager",
        people=lambda: user_list_by_role(role=User.Role.MANAGER),
        only_offered=True,
    )

    def query_for(self, state: str) -> str:
        """The query string of this page filtered by `state`, the person filter kept as the
        URL has it ("me" stays "me"): the links of the counts."""
        query = {"state": state} if state else {}
        manager = self._applied_raw("manager")
        if manager:
            query["manager"] = manager.lower() if manager.lower() == "me" else manager
        return urlencode(query)


class TakeAllForm(forms.Form):
    """ "Take all of Vitally's values": the differences the panel showed, each as "id:version",
    so only those are taken and each only if Vitally's value is still the one shown."""

    MISSING = (
        "This form was sent without the differences it showed, so nothing was taken. Reload the "
        "page and try again."
    )
    shown = forms.Field(widget=forms.MultipleHiddenInput, required=False)

    def clean_shown(self) -> dict[int, int]:
        items = self.cleaned_data.get("shown") or []
        if len(items) > 200:  # more fields than Vitally is sent: forged
            raise forms.ValidationError(self.MISSING, code="invalid")
        versions: dict[int, int] = {}
        for item in items:
            pk, _, version = str(item).partition(":")
            if not (pk.isascii() and pk.isdigit() and version.isascii() and version.isdigit()):
                raise forms.ValidationError(self.MISSING, code="invalid")
            if len(pk) > 18 or len(version) > 9:  # beyond any id or version: forged
                raise forms.ValidationError(self.MISSING, code="invalid")
            versions[int(pk)] = int(version)
        if not versions:
            raise forms.ValidationError(self.MISSING, code="missing")
        return versions

    def error_text(self) -> str:
        return " ".join(str(m) for messages in self.errors.values() for m in messages)
