"""Exact query counts of the pages made of sections, as the sum of what each part costs.

Every app's page test takes its number from here, so adding a section updates one place (with
its reason) instead of every test. None of the numbers depends on how many rows there are."""

# --- What `handoff.record.account_record_get` costs ----------------------------------------------
# The account with its closeout and Vitally sync rows joined, its checklist items, its sign-offs,
# and the people every loaded row names, in one query (people.selectors.people_attach) instead of
# joins.
RECORD_CORE = 4
# The deployments' slice: environments, their design documents, their instance rows, code hosts;
# Django skips the two row queries when the account has no environment.
DEPLOYMENT_SLICE = 4
DEPLOYMENT_SLICE_WITHOUT_ENVIRONMENTS = 2
# The logs' slice: the notes (the newest three and the total, in one query; every note for the
# snapshot), issues, risks, opportunities.
LOGS_SLICE = 4
# vitally_sync's slice: the differences found in Vitally, which the attention strip and the
# Vitally panel both read.
VITALLY_SLICE = 1


def record_queries(*, with_environments: bool = True) -> int:
    """account_record_get, for the pages or for the snapshot alike."""
    deployments = DEPLOYMENT_SLICE if with_environments else DEPLOYMENT_SLICE_WITHOUT_ENVIRONMENTS
    return RECORD_CORE + deployments + LOGS_SLICE + VITALLY_SLICE


# --- The account page ----------------------------------------------------------------------------
# session, user, the viewer's review of the handoff; plus the account's record, which every
# section reads (the Vitally section's summary included: its differences come with the record).
ACCOUNT_PAGE_OWN = 3
# The audit events after the review, once the person has marked the handoff reviewed.
CHANGES_SINCE_REVIEW = 1


def account_page_queries(*, with_environments: bool = True, reviewed: bool = False) -> int:
    changes = CHANGES_SINCE_REVIEW if reviewed else 0
    return ACCOUNT_PAGE_OWN + changes + record_queries(with_environments=with_environments)


# --- The Vitally page (vitally_sync:panel) ------------------------------------------------------
# session, user; the record; the recent attempts it lists.
VITALLY_PAGE_OWN = 3


def vitally_page_queries(*, with_environments: bool = True) -> int:
    return VITALLY_PAGE_OWN + record_queries(with_environments=with_environments)
