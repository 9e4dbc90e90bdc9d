from django import template

from handoff.permissions import Action, can

register = template.Library()


@register.filter
def may(user, action: str) -> bool:
    """{% if user|may:"logs_overview" %}: templates ask the one permission module, too."""
    return can(user, Action(action))
