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
