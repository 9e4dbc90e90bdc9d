"""Exact query counts of the pages made of sections, as the sum of what each part costs.

Every app's page test takes its number from here, so adding a section updates one place (with
its reason) instead of every test."""

ACCOUNT_PAGE_CORE = 4  # session, user, account (people joined), history
# The account again with the handoff prefetches, its checklist items, its sign-offs.
CLOSEOUT_SECTION = 3
# session, user, account (people + closeout joined), checklist items, sign-offs, the TA's review,
# changes since review, history
HANDOFF_PAGE_CORE = 8
# environments, their design documents, their instance rows, code hosts; Django skips the two
# row prefetches when the account has no environment at all.
DEPLOYMENT_SECTIONS = 4
DEPLOYMENT_SECTIONS_WITHOUT_ENVIRONMENTS = 2
LOG_SECTIONS = 2 * 4  # rows and summary per log (notes, issues, risks, opportunities)
# The Vitally panel previews the payload it would send now: the open issue and high-risk counts
# and the recent attempts. Its deployment summary comes from the deployment sections' read of
# the same account (deployment_summary_of), so it costs nothing more. The sync state is joined
# into the account query.
VITALLY_SECTION = 2 + 1
VITALLY_SECTION_WITHOUT_ENVIRONMENTS = 2 + 1


def _sections(with_environments: bool) -> int:
    deployments = (
        DEPLOYMENT_SECTIONS if with_environments else DEPLOYMENT_SECTIONS_WITHOUT_ENVIRONMENTS
    )
    vitally = VITALLY_SECTION if with_environments else VITALLY_SECTION_WITHOUT_ENVIRONMENTS
    return deployments + LOG_SECTIONS + vitally


def account_page_queries(*, with_environments: bool = True) -> int:
    return ACCOUNT_PAGE_CORE + CLOSEOUT_SECTION + _sections(with_environments)


def handoff_page_queries(*, with_environments: bool = True) -> int:
    return HANDOFF_PAGE_CORE + _sections(with_environments)
