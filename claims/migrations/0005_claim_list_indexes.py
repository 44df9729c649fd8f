from django.db import migrations, models

# PostgreSQL only: the facet counts of /claims/ (claims.filters.ClaimFilter.facets) and the
# list's totals read published claims by treatment (route, origin, source and treatment filters
# are all sets of treatments) and group them by clinic, evidence level, conference or the
# treatment's attributes. This covering index holds every claim column those queries read, so
# they scan it instead of the wide rows (statement, search document, search vector). SQLite
# has no INCLUDE; there the foreign-key indexes serve.
ADD_FACETS_INDEX = """
CREATE INDEX claim_published_facets ON claims_claim (treatment_id)
    INCLUDE (id, clinic_id, evidence_level_id, conference_id)
    WHERE state = 'published';
"""
DROP_FACETS_INDEX = "DROP INDEX IF EXISTS claim_published_facets;"


def add_facets_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADD_FACETS_INDEX)


def drop_facets_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_FACETS_INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0004_publishers_group"),
    ]

    operations = [
        # /claims/ newest first, the home page's latest claims, the entity pages' lists.
        migrations.AddIndex(
            model_name="claim",
            index=models.Index(
                condition=models.Q(("state", "published")),
                fields=["-published_at", "-id"],
                name="claim_published_newest",
            ),
        ),
        migrations.RunPython(add_facets_index, drop_facets_index),
    ]
