from django.core.management.base import BaseCommand

from handoff.accounts.models import Account
from handoff.people.models import User
from handoff.permissions import Action, can

# (column title, role, staff, assignment field or None)
PEOPLE = [
    ("IE (assigned)", User.Role.IMPLEMENTATION_ENGINEER, False, "implementation_engineer"),
    ("IE (other)", User.Role.IMPLEMENTATION_ENGINEER, False, None),
    ("TA (assigned)", User.Role.TECHNICAL_ADVISOR, False, "technical_advisor"),
    ("TA (other)", User.Role.TECHNICAL_ADVISOR, False, None),
    ("Manager", User.Role.MANAGER, False, None),
    ("Admin (staff)", "", True, None),
]


class Command(BaseCommand):
    help = "Print the permission matrix (action × phase × person) as a Markdown table."

    def handle(self, *args, **options):
        header = ["Action", "Phase", *[title for title, *_ in PEOPLE]]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for action in Action:
            for phase in Account.Phase:
                cells = []
                for index, (_title, role, staff, field) in enumerate(PEOPLE):
                    user = User(pk=1000 + index, username=f"u{index}", role=role, is_staff=staff)
                    account = Account(pk=1, phase=phase)
                    if field:
                        setattr(account, f"{field}_id", user.pk)
                    cells.append("yes" if can(user, action, account) else "—")
                lines.append(f"| {action.value} | {phase.label} | " + " | ".join(cells) + " |")
        self.stdout.write("\n".join(lines))
