"""The Publishers group: everything editors do, plus deciding what readers see. Publishing,
retracting and sending a claim back to draft take the `publish_claim` permission, which only
this group (and superusers) hold. Superusers hand out both groups."""

import importlib

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Publishers"
PUBLISH = "publish_claim"

editors = importlib.import_module("claims.migrations.0002_editors_group")


def codenames():
    return [*editors.codenames(), PUBLISH]


def create_publishers(apps, schema_editor):
    # As in 0002: on a fresh database post_migrate has not created the permissions yet.
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
        raise RuntimeError(f"Permissions missing for the Publishers group: {sorted(missing)}")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.set(permissions)


def delete_publishers(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0003_claim_search"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="claim",
            options={
                "ordering": ["-published_at", "-created_at", "slug"],
                "permissions": [("publish_claim", "Can publish, retract and send back claims")],
            },
        ),
        migrations.RunPython(create_publishers, delete_publishers),
    ]
