"""The closeout checklist template, from the handbook's closeout definition ("Closing out a
Deployment") and the Implementation Overview's exit criteria (domain.md §5.1-5.2). Staff edit
it in the admin afterwards; this runs once."""

from django.db import migrations

ITEMS = [
    (
        "Infrastructure for all customer environments",
        "The necessary infrastructure for all customer environments is complete, and the full "
        "production infrastructure is live and stable.",
    ),
    (
        "Sourcegraph deployment and resourcing",
        "Sourcegraph is deployed and resourced as scoped; production infrastructure is staged "
        "for long-term success with continued user and feature expansion.",
    ),
    ("Code host connections", "All scoped code hosts are connected to the instance."),
    ("Syncing", "All scoped code hosts and repositories are synced."),
    ("Indexing", "All scoped repositories are indexed."),
    ("General site configuration", "The instance's general site configuration is complete."),
    (
        "Admin accounts provisioned and admins trained",
        "Sourcegraph admin accounts are provisioned and the customer's admins are trained.",
    ),
    ("Scoped features working", "All scoped features are functioning as expected."),
    (
        "Performance tests done",
        "Standard workflow and performance tests are completed, and the production instance "
        "achieves a sufficiently high level of performance.",
    ),
    (
        "Production right-sized or a plan in place",
        "The production environment is right-sized, or a plan is in place to right-size it.",
    ),
    ("Production on a current version", "The production environment is on a current version."),
]


def seed(apps, schema_editor):
    ChecklistTemplateItem = apps.get_model("closeout", "ChecklistTemplateItem")
    if ChecklistTemplateItem.objects.exists():
        return
    ChecklistTemplateItem.objects.bulk_create(
        ChecklistTemplateItem(title=title, guidance=guidance, position=index * 10, is_active=True)
        for index, (title, guidance) in enumerate(ITEMS, start=1)
    )


def unseed(apps, schema_editor):
    ChecklistTemplateItem = apps.get_model("closeout", "ChecklistTemplateItem")
    ChecklistTemplateItem.objects.filter(title__in=[title for title, _ in ITEMS]).delete()


class Migration(migrations.Migration):
    dependencies = [("closeout", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
