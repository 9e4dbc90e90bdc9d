"""The four logs' parts of the signed snapshot, and their Markdown: pure functions of the
record's logs slice and of the snapshot data."""

from handoff.closeout.markdown import md_date, md_link, md_table, md_text
from logs.models import Issue, Risk
from logs.selectors import logs_of


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _name(user) -> str | None:
    return str(user) if user is not None else None


def snapshot_notes(record) -> list[dict]:
    return [
        {
            "title": entry.title,
            "category": entry.get_category_display(),
            "kind": entry.get_kind_display(),
            "author": _name(entry.author),
            "created_at": _iso(entry.created_at),
            "edited": entry.edited,
            "notes": entry.body,
            "reference_url": entry.reference_url,
        }
        for entry in logs_of(record).notes
    ]


def _source_risk(issue: Issue) -> str | None:
    try:
        return issue.source_risk.reference
    except Risk.DoesNotExist:
        return None


def snapshot_issues(record) -> list[dict]:
    return [
        {
            "reference": issue.reference,
            "title": issue.title,
            "severity": issue.get_severity_display(),
            "status": issue.get_status_display(),
            "owner": _name(issue.owner),
            "raised_by": _name(issue.raised_by),
            "raised_at": _iso(issue.raised_at),
            "target_date": _iso(issue.target_date),
            "external_ticket_url": issue.external_ticket_url,
            "description": issue.description,
            "resolution": issue.resolution,
            "resolved_on": _iso(issue.resolved_on),
            "from_risk": _source_risk(issue),
        }
        for issue in logs_of(record).issues
    ]


def snapshot_risks(record) -> list[dict]:
    return [
        {
            "reference": risk.reference,
            "title": risk.title,
            "description": risk.description,
            "category": risk.get_category_display(),
            "likelihood": risk.get_likelihood_display(),
            "impact": risk.get_impact_display(),
            "score": risk.score,
            "band": risk.band.label,
            "trigger": risk.trigger,
            "response_strategy": risk.get_response_strategy_display(),
            "response_plan": risk.response_plan,
            "owner": _name(risk.owner),
            "status": risk.get_status_display(),
            "next_review_date": _iso(risk.next_review_date),
            "issue_raised": risk.issue.reference if risk.issue_id else None,
        }
        for risk in logs_of(record).risks
    ]


def snapshot_opportunities(record) -> list[dict]:
    return [
        {
            "title": o.title,
            "type": o.get_opportunity_type_display(),
            "stage": o.get_stage_display(),
            "owner": _name(o.owner),
            "identified_by": _name(o.identified_by),
            "description": o.description,
            "signal": o.signal,
            "estimated_additional_users": o.estimated_additional_users,
            "transitioned_at": _iso(o.transitioned_at),
        }
        for o in logs_of(record).opportunities
    ]


# --- Markdown ------------------------------------------------------------------------------------
def _quote(text: str) -> str:
    """People's Markdown as an escaped blockquote: its lines and paragraphs kept, its syntax
    shown as typed rather than run (no injected links, HTML or headings)."""
    lines = text.strip().splitlines() or [""]
    return "\n".join(f"> {md_text(line)}" if line.strip() else ">" for line in lines)


def _details(*parts: tuple[str, str]) -> str:
    """'Label: text' sentences for one table cell, the empty ones left out."""
    sentences = []
    for label, text in parts:
        text = " ".join(str(text or "").split())
        if not text:
            continue
        if text[-1] not in ".!?":
            text += "."
        sentences.append(f"{label}: {md_text(text)}" if label else md_text(text))
    return " ".join(sentences) or "—"


def markdown_notes(data: list[dict]) -> str:
    if not data:
        return "No implementation notes."
    parts = []
    for note in data:
        head = (
            f"**{md_text(note['title'])}** ({md_text(note['category'])}, {md_text(note['kind'])}): "
            f"{md_text(note['author'])}, {md_date(note['created_at'])}"
        )
        if note["edited"]:
            head += " (edited)"
        if note["reference_url"]:
            head += f". Reference: {md_link(note['reference_url'])}"
        parts.append(head + "\n\n" + _quote(note["notes"]))
    return "\n\n".join(parts)


def markdown_issues(data: list[dict]) -> str:
    if not data:
        return "No issues recorded."
    open_count = sum(1 for i in data if i["status"] not in ("Resolved", "Closed"))
    rows = [
        [
            md_text(i["reference"]),
            md_text(i["title"]),
            md_text(i["severity"]),
            md_text(i["status"]) + (f" {md_date(i['resolved_on'])}" if i["resolved_on"] else ""),
            md_text(i["owner"]),
            md_date(i["raised_at"]),
            md_date(i["target_date"]),
            md_link(i["external_ticket_url"]),
            _details(
                ("", i["description"]),
                ("Resolution", i["resolution"]),
                ("Raised from risk", i["from_risk"] or ""),
            ),
        ]
        for i in data
    ]
    header = ["No.", "Issue", "Severity", "Status", "Owner", "Raised", "Target date", "Ticket"]
    return f"{open_count} open of {len(data)}.\n\n" + md_table([*header, "Details"], rows)


def markdown_risks(data: list[dict]) -> str:
    if not data:
        return "No risks recorded."
    rows = [
        [
            md_text(r["reference"]),
            md_text(r["title"]),
            f"{md_text(r['band'])} ({r['score']})",
            md_text(r["status"]),
            md_text(r["owner"]),
            md_date(r["next_review_date"]),
            f"{md_text(r['response_strategy'])}: {md_text(r['response_plan'])}"
            if r["response_plan"]
            else f"{md_text(r['response_strategy'])}: no plan",
            _details(
                ("", r["description"]),
                ("Likelihood", r["likelihood"]),
                ("Impact", r["impact"]),
                ("Category", r["category"]),
                ("Trigger", r["trigger"]),
                ("Issue raised", r["issue_raised"] or ""),
            ),
        ]
        for r in data
    ]
    header = ["No.", "Risk", "Band (score)", "Status", "Owner", "Next review", "Response"]
    return md_table([*header, "Details"], rows)


def markdown_opportunities(data: list[dict]) -> str:
    if not data:
        return "No expansion opportunities recorded."
    rows = [
        [
            md_text(o["title"]),
            md_text(o["type"]),
            md_text(o["stage"]),
            md_text(o["owner"]),
            "—"
            if o["estimated_additional_users"] is None
            else f"{o['estimated_additional_users']:,}",
            md_date(o["transitioned_at"]),
            _details(("", o["description"]), ("Signal", o["signal"])),
        ]
        for o in data
    ]
    header = ["Opportunity", "Type", "Stage", "Owner", "Est. additional users"]
    return md_table([*header, "Transitioned to TA", "Details"], rows)
