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
# session, user; the record; the recent attempts it lists; the notes sent to Vitally.
VITALLY_PAGE_OWN = 4


def vitally_page_queries(*, with_environments: bool = True) -> int:
    return VITALLY_PAGE_OWN + record_queries(with_environments=with_environments)


# --- My work (handoff/accounts/inbox.py) ---------------------------------------------------------
# session, user; waiting for the technical advisor's acknowledgement; the accounts whose changes
# the technical advisor reviews; the manager's planned completions to watch; the contributions'
# lists (handed-off accounts with items due, Vitally differences, critical risks, sync trouble),
# one query each; the first rows of the two lists that show readiness, each row with how many
# there are.
MY_WORK_OWN = 2 + 1 + 1 + 1 + 4 + 2
# The records of the rows that show readiness (the engineer's in implementation, the manager's
# ready for sign-off), in one batch; none when no row shows (Django runs no query for an empty
# `pk__in`), nor for the top bar's count.
# The technical advisor's reviews and the audit events since them, when they advise an account
# not yet handed off.
MY_WORK_REVIEWS = 2


def my_work_queries(
    *, records: bool, reviews: bool, with_environments: bool = True, count_only: bool = False
) -> int:
    loaded = record_queries(with_environments=with_environments) if records else 0
    return MY_WORK_OWN + (0 if count_only else loaded) + (MY_WORK_REVIEWS if reviews else 0)


# --- The Vitally sync page (vitally_sync:health) ------------------------------------------------
# session, user; the count per state; the first rows (their state, age and first difference
# computed by the database); their latest attempts; the managers the filter bar offers; the
# notes Vitally has not taken (the whole page only, not the rows htmx swaps).
SYNC_HEALTH_QUERIES = 7


# --- The mirror of Vitally's accounts (vitally_sync/mirror_views.py) ----------------------------
# The import page: session, user; the listed Vitally accounts (those not linked, one query with
# the linked ids as a subquery); where the pull stands (its time, why it stopped).
VITALLY_IMPORT_QUERIES = 4
# The account form's search: session, user; the matches; the portal accounts linked to them
# (when nothing matches: the last pull's time instead, for its message).
VITALLY_SEARCH_QUERIES = 4
