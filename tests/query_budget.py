"""The account page's exact query count, as the sum of what each registered section costs.

Every app's account-page test takes its number from here, so adding a section updates one place
(with its reason) instead of every test."""

ACCOUNT_PAGE_CORE = 4  # session, user, account (people joined), history
# environments, their design documents, their instance rows, code hosts; Django skips the two
# row prefetches when the account has no environment at all.
DEPLOYMENT_SECTIONS = 4
DEPLOYMENT_SECTIONS_WITHOUT_ENVIRONMENTS = 2
LOG_SECTIONS = 2 * 4  # rows and summary per log (notes, issues, risks, opportunities)


def account_page_queries(*, with_environments: bool = True) -> int:
    deployments = (
        DEPLOYMENT_SECTIONS if with_environments else DEPLOYMENT_SECTIONS_WITHOUT_ENVIRONMENTS
    )
    return ACCOUNT_PAGE_CORE + deployments + LOG_SECTIONS
