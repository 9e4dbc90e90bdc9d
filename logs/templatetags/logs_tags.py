from django import template

from logs.markdown import render_markdown
from logs.scoring import risk_band

register = template.Library()


@register.filter
def markdown(text: str):
    """Journal notes: Markdown rendered, then sanitised (see logs.markdown)."""
    return render_markdown(text)


@register.filter
def band_of(score: int):
    return risk_band(score)
