import json

from django.contrib import admin, messages
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from handoff.common.admin import CheckedSelectionMixin, ReadOnlyStaffAdminMixin, admin_use_allowed
from vitally_sync.conf import sync_config
from vitally_sync.models import AccountSync, TraitDifference, VitallyKey
from vitally_sync.payloads import trait_fields
from vitally_sync.selectors import sync_attempt_list, sync_badge
from vitally_sync.services import sync_push_request


class FailingFilter(admin.SimpleListFilter):
    """What staff look for first: accounts whose changes are not reaching Vitally."""

    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("failing", "Failed, needs attention, or retrying"),
            ("dirty", "Not yet in Vitally (any reason)"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.filter(
                status__in=[
                    AccountSync.Status.FAILED,
                    AccountSync.Status.ATTENTION,
                    AccountSync.Status.RETRYING,
                ]
            )
        if self.value() == "dirty":
            return queryset.filter(account__change_version__gt=F("acked_version"))
        return queryset


@admin.register(AccountSync)
class AccountSyncAdmin(CheckedSelectionMixin, ReadOnlyStaffAdminMixin, admin.ModelAdmin):
    """Read-only: the state changes only through pushes and "Retry the push now".

    Staff may look and run the action; nobody may save the change form, whose save would write
    back the whole row as it was read (over a worker's lease or acknowledgement meanwhile).

    The portal's Vitally sync page (vitally_sync:health) is where people watch the sync: this
    list is left out of the admin's index and says so at its top; a row's form stays, for the
    raw state (what Vitally acknowledged, what is in flight)."""

    change_list_template = "admin/vitally_sync/accountsync/change_list.html"

    # "shown as" is the badge a page shows, which the status feeds: one column, not two (the
    # status stays a filter and on the change form).
    list_display = (
        "account",
        "shown_as",
        "attempts",
        "next_attempt_at",
        "last_pushed_at",
        "short_error",
    )
    list_filter = ("status", FailingFilter)
    search_fields = ("account__name", "account__vitally_account_id", "last_error")
    list_select_related = ("account",)
    actions = ["retry_now"]
    fields = (
        "account",
        "shown_as",
        "status",
        "acked_version",
        "account_change_version",
        "attempts",
        "next_attempt_at",
        "push_requested",
        "failed_key",
        "last_pushed_at",
        "pushed_vitally_id",
        "last_error",
        "last_error_at",
        "lease_until",
        "acknowledged",
        "in_flight",
        "config_fingerprint",
        "reconciled_at",
        "recent_requests",
    )
    readonly_fields = fields

    @admin.display(description="shown as")
    def shown_as(self, obj: AccountSync) -> str:
        return sync_badge(account=obj.account, sync=obj, config=sync_config()).label

    @admin.display(description="account change version")
    def account_change_version(self, obj: AccountSync) -> int:
        return obj.account.change_version

    @admin.display(description="last error")
    def short_error(self, obj: AccountSync) -> str:
        return obj.last_error[:80] + ("…" if len(obj.last_error) > 80 else "")

    @admin.display(description="what Vitally acknowledged")
    def acknowledged(self, obj: AccountSync):
        if not obj.acked_traits:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(obj.acked_traits, indent=2))

    @admin.display(description="sent, answer not recorded (unknown in Vitally)")
    def in_flight(self, obj: AccountSync):
        if not obj.inflight_traits:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(obj.inflight_traits, indent=2))

    @admin.display(description="recent requests")
    def recent_requests(self, obj: AccountSync):
        attempts = sync_attempt_list(account_id=obj.pk, limit=10)
        if not attempts:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} · {} · HTTP {} · {}</li>",
                (
                    (
                        date_format(timezone.localtime(a.at), "DATETIME_FORMAT"),
                        a.get_outcome_display(),
                        a.http_status or "—",
                        a.message,
                    )
                    for a in attempts
                ),
            ),
        )

    @admin.action(description="Retry the push now", permissions=["retry"])
    def retry_now(self, request, queryset):
        count = 0
        for sync in queryset.select_related("account"):
            if sync.account.vitally_account_id:
                sync_push_request(account=sync.account, actor=request.user)
                count += 1
        self.message_user(
            request, f"Asked the workers to push {count} account(s) now.", messages.SUCCESS
        )

    def has_retry_permission(self, request):
        return admin_use_allowed(request)

    def has_module_permission(self, request):
        return False  # not on the admin's index: the portal's Vitally sync page is the place


@admin.register(VitallyKey)
class VitallyKeyAdmin(ReadOnlyStaffAdminMixin, admin.ModelAdmin):
    """What Vitally said about the API key: a 429's wait, or that it refuses the key. Only
    pushes and the probe change it."""

    list_display = ("fingerprint", "paused_until", "auth_error", "auth_failed_at", "probe_after")
    fields = list_display + ("updated_at",)
    readonly_fields = fields


class DifferenceFieldFilter(admin.SimpleListFilter):
    """By field, in the handbook's words."""

    title = "field"
    parameter_name = "field"

    def lookups(self, request, model_admin):
        return [(trait.name, trait.label) for trait in trait_fields()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(field_name=self.value())
        return queryset


@admin.register(TraitDifference)
class TraitDifferenceAdmin(ReadOnlyStaffAdminMixin, admin.ModelAdmin):
    """What differs between Vitally and the portal: read back from Vitally after the portal
    sent its value, or held in Vitally when the account was linked (origin). Only the reads,
    the links and the maintainers' "Keep" / "Take" on the account's Vitally panel change it."""

    list_display = (
        "account",
        "label",
        "trait_key",
        "portal",
        "vitally",
        "origin",
        "first_seen_at",
        "last_seen_at",
    )
    list_filter = (DifferenceFieldFilter, "origin", "first_seen_at")
    search_fields = ("account__name", "account__vitally_account_id", "trait_key")
    list_select_related = ("account",)
    fields = (
        "account",
        "label",
        "field_name",
        "trait_key",
        "portal",
        "vitally",
        "origin",
        "first_seen_at",
        "last_seen_at",
        "version",
    )
    readonly_fields = fields

    @admin.display(description="field")
    def label(self, obj: TraitDifference) -> str:
        return obj.label

    @admin.display(description="the portal's value")
    def portal(self, obj: TraitDifference) -> str:
        return json.dumps(obj.portal_value, ensure_ascii=False)

    @admin.display(description="Vitally's value")
    def vitally(self, obj: TraitDifference) -> str:
        return json.dumps(obj.vitally_value, ensure_ascii=False)
