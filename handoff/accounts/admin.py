from django.contrib import admin

from handoff.accounts.models import Account
from handoff.accounts.services import ACCOUNT_FIELDS, account_create, account_update


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
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

    def save_model(self, request, obj, form, change):
        # Admin edits take the same path as the portal's: audit event and change version.
        data = {
            name: form.cleaned_data[name] for name in ACCOUNT_FIELDS if name in form.cleaned_data
        }
        if change:
            account_update(account=obj, actor=request.user, data=data, expected_version=None)
        else:
            saved = account_create(actor=request.user, **data)
            obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are never deleted: their history and Vitally link stay
