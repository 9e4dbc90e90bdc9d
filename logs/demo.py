"""Demo journals and logs for `manage.py seed_demo`: realistic notes from Sourcegraph
deployments, a critical issue, a few stale items, risks spread over the heatmap and
opportunities at every stage. Idempotent: an account that already has log records is skipped.

Everything is written through the services (audit events, change version). Only the clock is
faked afterwards: a queryset update moves timestamps into the past so that some items are
weeks old and stale, which no service would do (they always write "now")."""

import datetime

from django.utils import timezone

from logs.models import ExpansionOpportunity, Issue, JournalEntry, Risk
from logs.services import (
    issue_create,
    issue_note_add,
    issue_status_change,
    journal_entry_create,
    opportunity_create,
    opportunity_stage_change,
    risk_create,
    risk_mark_occurred,
    risk_status_change,
)

C = JournalEntry.Category
K = JournalEntry.Kind
S = Issue.Severity
IS = Issue.Status
RC = Risk.Category
RS = Risk.Strategy
OT = ExpansionOpportunity.Type
OS = ExpansionOpportunity.Stage

# Per account: notes (days ago, author, category, kind, title, body, link),
# issues (raised days ago, last update days ago, owner, severity, status, title, description,
#         target in days, ticket, resolution, updates),
# risks (raised days ago, last update days ago, owner, likelihood, impact, category, strategy,
#        status, title, description, trigger, plan, next review in days),
# opportunities (owner, type, stage, title, description, signal, users).
DEMO_LOGS = {
    "Acme Robotics": {
        "notes": [
            (
                30,
                "ie",
                C.UPPER_LIMITS,
                K.INFO,
                "Upper limits agreed at kickoff",
                "Sized for **1,200 users**, 150 concurrent, and up to **8,000 repositories** on "
                "the initial deployment.\n\n- Largest repo: `acme/firmware` (38 GB)\n- Growth "
                "expected after the Q3 reorg",
                "",
            ),
            (
                21,
                "ie",
                C.SPECIAL_DEPLOYMENT,
                K.WARNING,
                "Externalized PostgreSQL on RDS",
                "`pgsql`, `codeintel-db` and `codeinsights-db` run on Amazon RDS (db.r6g.xlarge) "
                "instead of in-cluster. Credentials live in AWS Secrets Manager; see the TDD.",
                "https://docs.sourcegraph.com/admin/external_services/postgres",
            ),
            (
                12,
                "ie",
                C.SIGNIFICANT_ERRORS,
                K.DANGER,
                "gitserver OOM during the initial clone",
                "gitserver-0 was OOM-killed cloning `acme/firmware`. Raised the memory limit to "
                "16 Gi and moved the repo to its own shard.\n\n```\nOOMKilled: exit code 137\n```",
                "https://acme.atlassian.example/browse/OPS-4412",
            ),
            (
                6,
                "ta",
                C.ENGINEERING,
                K.INFO,
                "Engineering joined the zoekt indexing call",
                "Search Core looked at the stalled indexing of the monorepo; the fix ships in the "
                "next patch release.",
                "https://github.com/sourcegraph/sourcegraph/issues/1",
            ),
        ],
        "issues": [
            (
                9,
                5,
                "ie",
                S.CRITICAL,
                IS.IN_PROGRESS,
                "GitLab code host sync failing with HTTP 429s",
                "The GitLab connection hits the customer's rate limit every hour, so repository "
                "permissions and new repos lag by up to a day.",
                3,
                "https://acme.atlassian.example/browse/OPS-4470",
                "",
                ["Asked Acme's GitLab admins to raise the limit for the Sourcegraph token."],
            ),
            (
                15,
                2,
                "ta",
                S.HIGH,
                IS.OPEN,
                "SAML sign-in loops for users behind Okta",
                "About 5% of users end in a redirect loop after sign-in.",
                10,
                "",
                "",
                [],
            ),
            (
                25,
                20,
                "ie",
                S.MEDIUM,
                IS.BLOCKED,
                "Ingress TLS certificate issued by internal CA",
                "Browsers outside the VPN distrust the certificate; waiting on Acme's PKI team.",
                None,
                "",
                "",
                [],
            ),
            (
                28,
                18,
                "ie",
                S.LOW,
                IS.RESOLVED,
                "Search-indexer pods evicted on the spot node pool",
                "",
                None,
                "",
                "Moved indexed-search to the on-demand node pool.",
                [],
            ),
        ],
        "risks": [
            (
                20,
                3,
                "ie",
                4,
                5,
                RC.PERFORMANCE,
                RS.MITIGATE,
                Risk.Status.OPEN,
                "Monorepo growth outpaces gitserver disk",
                "Because acme/firmware grows 2 GB a month, gitserver's disk may fill, which would "
                "stop cloning and fetching for every repository on the shard.",
                "gitserver disk above 75%.",
                "Alert at 70%; add a shard before the Q3 reorg.",
                14,
            ),
            (
                20,
                25,
                "ta",
                3,
                3,
                RC.ADOPTION,
                RS.MITIGATE,
                Risk.Status.MONITORING,
                "Low adoption outside the platform team",
                "Because only the platform team was onboarded, other teams may not adopt search, "
                "which would put the renewal at risk.",
                "Weekly active users below 300.",
                "Run two lunch-and-learns with the TA.",
                -3,
            ),
            (
                18,
                4,
                "ie",
                2,
                4,
                RC.SECURITY,
                RS.TRANSFER,
                Risk.Status.OPEN,
                "RDS credentials rotation breaks the frontend",
                "Because secrets rotate every 30 days, a missed restart may break database "
                "connections, which would take the instance down.",
                "Auth errors in pgsql logs.",
                "Acme's platform team owns the rotation runbook.",
                20,
            ),
        ],
        "opportunities": [
            (
                "ta",
                OT.USER,
                OS.TRANSITIONED,
                "Roll out to the firmware division (400 engineers)",
                "The firmware division wants access once the monorepo indexes reliably.",
                "Their director asked for a demo in the weekly sync.",
                400,
            ),
            (
                "ie",
                OT.FEATURE,
                OS.IDENTIFIED,
                "Batch Changes for the Python 3.12 migration",
                "They plan to migrate 300 services by hand.",
                "Mentioned in the kickoff.",
                None,
            ),
        ],
    },
    "Borealis Bank": {
        "notes": [
            (
                10,
                "ie",
                C.UPPER_LIMITS,
                K.INFO,
                "Upper limits discussed",
                "3,000 users, 300 concurrent, 20,000 repositories across Bitbucket Server and "
                "GitHub Enterprise.",
                "",
            ),
            (
                4,
                "ie",
                C.SPECIAL_DEPLOYMENT,
                K.INFO,
                "Air-gapped install",
                "No egress: images are mirrored to the bank's Artifactory; telemetry is off.",
                "",
            ),
        ],
        "issues": [
            (
                6,
                1,
                "ie",
                S.HIGH,
                IS.OPEN,
                "Artifactory mirror misses two images",
                "`syntax-highlighter` and `blobstore` are not mirrored yet.",
                5,
                "",
                "",
                [],
            ),
        ],
        "risks": [
            (
                8,
                1,
                "ie",
                5,
                4,
                RC.SCHEDULE,
                RS.AVOID,
                Risk.Status.OPEN,
                "Change freeze before quarter end",
                "Because the bank freezes changes for two weeks at quarter end, the production "
                "cut-over may slip, which would move the completion date by a month.",
                "No CAB approval by the 15th.",
                "File the CAB request now.",
                7,
            ),
            (
                8,
                2,
                "ie",
                1,
                2,
                RC.OTHER,
                RS.ACCEPT,
                Risk.Status.OPEN,
                "Internal wiki links break after the rename",
                "Because the instance URL changes at cut-over, old links may break.",
                "",
                "Accept; add a redirect.",
                30,
            ),
        ],
        "opportunities": [],
    },
    "Cobalt Health": {
        "notes": [
            (
                40,
                "ie",
                C.SPECIAL_DEPLOYMENT,
                K.INFO,
                "Rockskip enabled for the EHR monorepo",
                "Symbol search uses Rockskip for `cobalt/ehr`; the other repos use the default.",
                "",
            ),
            (
                3,
                "ie",
                C.GENERAL,
                K.SUCCESS,
                "Ready for handoff",
                "All code hosts synced and indexed; handoff meeting booked with the TA.",
                "",
            ),
        ],
        "issues": [
            (
                35,
                6,
                "ie",
                S.MEDIUM,
                IS.RESOLVED,
                "HIPAA audit log export not configured",
                "The audit log must be shipped to their SIEM before go-live.",
                -5,
                "",
                "Audit log shipped to their Splunk through the audit-log webhook; verified with "
                "their security team.",
                ["Webhook configured; waiting for the security team to confirm events arrive."],
            ),
            (
                40,
                33,
                "ie",
                S.HIGH,
                IS.CLOSED,
                "Code host connection to GitLab.com times out",
                "",
                None,
                "",
                "Fixed by allow-listing the cluster's NAT IPs.",
                [],
            ),
        ],
        "risks": [
            (
                30,
                3,
                "ta",
                3,
                5,
                RC.SECURITY,
                RS.MITIGATE,
                Risk.Status.OPEN,
                "PHI committed to a repository gets indexed",
                "Because developers occasionally commit test data, PHI may be indexed and "
                "searchable, which would be a reportable incident.",
                "A secret-scanning hit on patient data.",
                "Exclude the fixtures repos; agree an incident runbook.",
                10,
            ),
            (
                30,
                5,
                "ie",
                2,
                2,
                RC.INFRASTRUCTURE,
                RS.ACCEPT,
                Risk.Status.CLOSED,
                "Node pool quota",
                "Because the quota is tight, scaling may fail.",
                "",
                "",
                None,
            ),
        ],
        "opportunities": [
            (
                "ta",
                OT.USER,
                OS.HANDED_TO_AE,
                "Data science team (120 users)",
                "The data science team wants code search over notebooks.",
                "Asked twice in the weekly sync.",
                120,
            ),
        ],
    },
    # Handoff requested with blockers: a critical issue and a high risk nobody planned for.
    "Granite Insurance": {
        "notes": [
            (
                20,
                "ie2",
                C.SPECIAL_DEPLOYMENT,
                K.INFO,
                "Externalized PostgreSQL and Redis",
                "Azure Database for PostgreSQL (flexible server) and Azure Cache for Redis; the "
                "Kustomize overlays are in the customer's infra repo.",
                "",
            ),
        ],
        "issues": [
            (
                4,
                1,
                "ie2",
                S.CRITICAL,
                IS.IN_PROGRESS,
                "Repository permissions missing for nested Azure DevOps groups",
                "Users in nested groups see no private repositories, so half the developers "
                "cannot search their own code.",
                2,
                "https://granite.atlassian.example/browse/IT-2210",
                "",
                ["Reproduced with a test user; engineering is looking at the group expansion."],
            ),
        ],
        "risks": [
            (
                10,
                2,
                "ie2",
                3,
                4,
                RC.SCHEDULE,
                RS.MITIGATE,
                Risk.Status.OPEN,
                "Kustomize deprecation forces a migration soon after handoff",
                "Because Kustomize is planned for deprecation, the instance may need a move to "
                "Helm within a year, which would land on the TA.",
                "Deprecation date announced.",
                "",
                30,
            ),
        ],
        "opportunities": [
            (
                "ta",
                OT.USER,
                OS.TRANSITIONED,
                "Claims platform team (300 engineers)",
                "",
                "Their lead asked for access in the kickoff.",
                300,
            ),
        ],
    },
    "Dunmore Logistics": {
        "notes": [
            (
                80,
                "ie",
                C.ENGINEERING,
                K.WARNING,
                "Engineering patched the Perforce connector",
                "Depot paths with spaces failed to sync; fixed in a patch release.",
                "",
            ),
        ],
        "issues": [
            (
                60,
                25,
                "ta",
                S.LOW,
                IS.OPEN,
                "Code Insights dashboards load slowly",
                "Dashboards with 20+ series take 15 s.",
                None,
                "",
                "",
                [],
            ),
        ],
        "risks": [
            (
                70,
                2,
                "ta",
                4,
                3,
                RC.ADOPTION,
                RS.MITIGATE,
                Risk.Status.OPEN,
                "Champion leaves the company",
                "Because the only champion is moving on, sponsorship may lapse, which would "
                "risk the renewal.",
                "Champion misses two syncs.",
                "Find a second champion.",
                21,
            ),
            (
                70,
                9,
                "ta",
                5,
                5,
                RC.THIRD_PARTY,
                RS.TRANSFER,
                Risk.Status.OPEN,
                "Perforce upgrade drops the connector protocol",
                "Because Dunmore upgrades Helix Core in March, the connector may stop syncing, "
                "which would freeze search results.",
                "Helix Core 2025.1 announced internally.",
                "Perforce support ticket open.",
                5,
            ),
        ],
        "opportunities": [
            ("ta", OT.USER, OS.WON, "Warehouse systems team", "", "", 250),
            (
                "ta",
                OT.FEATURE,
                OS.LOST,
                "Cody Enterprise pilot",
                "Budget went elsewhere.",
                "",
                None,
            ),
        ],
    },
    "Evergreen Energy": {
        "notes": [
            (
                14,
                "ie2",
                C.UPPER_LIMITS,
                K.INFO,
                "Upper limits discussed",
                "600 users, 60 concurrent, 2,500 repositories.",
                "",
            ),
        ],
        "issues": [
            (
                16,
                15,
                "ie2",
                S.CRITICAL,
                IS.OPEN,
                "Production cluster not provisioned",
                "Terraform apply fails on the customer's SCP restrictions.",
                2,
                "",
                "",
                [],
            ),
        ],
        "risks": [
            (
                15,
                1,
                "ie2",
                5,
                2,
                RC.INFRASTRUCTURE,
                RS.MITIGATE,
                Risk.Status.OPEN,
                "Spot instances reclaimed during indexing",
                "Because the cluster runs on spot nodes, indexing may restart repeatedly, which "
                "would delay search readiness.",
                "More than 3 evictions a day.",
                "Pin indexed-search to on-demand nodes.",
                10,
            ),
            (
                15,
                1,
                "ta2",
                1,
                5,
                RC.SECURITY,
                RS.AVOID,
                Risk.Status.OPEN,
                "Token with admin scope leaks",
                "Because the GitHub token has admin scope, a leak may expose all repos.",
                "",
                "Replace with a fine-grained token.",
                15,
            ),
        ],
        "opportunities": [
            ("ie2", OT.USER, OS.IDENTIFIED, "Grid operations contractors", "", "", 80),
        ],
    },
    "Ion Semiconductors": {
        "notes": [],
        "issues": [],
        "risks": [
            (
                5,
                1,
                "ie",
                3,
                4,
                RC.CODE_HOSTS,
                RS.MITIGATE,
                Risk.Status.OPEN,
                "Gerrit permissions sync is slow",
                "Because Gerrit has 40,000 groups, permissions sync may take days, which would "
                "delay access for new hires.",
                "Sync longer than 12 h.",
                "Scope to used groups.",
                12,
            ),
            (
                5,
                1,
                "ie",
                2,
                3,
                RC.PERFORMANCE,
                RS.ACCEPT,
                Risk.Status.MONITORING,
                "Large binary files slow down search",
                "",
                "",
                "",
                30,
            ),
        ],
        "opportunities": [],
    },
    "Kestrel Aerospace": {
        "notes": [],
        "issues": [],
        "risks": [
            (
                4,
                1,
                "ie2",
                4,
                4,
                RC.SECURITY,
                RS.MITIGATE,
                Risk.Status.OPEN,
                "ITAR review blocks the cloud deployment",
                "Because some repositories are export-controlled, the ITAR review may reject "
                "the managed instance, which would force an on-premises install.",
                "Legal asks for a data-flow diagram.",
                "Prepare the on-premises fallback.",
                7,
            ),
        ],
        "opportunities": [],
    },
}

