"""The message after a save of an account's record carries the live Vitally sync state."""

from django.contrib import messages

SYNC_TAG_PREFIX = "sync-account-"


def saved_message(request, text: str, *, account_id: int) -> None:
    """ "Account saved." with the account's sync badge beside it (base.html polls it until the
    push lands, through the Vitally panel's endpoint), so the save's effect is in view."""
    messages.success(request, text, extra_tags=f"{SYNC_TAG_PREFIX}{account_id}")


def message_account_id(message) -> int | None:
    for tag in (message.extra_tags or "").split():
        if tag.startswith(SYNC_TAG_PREFIX) and tag[len(SYNC_TAG_PREFIX) :].isdigit():
            return int(tag[len(SYNC_TAG_PREFIX) :])
    return None
