"""`manage.py restore FILE`: load a `backup` into an empty, migrated database."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from claims.models import Claim


class Command(BaseCommand):
    help = "Load a backup written by `manage.py backup` into an empty, migrated database."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A file written by `manage.py backup`.")

    def handle(self, *args, file, **options):
        if Claim.objects.exists():
            raise CommandError(
                "This database already holds claims. Restore into an empty database: "
                "a new one (`manage.py migrate`) or this one after `manage.py flush`."
            )
        # The backup holds the history as it was. Without this, django-simple-history would
        # record the restore itself as a change of every claim with indications (loading
        # many-to-many rows sends the signal it listens to, as an edit would).
        with override_settings(SIMPLE_HISTORY_ENABLED=False):
            call_command("loaddata", file, verbosity=options["verbosity"])
