"""Vitally admins by e-mail: GET /resources/admins/search?email= (issue 16). Optional: a note
goes without an authorId when Vitally knows no admin with the author's e-mail."""

from typing import Any

from vitally_sync.client import Result, VitallyClient


def admin_id_from(body: Any, email: str) -> str:
    """The id of the admin with this e-mail in a search answer (a bare array, or the
    {results: [...]} envelope), or "" when none matches."""
    rows = body.get("results") if isinstance(body, dict) else body
    if not isinstance(rows, list):
        return ""
    wanted = email.strip().lower()
    for row in rows:
        if isinstance(row, dict) and str(row.get("email") or "").strip().lower() == wanted:
            return str(row.get("id") or "")
    return ""


def admin_id_for_email(client: VitallyClient, email: str) -> tuple[str, Result]:
    """The Vitally admin id for `email` ("" when not found) and the request's result (the
    caller decides what a 429 or a failure means: the limiter is its business)."""
    result = client.request("GET", "/resources/admins/search", params={"email": email})
    return (admin_id_from(result.body, email) if result.ok else ""), result