STAGE_PATH = {
    OS.IDENTIFIED: [],
    OS.TRANSITIONED: [OS.TRANSITIONED],
    OS.HANDED_TO_AE: [OS.TRANSITIONED, OS.HANDED_TO_AE],
    OS.WON: [OS.TRANSITIONED, OS.HANDED_TO_AE, OS.WON],
    OS.LOST: [OS.TRANSITIONED, OS.HANDED_TO_AE, OS.LOST],
}

# The risk that "happened" in the demo (its issue is raised through risk_mark_occurred).
OCCURRED = ("Evergreen Energy", "Spot instances reclaimed during indexing")


def seed(*, users, accounts, stdout) -> None:
    now = timezone.now()
    today = timezone.localdate()
    seeded = 0
    for name, logs in DEMO_LOGS.items():
        account = accounts.get(name)
        if account is None or _has_log_records(account):
            continue
        seeded += 1
        for days, author, category, kind, title, body, link in logs["notes"]:
            entry = journal_entry_create(
                account=account,
                author=users[author],
                title=title,
                body=body,
                category=category,
                kind=kind,
                reference_url=link,
            )
            _backdate(JournalEntry, entry.pk, now, created=days, updated=days)

        for (raised, updated, owner, severity, status, title, description, target, ticket,
             resolution, updates) in logs["issues"]:  # fmt: skip
            raiser = users[account.implementation_engineer.username]
            issue = issue_create(
                account=account,
                actor=raiser,
                title=title,
                owner=users[owner],
                description=description,
                severity=severity,
                target_date=today + datetime.timedelta(days=target) if target is not None else None,
                external_ticket_url=ticket,
            )
            for text in updates:
                issue_note_add(issue=issue, actor=users[owner], body=text)
            if status != IS.OPEN:
                issue_status_change(
                    issue=issue, actor=users[owner], status=status, resolution=resolution
                )
            Issue.objects.filter(pk=issue.pk).update(
                raised_at=now - datetime.timedelta(days=raised),
                created_at=now - datetime.timedelta(days=raised),
                updated_at=now - datetime.timedelta(days=updated),
            )
            if status in Issue.DONE_STATUSES:  # resolved when it was last touched
                Issue.objects.filter(pk=issue.pk).update(
                    resolved_on=today - datetime.timedelta(days=updated)
                )

        for (raised, updated, owner, likelihood, impact, category, strategy, status, title,
             description, trigger, plan, review) in logs["risks"]:  # fmt: skip
            risk = risk_create(
                account=account,
                actor=users[account.implementation_engineer.username],
                title=title,
                description=description or title,
                likelihood=likelihood,
                impact=impact,
                owner=users[owner],
                category=category,
                trigger=trigger,
                response_strategy=strategy,
                response_plan=plan,
                next_review_date=today + datetime.timedelta(days=review)
                if review is not None
                else None,
            )
            if status != Risk.Status.OPEN:
                risk_status_change(risk=risk, actor=users[owner], status=status)
            if (name, title) == OCCURRED:
                risk_mark_occurred(risk=risk, actor=users[owner])
            _backdate(Risk, risk.pk, now, created=raised, updated=updated)

        for owner, kind, stage, title, description, signal, extra_users in logs["opportunities"]:
            opportunity = opportunity_create(
                account=account,
                actor=users[account.implementation_engineer.username],
                title=title,
                owner=users[owner],
                opportunity_type=kind,
                description=description,
                signal=signal,
                estimated_additional_users=extra_users,
            )
            # Walk the stages in order, as people would, so "transitioned to TA" is recorded.
            for step in STAGE_PATH[stage]:
                opportunity_stage_change(opportunity=opportunity, actor=users[owner], stage=step)
            # Spotted four weeks ago; passed to the TA two weeks ago.
            ExpansionOpportunity.objects.filter(pk=opportunity.pk).update(
                created_at=now - datetime.timedelta(days=28), updated_at=now
            )
            ExpansionOpportunity.objects.filter(
                pk=opportunity.pk, transitioned_at__isnull=False
            ).update(transitioned_at=now - datetime.timedelta(days=14))
    stdout.write(f"Logs: seeded {seeded} accounts with notes, issues, risks and opportunities.")


def _has_log_records(account) -> bool:
    return (
        JournalEntry.objects.filter(account=account).exists()
        or Issue.objects.filter(account=account).exists()
        or Risk.objects.filter(account=account).exists()
        or ExpansionOpportunity.objects.filter(account=account).exists()
    )


def _backdate(model, pk: int, now, *, created: int, updated: int) -> None:
    model.objects.filter(pk=pk).update(
        created_at=now - datetime.timedelta(days=created),
        updated_at=now - datetime.timedelta(days=updated),
    )
