from django import template

from handoff.permissions import Action, can, link_for

register = template.Library()


@register.filter
def may(user, action: str) -> bool:
    """{% if user|may:"logs_overview" %}: templates ask the one permission module, too."""
    return can(user, Action(action))


@register.simple_tag(takes_context=True)
def viewer_link(context, item, account) -> str:
    """{% viewer_link blocker account as href %}: where a readiness blocker or an attention item
    links for the signed-in person (handoff.permissions.link_for); "" for plain text."""
    return link_for(context["request"].user, account, item)
