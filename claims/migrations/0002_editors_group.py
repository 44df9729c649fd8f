"""The Editors group: curates every claims model and browses its history, and can do nothing to
users or groups. Superusers hand out the group; editors cannot hand it to themselves."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Editors"

# The curated models, listed rather than discovered: a model added later joins the group in
# its own migration, after someone decides editors should have it.
CURATED = [
    "conference",
    "presentation",
    "clinic",
    "exosomesource",
    "indication",
    "treatment",
    "evidencelevel",
    "jurisdiction",
    "regulatorystatus",
    "claim",
    "citation",
    "claimstatusoverride",
]
# simple_history's tables, read-only: editors browse and revert history through the curated
# models' admin; nobody edits a historical row directly.
HISTORY = [f"historical{model}" for model in CURATED] + ["historicalclaim_indications"]

ACTIONS = ["add", "change", "delete", "view"]


def codenames():
    return [f"{action}_{model}" for model in CURATED for action in ACTIONS] + [
        f"view_{model}" for model in HISTORY
    ]


def create_editors(apps, schema_editor):
    # Permissions are normally created by post_migrate, after every migration has run; on a
    # fresh database they do not exist yet, so create them now (it is idempotent).
    app_config = apps.get_app_config("claims")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = codenames()
    permissions = Permission.objects.filter(
        content_type__app_label="claims", codename__in=wanted
    )
    missing = set(wanted) - set(permissions.values_list("codename", flat=True))
    if missing:
        raise RuntimeError(f"Permissions missing for the Editors group: {sorted(missing)}")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.set(permissions)


def delete_editors(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_editors, delete_editors)]
