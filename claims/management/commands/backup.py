"""`manage.py backup`: everything people made, as one JSON file that `loaddata` restores.

References are natural keys (`--natural-foreign`): users by username, groups by name,
permissions by codename, claims by slug, so a dump does not depend on the numbering of content
types and permissions, which `migrate` rebuilds differently on every database. Primary keys
are kept: django-simple-history's records name their object by its id (a plain integer, not a
foreign key), and renumbered rows would hand every claim another claim's history.
"""

from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

# Rebuilt by `migrate` (content types, permissions), short-lived (sessions, django-axes' login
# attempts) or a duplicate of what django-simple-history keeps (the admin's log).
# The data version is the page cache's key, not data: a restore bumps it anyway.
EXCLUDED = [
    "contenttypes",
    "auth.permission",
    "sessions",
    "admin.logentry",
    "axes",
    "claims.dataversion",
]


def default_path():
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return settings.BASE_DIR / "backups" / f"claimwatch-{stamp}.json"


class Command(BaseCommand):
    help = "Write a restorable JSON dump of the database (restore with `loaddata FILE`)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", help="The file to write. Default: backups/claimwatch-<UTC time>.json"
        )

    def handle(self, *args, output=None, **options):
        path = Path(output) if output else default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        call_command(
            "dumpdata",
            exclude=EXCLUDED,
            natural_foreign=True,
            indent=1,
            output=str(path),
            verbosity=0,
        )
        self.stdout.write(str(path))
