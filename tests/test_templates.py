"""Django's {# #} comments end at the line: one that runs over two lines is printed on the page
(the walkthrough found one in the checklist). {% comment %} is for longer ones."""

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def test_no_template_comment_runs_over_a_line():
    unclosed = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in TEMPLATES.rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if line.count("{#") > line.count("#}")
    ]
    assert unclosed == []
