"""The account page's deployment sections. They share one read (deployment_overview_get keeps
it on the account object), so together they cost four queries whatever the record's size."""

from deployments.selectors import deployment_overview_get
from deployments.sizing import TIERS
from handoff.accounts.sections import AccountSection, register_section
from handoff.permissions import Action, can


def _context(*, account, user) -> dict:
    return {
        "overview": deployment_overview_get(account=account),
        "can_edit": can(user, Action.RECORD_EDIT, account),
        "account": account,
    }


def _sizing_context(*, account, user) -> dict:
    return {**_context(account=account, user=user), "tiers": TIERS}


def register_sections() -> None:
    register_section(
        AccountSection(
            key="production-deployment",
            title="Production deployment",
            template="deployments/_section_production.html",
            get_context=_context,
            order=20,
        )
    )
    register_section(
        AccountSection(
            key="other-environments",
            title="Other environments",
            template="deployments/_section_environments.html",
            get_context=_context,
            order=30,
        )
    )
    register_section(
        AccountSection(
            key="code-hosts",
            title="Code hosts",
            template="deployments/_section_code_hosts.html",
            get_context=_context,
            order=40,
        )
    )
    register_section(
        AccountSection(
            key="sizing-check",
            title="Sizing check",
            template="deployments/_section_sizing.html",
            get_context=_sizing_context,
            order=50,
        )
    )
