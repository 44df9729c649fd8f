from django.db import migrations, models

# PostgreSQL only: a stemmed, weighted tsvector generated from the title (weight A) and the
# search document (weight B), with the GIN index that serves `?q=` on /claims/. The ORM reads
# it through RawSQL in claims.search.search; SQLite searches search_document with LIKE.
ADD_VECTOR = """
ALTER TABLE claims_claim ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
    setweight(to_tsvector('english'::regconfig, coalesce(search_document, '')), 'B')
) STORED;
CREATE INDEX claim_search_vector_gin ON claims_claim USING gin (search_vector);
"""
DROP_VECTOR = """
DROP INDEX IF EXISTS claim_search_vector_gin;
ALTER TABLE claims_claim DROP COLUMN IF EXISTS search_vector;
"""


def add_search_vector(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADD_VECTOR)


def drop_search_vector(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_VECTOR)


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0002_editors_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="search_document",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(add_search_vector, drop_search_vector),
    ]
