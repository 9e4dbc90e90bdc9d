"""Helpers the portal's admin classes share."""

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError


class CheckedSelectionMixin:
    """Django's admin filters the changelist by the posted `_selected_action` ids as they come, so
    a forged id that is no primary key at all ("abc") fails in the query: a 500. Refuse such a
    selection with a message instead, and change nothing."""

    def response_action(self, request, queryset):
        pk = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.to_python(value)
        except ValidationError:
            self.message_user(
                request,
                "The selection is not valid, so no action was run and nothing was changed.",
                messages.ERROR,
            )
            return None  # the changelist redirects back to itself and shows the message
        return super().response_action(request, queryset)
