"""The handoff record as Markdown, to paste into a Vitally doc or a ticket.

Each snapshot part (handoff/registry.py `Part`) draws its own data: a pure function of what its
`collect` returned (no queries, no clock), without the section heading. A section no part
draws any more (in an old signed snapshot) gets a generic table. The same renderers draw the
live export and a signed snapshot.
"""

import datetime
from typing import Any

import markdown as markdown_lib
import nh3
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from handoff import registry
from handoff.closeout.snapshot import snapshot_collect, snapshot_sections

# --- Helpers renderers share -------------------------------------------------------------------
_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|#"})


def md_text(value: Any) -> str:
    """Inline text from people: Markdown syntax escaped (no injected links, HTML or tables),
    newlines folded so it stays inside its line or table cell."""
    if value is None or value == "":
        return "—"
    return " ".join(str(value).split()).translate(_SPECIAL)


def md_link(url: str | None) -> str:
    """An http(s) link (validated when saved) as an autolink; anything else as text."""
    if not url:
        return "—"
    if url.startswith(("http://", "https://")) and not any(c in url for c in " <>"):
        return f"<{url}>"
    return md_text(url)


def md_date(value: str | None) -> str:
    """An ISO date or datetime from a snapshot, shown as 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM UTC'."""
    if not value:
        return "—"
    if "T" not in value:
        return value
    moment = datetime.datetime.fromisoformat(value).astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def absolute_url(path: str) -> str:
    if not path or path.startswith(("http://", "https://")):
        return path
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _generic(data: Any) -> str:
    """For a section without its own renderer: dicts as a field table, lists as bullets."""
    if isinstance(data, dict):
        rows = [[md_text(k.replace("_", " ").capitalize()), _inline(v)] for k, v in data.items()]
        return md_table(["Field", "Value"], rows) if rows else "Nothing recorded."
    if isinstance(data, list):
        return "\n".join(f"- {_inline(v)}" for v in data) if data else "Nothing recorded."
    return _inline(data)


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{md_text(k)}: {_inline(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list):
        return ", ".join(_inline(v) for v in value) or "—"
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return md_link(value)
    return md_text(value)


def section_markdown(key: str, data: Any) -> str:
    renderers = {part.key: part.markdown for part in registry.snapshot_parts()}
    return renderers.get(key, _generic)(data).strip()


# --- The document --------------------------------------------------------------------------------
def readiness_markdown(readiness: dict) -> str:
    lines = [
        f"**{readiness['percent']}% ready**: {readiness['met']} of {readiness['total']} rules met."
    ]
    blockers = [(r["title"], b) for r in readiness["rules"] for b in r["blockers"]]
    if blockers:
        lines += ["", "Blockers:", ""]
        for _rule, b in blockers:
            link = md_link(absolute_url(b["url"]))
            lines.append(f"- **{md_text(b['title'])}**: {md_text(b['detail'])} ({link})")
    else:
        lines += ["", "No blockers."]
    met = [r["title"] for r in readiness["rules"] if r["met"]]
    if met:
        lines += ["", "Met: " + "; ".join(md_text(t) for t in met) + "."]
    return "\n".join(lines)


def sign_off_markdown(sign_off: dict | None) -> str:
    if not sign_off:
        return "Not signed off yet."
    lines = [
        f"Signed off by {md_text(sign_off['signed_by'])} on {md_date(sign_off['signed_at'])}, "
        f"at {sign_off['readiness_percent']}% readiness."
    ]
    if sign_off["blockers"]:
        lines += ["", f"**Override reason:** {md_text(sign_off['override_reason'])}", ""]
        lines += ["Blockers overridden:", ""]
        lines += [f"- {md_text(b['title'])}" for b in sign_off["blockers"]]
    lines += ["", f"Snapshot SHA-256: `{sign_off['snapshot_sha256']}`"]
    if sign_off.get("reopened_at"):
        lines += [
            "",
            f"Reopened by {md_text(sign_off['reopened_by'])} on "
            f"{md_date(sign_off['reopened_at'])}: {md_text(sign_off['reopen_reason'])}",
        ]
    return "\n".join(lines)


def record_markdown(
    snapshot: dict, *, heading: str, intro: list[tuple[str, str]], sign_off: dict | None
) -> str:
    """One Markdown document: heading, facts, readiness, each section, sign-off."""
    parts = [f"# {heading}", "\n".join(f"- **{label}:** {value}" for label, value in intro)]
    parts += ["## Readiness", readiness_markdown(snapshot["readiness"])]
    for key, title, data in snapshot_sections(snapshot):
        parts += [f"## {md_text(title)}", section_markdown(key, data)]
    parts += ["## Sign-off", sign_off_markdown(sign_off)]
    return "\n\n".join(parts) + "\n"


# --- The live export and a signed snapshot ------------------------------------------------------
def _sign_off_data(sign_off) -> dict | None:
    if sign_off is None:
        return None
    return {
        "signed_by": sign_off.signed_by_name,
        "signed_at": sign_off.signed_at.isoformat(),
        "readiness_percent": sign_off.readiness_percent,
        "override_reason": sign_off.override_reason,
        "blockers": sign_off.blockers,
        "snapshot_sha256": sign_off.snapshot_sha256,
        "reopened_at": sign_off.reopened_at.isoformat() if sign_off.reopened_at else None,
        "reopened_by": str(sign_off.reopened_by) if sign_off.reopened_by else None,
        "reopen_reason": sign_off.reopen_reason,
    }


def handoff_markdown_text(record, *, now=None) -> str:
    """The account's record as Markdown: the record (loaded `for_snapshot`) taken now, rendered like
    a signed snapshot."""
    now = now or timezone.now()
    account = record.account
    snapshot = snapshot_collect(record, taken_at=now)
    intro = [
        ("Phase", md_text(account.get_phase_display())),
        ("Account page", f"<{absolute_url(reverse('accounts:detail', args=[account.pk]))}>"),
        ("Exported", now.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]
    return record_markdown(
        snapshot,
        heading=f"Handoff: {md_text(account.name)}",
        intro=intro,
        sign_off=_sign_off_data(record.latest_sign_off),
    )


def signed_snapshot_markdown(sign_off) -> str:
    """A signed snapshot as Markdown: the frozen data, drawn as the live export is."""
    name = sign_off.snapshot_account_name
    intro = [
        ("Phase at sign-off", md_text(sign_off.snapshot["sections"]["account"]["data"]["phase"]))
        if "account" in sign_off.snapshot.get("sections", {})
        else ("Account", md_text(name)),
        (
            "Snapshot taken",
            sign_off.signed_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        ),
    ]
    return record_markdown(
        sign_off.snapshot,
        heading=f"Signed handoff record: {md_text(name)}",
        intro=intro,
        sign_off=_sign_off_data(sign_off),
    )


_ALLOWED_TAGS = {"h1", "h2", "h3", "h4", "p", "ul", "ol", "li", "strong", "em", "code", "a"}
_ALLOWED_TAGS |= {"table", "thead", "tbody", "tr", "th", "td", "br", "hr", "blockquote"}


def markdown_to_html(text: str, *, shift_headings: int = 1) -> str:
    """Render our own Markdown for display (a signed snapshot). nh3 keeps only plain tags and
    http(s) links, whatever reached the text."""
    if shift_headings:
        text = "\n".join(
            ("#" * shift_headings + line) if line.startswith("#") else line
            for line in text.splitlines()
        )
    html = markdown_lib.markdown(text, extensions=["tables", "nl2br"], output_format="html")
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
    )
