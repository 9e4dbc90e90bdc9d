from django import forms

from handoff.accounts.models import Account
from handoff.common.forms import (
    FilterForm,
    OnceFormMixin,
    PersonFilterField,
    PlainTextFormMixin,
    VersionedFormMixin,
)
from handoff.people.models import User
from handoff.people.selectors import user_list_by_role


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return str(obj)


class AccountForm(PlainTextFormMixin, OnceFormMixin, VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Account
        fields = [
            "name",
            "vitally_account_id",
            "crm_url",
            "implementation_engineer",
            "technical_advisor",
            "manager",
            "planned_completion_date",
        ]
        widgets = {
            "planned_completion_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "crm_url": forms.URLInput(attrs={"placeholder": "https://"}),
        }
        help_texts = {
            "planned_completion_date": "About three weeks before it, pull the technical advisor "
            "in to plan user onboarding.",
        }

    def __init__(self, *args, user, vitally_search_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if vitally_search_url:
            self._vitally_search(vitally_search_url)
        if self.instance.pk is not None:
            del self.fields["submission"]  # an edit is guarded by its version instead
        roles = {
            "implementation_engineer": User.Role.IMPLEMENTATION_ENGINEER,
            "technical_advisor": User.Role.TECHNICAL_ADVISOR,
            "manager": User.Role.MANAGER,
        }
        for name, role in roles.items():
            field = self.fields[name]
            self.fields[name] = PersonChoiceField(
                queryset=user_list_by_role(role=role),
                required=False,
                label=field.label,
                empty_label="— not assigned —",
            )
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def _vitally_search(self, url: str) -> None:
        """The Vitally field searches the mirror of Vitally's accounts as someone types (htmx):
        the results are buttons that put an account's id in the field. Without JavaScript it
        stays a plain id field."""
        field = self.fields["vitally_account_id"]
        if self.instance.pk:
            url = f"{url}?account={self.instance.pk}"
        field.help_text = (
            "Type part of the account's name in Vitally and choose it below, or paste its id "
            "or externalId. Leave empty to keep it unlinked."
        )
        field.widget.attrs.update(
            {
                "data-hx-get": url,
                "data-hx-trigger": "input changed delay:300ms, search",
                "data-hx-target": "#vitally-search-results",
                "data-hx-sync": "this:replace",
                "aria-controls": "vitally-search-results",
                "autocomplete": "off",
                "data-vitally-search": "",
            }
        )


SEARCH_MAX_LENGTH = 100


class AccountFilterForm(FilterForm):
    """The dashboard's filters. `mine`: only the accounts that name me (engineer, advisor or
    manager), what the "My accounts" page was."""

    selector_names = {
        "q": "search",
        "ie": "implementation_engineer_id",
        "ta": "technical_advisor_id",
    }

    empty_labels = {"phase": "All phases", "mine": "All accounts"}

    q = forms.CharField(
        label="Search by name", widget=forms.TextInput(attrs={"placeholder": "Customer name"})
    )
    phase = forms.ChoiceField(choices=Account.Phase.choices)
    # "Me" only for a viewer of the role (a manager is never an account's engineer or advisor).
    ie = PersonFilterField(
        label="Implementation engineer",
        only_offered=True,
        role=User.Role.IMPLEMENTATION_ENGINEER,
    )
    ta = PersonFilterField(
        label="Technical advisor", only_offered=True, role=User.Role.TECHNICAL_ADVISOR
    )
    mine = forms.ChoiceField(label="Accounts", choices=[("on", "Only those that name me")])

    def __init__(self, data, *, engineers, advisors, viewer=None):
        super().__init__(data, viewer=viewer)
        # Only the people the selects offer (and "Me"): any other id (a TA's in `ie`, someone
        # who left) would filter the list while the select shows "Anyone".
        self.fields["ie"].people = engineers
        self.fields["ta"].people = advisors

    def clean_q(self) -> str:
        # A pasted paragraph still searches, by its start.
        return self.cleaned_data["q"][:SEARCH_MAX_LENGTH]
