from django.core.management.base import BaseCommand

from handoff.accounts.models import Account
from handoff.people.models import User
from handoff.permissions import ACCOUNTLESS_ACTIONS, ACTION_LABELS, Action, can

# (column title, role, staff, assignment field or None)
PEOPLE = [
    ("IE (assigned)", User.Role.IMPLEMENTATION_ENGINEER, False, "implementation_engineer"),
    ("IE (other)", User.Role.IMPLEMENTATION_ENGINEER, False, None),
    ("TA (assigned)", User.Role.TECHNICAL_ADVISOR, False, "technical_advisor"),
    ("TA (other)", User.Role.TECHNICAL_ADVISOR, False, None),
    ("Manager", User.Role.MANAGER, False, None),
    ("Admin (staff)", "", True, None),
]


def matrix_cell(action: Action, phase: str | None, person_index: int) -> bool:
    """Ask the permission module, for one person of PEOPLE on an account in `phase`."""
    _title, role, staff, field = PEOPLE[person_index]
    user = User(pk=1000 + person_index, username=f"u{person_index}", role=role, is_staff=staff)
    if phase is None:
        return can(user, action)
    account = Account(pk=1, phase=phase)
    if field:
        setattr(account, f"{field}_id", user.pk)
    return can(user, action, account)


def matrix_markdown() -> str:
    header = ["Action", "Phase", *[title for title, *_ in PEOPLE]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for action in Action:
        phases = [None] if action in ACCOUNTLESS_ACTIONS else list(Account.Phase)
        for phase in phases:
            cells = ["yes" if matrix_cell(action, phase, i) else "—" for i in range(len(PEOPLE))]
            phase_label = "—" if phase is None else Account.Phase(phase).label
            lines.append(f"| {ACTION_LABELS[action]} | {phase_label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Print the permission matrix (action × phase × person) as a Markdown table."

    def handle(self, *args, **options):
        self.stdout.write(matrix_markdown())
