"""Journal Markdown → HTML that is safe to show: Markdown renders, nh3 then keeps only plain
formatting tags and http(s)/mailto links. Raw HTML typed into a note, script, event handlers,
javascript: links and images (which would load from anywhere) do not survive."""

from functools import lru_cache

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


# Rendering is a pure function of the text and costs ~0.5 ms a note; the pages show the same
# notes again and again, so each process keeps the latest results (a few MB at most).
@lru_cache(maxsize=512)
def render_markdown(text: str) -> SafeString:
    html = markdown_lib.markdown(
        text or "",
        extensions=["fenced_code", "tables", "sane_lists", "nl2br"],
        output_format="html",
    )
    # Headings in a note sit under the page's h2/h3, so # and ## are shifted down to h3/h4.
    html = html.replace("<h1>", "<h3>").replace("</h1>", "</h3>")
    html = html.replace("<h2>", "<h4>").replace("</h2>", "</h4>")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style"},
    )
    return mark_safe(clean)  # noqa: S308  # nosec B308, B703  # sanitised by nh3 just above
