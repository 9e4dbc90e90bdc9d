from django.contrib import admin, messages

from handoff.common.admin import CheckedSelectionMixin, ReadOnlyStaffAdminMixin
from handoff.mail.models import OutgoingEmail
from handoff.mail.services import email_send_again


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(CheckedSelectionMixin, ReadOnlyStaffAdminMixin, admin.ModelAdmin):
    """Every e-mail the portal sent or tried to send: a failure stays here with its reason."""

    list_display = ("created_at", "subject", "recipients", "status", "attempts", "last_error")
    list_filter = ("status", "kind")
    search_fields = ("subject", "to")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "account",
        "kind",
        "subject",
        "recipients",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
        "body",
    )
    actions = ["send_again"]

    @admin.action(description="Send the selected e-mails again now")
    def send_again(self, request, queryset):
        ids = list(queryset.exclude(status=OutgoingEmail.Status.SENT).values_list("pk", flat=True))
        sent = sum(email_send_again(email_id=pk) for pk in ids)
        level = messages.SUCCESS if sent == len(ids) else messages.WARNING
        self.message_user(request, f"Sent {sent} of {len(ids)} e-mails not sent yet.", level)
