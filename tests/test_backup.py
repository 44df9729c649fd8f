"""Data safety: `manage.py backup` (`make backup`) writes a dump that `manage.py restore`
(`make restore`) turns back into the same database."""

import io
import json
import re
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.core import serializers
from django.core.management import CommandError, call_command
from django.db import connection

from claims.management.commands.backup import EXCLUDED
from claims.models import Claim, Status
from tests.conftest import make_claim, make_indication, make_override, make_status, make_treatment

pytestmark = pytest.mark.django_db
BASE_DIR = Path(__file__).resolve().parent.parent


def backed_up_models():
    """Every model a backup holds: all but the EXCLUDED apps and models."""
    for model in apps.get_models():
        label = model._meta.label_lower
        if model._meta.app_label not in EXCLUDED and label not in EXCLUDED:
            yield model


def to_milliseconds(value):
    # Django's JSON serializer writes times to the millisecond.
    if isinstance(value, datetime):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def snapshot():
    """Every backed-up row, with natural keys for references to content types and permissions,
    which `migrate` numbers differently on every database."""
    rows = {}
    for model in backed_up_models():
        rows[model._meta.label_lower] = [
            {**row, "fields": {name: to_milliseconds(v) for name, v in row["fields"].items()}}
            for row in serializers.serialize(
                "python", model._base_manager.order_by("pk"), use_natural_foreign_keys=True
            )
        ]
    return rows


def round_trip(tmp_path):
    """Back up, empty the database, restore; returns the dump's path."""
    dump = tmp_path / "backup.json"
    call_command("backup", output=str(dump), stdout=io.StringIO())
    # Fire PostgreSQL's deferred foreign key checks now: TRUNCATE refuses to run with any
    # pending in the test's transaction.
    connection.check_constraints()
    call_command("flush", interactive=False, verbosity=0)
    assert not Claim.objects.exists() and not User.objects.exists()
    call_command("restore", str(dump), verbosity=0)
    return dump


@pytest.fixture
def generated(jurisdictions, editor):
    """A bit of everything the factories make, edited so that it has history."""
    fda, eu = jurisdictions
    treatment = make_treatment(description="Injected, with “quotes” and ünïcödé")
    make_status(treatment, fda, Status.NOT_APPROVED)
    make_status(treatment, eu, Status.PROHIBITED)
    indications = [make_indication(), make_indication()]
    claims = [make_claim(treatment=treatment, indications=indications, citations=2)]
    claims.append(make_claim(published=False, made_on=date(2026, 1, 2)))
    retracted = make_claim()
    retracted.retract()
    claims.append(retracted)
    make_override(claims[0], eu, Status.NOT_APPROVED)
    claims[0].title = "Renamed after review"
    claims[0].save()
    User.objects.create_superuser("admin", password="pw-admin-123")
    return claims


def test_it_restores_the_seed_data_exactly(tmp_path):
    call_command("loaddata", "fixtures/seed.json", verbosity=0)
    assert Claim.objects.exists()
    before = snapshot()
    round_trip(tmp_path)
    assert snapshot() == before


def test_it_restores_a_generated_set_exactly(tmp_path, generated):
    before = snapshot()
    assert before["claims.historicalclaim"] and before["claims.claimstatusoverride"]
    round_trip(tmp_path)
    assert snapshot() == before


def test_it_restores_users_groups_and_their_permissions(tmp_path, generated, editor):
    permissions = set(editor.get_all_permissions())
    round_trip(tmp_path)
    restored = User.objects.get(username="editor")
    assert restored.check_password("pw-editor-123")
    assert set(restored.get_all_permissions()) == permissions
    assert Group.objects.filter(name="Editors").exists()


def test_it_keeps_each_claims_history_with_its_claim(tmp_path, generated):
    claim = generated[0]
    titles = list(claim.history.order_by("history_id").values_list("title", flat=True))
    round_trip(tmp_path)
    restored = Claim.objects.get(slug=claim.slug)
    assert restored.pk == claim.pk
    assert list(restored.history.order_by("history_id").values_list("title", flat=True)) == (titles)
    assert restored.title == "Renamed after review"


def test_it_leaves_out_what_migrate_rebuilds_and_what_is_short_lived(tmp_path, generated):
    dump = tmp_path / "backup.json"
    call_command("backup", output=str(dump), stdout=io.StringIO())
    models = {row["model"] for row in json.loads(dump.read_text())}
    assert {"claims.claim", "claims.historicalclaim", "auth.user", "auth.group"} <= models
    assert not models & {"contenttypes.contenttype", "auth.permission", "sessions.session"}
    assert not any(model.startswith("axes.") for model in models)


def test_it_names_references_by_natural_key(tmp_path, generated):
    dump = tmp_path / "backup.json"
    call_command("backup", output=str(dump), stdout=io.StringIO())
    rows = json.loads(dump.read_text())
    claim = next(row for row in rows if row["model"] == "claims.claim")
    assert isinstance(claim["fields"]["clinic"], list)  # ["clinic-slug"], not an id
    group = next(row for row in rows if row["model"] == "auth.group")
    assert all(isinstance(p, list) for p in group["fields"]["permissions"])


def test_it_restores_only_into_an_empty_database(tmp_path, generated):
    dump = tmp_path / "backup.json"
    call_command("backup", output=str(dump), stdout=io.StringIO())
    with pytest.raises(CommandError, match="already holds claims"):
        call_command("restore", str(dump))


def test_it_names_a_backup_by_its_time(settings, tmp_path, db):
    settings.BASE_DIR = tmp_path
    out = io.StringIO()
    call_command("backup", stdout=out)
    written = Path(out.getvalue().strip())
    assert written.parent == tmp_path / "backups"
    assert re.fullmatch(r"claimwatch-\d{8}-\d{6}\.json", written.name)
    json.loads(written.read_text())


def test_it_has_make_targets_for_backup_and_restore():
    def dry_run(*args):
        return subprocess.run(
            ["make", "-n", *args], cwd=BASE_DIR, capture_output=True, text=True, check=False
        )

    assert "manage.py backup" in dry_run("backup").stdout
    assert 'manage.py restore "backups/x.json"' in dry_run("restore", "FILE=backups/x.json").stdout
    assert "Usage: make restore FILE=" in dry_run("restore").stdout
