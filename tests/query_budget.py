"""Exact query counts of the pages made of sections, as the sum of what each part costs.

Every app's page test takes its number from here, so adding a section updates one place (with
its reason) instead of every test. None of the numbers depends on how many rows there are."""

# --- What `closeout.selectors.account_handoff_get` costs -----------------------------------------
# The account with its closeout row joined, its checklist items, its sign-offs, and the people
# every loaded row names, in one query (people.selectors.people_attach) instead of joins.
HANDOFF_LOAD_CORE = 4
# deployments.selectors.handoff_prefetch: environments, their design documents, their instance
# rows, code hosts; Django skips the two row prefetches when the account has no environment.
DEPLOYMENT_PREFETCH = 4
DEPLOYMENT_PREFETCH_WITHOUT_ENVIRONMENTS = 2
# logs.selectors.handoff_prefetch: notes, issues, risks, opportunities. The pages' load
# (account_page_get) leaves the notes out: only the sign-off snapshot and the Markdown export
# read them all; the notes section asks for the newest three and the total in one query.
LOG_PREFETCH = 4
LOG_PAGE_PREFETCH = 3
JOURNAL_SECTION = 1
# vitally_sync's "Differs in Vitally" (reconcile.differences_prefetch), which the attention
# strip and the Vitally panel both read.
VITALLY_PREFETCH = 1

# --- The account page ----------------------------------------------------------------------------
# session, user, the account row its cache key is made of (accounts/page_cache.py), history;
# plus the handoff load (the account page loads its account as the handoff page does), which
# every deployment and log section and the closeout section read. A repeat view served from the
# page cache stops after the account row.
ACCOUNT_PAGE_OWN = 4
ACCOUNT_PAGE_CACHED = 3
# The Vitally panel previews the payload it would send now: its recent attempts. The deployment
# summary and the open issue and high-risk counts come from the handoff load of the same account
# (deployment_summary_of, log_counts_of), and so do the differences found in Vitally
# (VITALLY_PREFETCH), so they cost nothing more. The sync state is joined into the account query.
VITALLY_SECTION = 1
VITALLY_SECTION_WITHOUT_ENVIRONMENTS = 1


def vitally_section_queries(*, with_environments: bool = True) -> int:
    return VITALLY_SECTION if with_environments else VITALLY_SECTION_WITHOUT_ENVIRONMENTS


# --- The handoff page ----------------------------------------------------------------------------
# session, user, the account row its cache key is made of, the TA's review, history; plus the
# handoff load. Every section (deployments, logs) reads that load instead of querying again. A
# repeat view served from the page cache stops after the review.
HANDOFF_PAGE_OWN = 5
HANDOFF_PAGE_CACHED = 4
# The audit events after the review, once the person has marked the handoff reviewed.
CHANGES_SINCE_REVIEW = 1


def handoff_load_queries(*, with_environments: bool = True, snapshot: bool = True) -> int:
    """account_handoff_get; with snapshot=False, account_page_get."""
    deployments = (
        DEPLOYMENT_PREFETCH if with_environments else DEPLOYMENT_PREFETCH_WITHOUT_ENVIRONMENTS
    )
    logs = LOG_PREFETCH if snapshot else LOG_PAGE_PREFETCH
    return HANDOFF_LOAD_CORE + deployments + logs + VITALLY_PREFETCH


def page_load_queries(*, with_environments: bool = True) -> int:
    """The pages' load plus what its sections ask for themselves (the newest notes)."""
    return handoff_load_queries(with_environments=with_environments, snapshot=False) + (
        JOURNAL_SECTION
    )


def account_page_queries(*, with_environments: bool = True) -> int:
    return (
        ACCOUNT_PAGE_OWN
        + page_load_queries(with_environments=with_environments)
        + vitally_section_queries(with_environments=with_environments)
    )


def handoff_page_queries(*, with_environments: bool = True, reviewed: bool = True) -> int:
    changes = CHANGES_SINCE_REVIEW if reviewed else 0
    vitally = vitally_section_queries(with_environments=with_environments)
    return (
        HANDOFF_PAGE_OWN
        + changes
        + page_load_queries(with_environments=with_environments)
        + vitally
    )
