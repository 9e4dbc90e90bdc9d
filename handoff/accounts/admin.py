from django import forms
from django.contrib import admin

from handoff.accounts.models import Account
from handoff.accounts.services import ACCOUNT_FIELDS, account_create, account_update
from handoff.common.admin import StaffAdminMixin
from handoff.common.forms import PlainTextFormMixin
from handoff.common.services import MISSING_VERSION_MESSAGE
from handoff.permissions import Action, can


class AccountAdminForm(PlainTextFormMixin, forms.ModelForm):
    """The model's fields plus the version the form was rendered from: a change form opened
    before someone else saved the account (in the portal or here) is refused, as the portal's
    own edit form is, instead of silently overwriting their change."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = Account
        fields = ACCOUNT_FIELDS  # not the phase: account_update refuses it (read-only here)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and not self.data.get(self.add_prefix("expected_version")):
            self.errors.pop("expected_version", None)
            raise forms.ValidationError(MISSING_VERSION_MESSAGE, code="missing_version")
        if self.instance.pk and cleaned.get("expected_version") != self.instance.version:
            self.errors.pop("expected_version", None)
            raise forms.ValidationError(
                "Someone else saved this account after this form was opened, so nothing was "
                "saved. Reload the page to see their change, then make yours again.",
                code="concurrent_edit",
            )
        return cleaned


@admin.register(Account)
class AccountAdmin(StaffAdminMixin, admin.ModelAdmin):
    """Staff add and change accounts here through the portal's services; the permission module
    decides, as it does in the portal (an admin may create and edit every account)."""

    form = AccountAdminForm
    list_display = (
        "name",
        "phase",
        "implementation_engineer",
        "technical_advisor",
        "manager",
        "planned_completion_date",
        "vitally_account_id",
    )
    list_filter = ("phase",)
    search_fields = ("name", "vitally_account_id")
    list_select_related = ("implementation_engineer", "technical_advisor", "manager")
    # The phase moves only through the handoff workflow (request, sign-off, reopen), so every
    # handed-off account has a manager's sign-off behind it.
    readonly_fields = ("phase", "change_version", "changed_at", "version")

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST":
            # The admin runs a POST in one transaction: holding the row from here, the version
            # the form checks is the one the save replaces.
            obj = Account.objects.select_for_update().get(pk=obj.pk)
        return obj

    def save_model(self, request, obj, form, change):
        # Admin edits take the same path as the portal's: audit event and change version.
        data = {
            name: form.cleaned_data[name] for name in ACCOUNT_FIELDS if name in form.cleaned_data
        }
        if change:
            account_update(
                account=obj,
                actor=request.user,
                data=data,
                expected_version=form.cleaned_data["expected_version"],
            )
        else:
            saved = account_create(actor=request.user, **data)
            obj.pk = saved.pk

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request) and can(request.user, Action.ACCOUNT_CREATE)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or can(request.user, Action.ACCOUNT_EDIT, obj)
        )

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are never deleted: their history and Vitally link stay
