"""Imports read and write a file or a batch at a time (claims.import_batches): the queries an
import runs do not grow with its rows, and what it writes is what saving each row would have
written — the row, its history, its indications and their history, its search document."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.models import Citation, Claim, ClaimRevision, Status
from claims.resources import IMPORT_REASON
from claims.reviewed_resources import ClaimResource
from tests.conftest import make_claim, make_clinic, make_indication, make_status, make_treatment
from tests.test_import import (
    CLAIM_COLUMNS,
    as_csv,
    claim_row,
    confirm,
    import_file,
    preview,
    row_errors,
)

pytestmark = pytest.mark.django_db

CITATION_COLUMNS = ["claim", "kind", "title", "url", "accessed_on"]


def citation_rows(slugs):
    return [
        [slug, "paper", f"A trial of {slug}", f"https://example.org/{slug}", "2026-11-01"]
        for slug in slugs
    ]


def queries_of(action):
    with CaptureQueriesContext(connection) as queries:
        response = action()
    return response, len(queries)


def preview_and_confirm_queries(client, content, model="claim"):
    previewed, previewing = queries_of(lambda: preview(client, content, model))
    assert previewed.context["confirm_form"] is not None, row_errors(previewed)
    confirmed, confirming = queries_of(lambda: confirm(client, previewed, model))
    assert confirmed.status_code == 200
    return previewing, confirming


def test_it_imports_new_claims_in_as_many_queries_for_60_rows_as_for_3(client, editor, world):
    client.force_login(editor)
    few = preview_and_confirm_queries(
        client, as_csv(CLAIM_COLUMNS, [claim_row(f"few-{n}") for n in range(3)])
    )
    many = preview_and_confirm_queries(
        client, as_csv(CLAIM_COLUMNS, [claim_row(f"many-{n}") for n in range(60)])
    )

    assert Claim.objects.count() == 63
    assert many[0] <= few[0] + 3 and many[1] <= few[1] + 3


def test_it_imports_new_citations_in_as_many_queries_for_60_rows_as_for_3(client, editor, world):
    for n in range(63):
        make_claim(slug=f"c{n}", published=False, citations=0, treatment=world["treatment"])
    client.force_login(editor)
    slugs = [f"c{n}" for n in range(63)]
    few = preview_and_confirm_queries(
        client, as_csv(CITATION_COLUMNS, citation_rows(slugs[:3])), model="citation"
    )
    many = preview_and_confirm_queries(
        client, as_csv(CITATION_COLUMNS, citation_rows(slugs[3:])), model="citation"
    )

    assert Citation.objects.count() == 63
    assert many[0] <= few[0] + 3 and many[1] <= few[1] + 3


def test_it_updates_draft_claims_in_as_many_queries_for_60_rows_as_for_3(client, editor, world):
    client.force_login(editor)
    rows = [claim_row(f"c{n}") for n in range(63)]
    import_file(client, as_csv(CLAIM_COLUMNS, rows))
    changed = [claim_row(f"c{n}", title=f"Retitled {n}") for n in range(63)]

    few = preview_and_confirm_queries(client, as_csv(CLAIM_COLUMNS, changed[:3]))
    many = preview_and_confirm_queries(client, as_csv(CLAIM_COLUMNS, changed[3:]))

    assert Claim.objects.filter(title__startswith="Retitled").count() == 63
    # Each updated row reads its indications once more, for the preview's "before" (the
    # copy import-export compares with drops the prefetched ones): at most one query a row.
    assert many[0] <= few[0] + 57 + 3 and many[1] <= few[1] + 57 + 3


def test_it_records_a_new_claims_history_with_its_indications_and_who_imported_it(
    client, editor, world
):
    client.force_login(editor)

    import_file(client, as_csv(CLAIM_COLUMNS, [claim_row("one")]))

    claim = Claim.objects.get(slug="one")
    (record,) = claim.history.all()
    assert record.history_type == "+"
    assert (record.history_user, record.history_change_reason) == (editor, IMPORT_REASON)
    assert {row.indication for row in record.indications.all()} == {world["acne"], world["scars"]}


def test_it_changes_a_drafts_indications_and_search_document_and_records_both(
    client, editor, world
):
    warts = make_indication(slug="warts", name="Warts")
    client.force_login(editor)
    import_file(client, as_csv(CLAIM_COLUMNS, [claim_row("one")]))

    import_file(client, as_csv(CLAIM_COLUMNS, [claim_row("one", indications="acne; warts")]))

    claim = Claim.objects.get(slug="one")
    assert set(claim.indications.all()) == {world["acne"], warts}
    assert "Warts" in claim.search_document and "Scars" not in claim.search_document
    assert claim.search_document == claim.build_search_document()
    latest, first = claim.history.all()
    assert latest.history_type == "~"
    assert {row.indication for row in latest.indications.all()} == {world["acne"], warts}
    assert {row.indication for row in first.indications.all()} == {world["acne"], world["scars"]}


def test_it_shows_a_new_claims_indications_in_the_preview(client, editor, world):
    client.force_login(editor)

    response = preview(client, as_csv(CLAIM_COLUMNS, [claim_row("one")]))

    (row,) = response.context["result"].rows
    assert any("acne; scars" in cell for cell in row.diff)


def test_it_writes_no_batch_when_a_row_of_a_later_one_goes_bad_after_the_preview(
    client, editor, world, monkeypatch
):
    monkeypatch.setattr(ClaimResource._meta, "batch_size", 2)
    spare = make_clinic(slug="spare")
    rows = [claim_row(f"c{n}") for n in range(5)] + [claim_row("last", clinic="spare")]
    client.force_login(editor)
    previewed = preview(client, as_csv(CLAIM_COLUMNS, rows))
    spare.delete()

    confirm(client, previewed)

    assert not Claim.objects.exists()
    assert not Claim.history.exists()


def test_it_asks_once_a_treatment_whether_public_claims_inherit_its_statuses(
    client, editor, world, fda, eu
):
    other = make_treatment(slug="other-shot")
    for jurisdiction in (fda, eu):
        make_status(other, jurisdiction, Status.NOT_APPROVED)
    for treatment in (world["treatment"], other):
        make_claim(treatment=treatment)  # published
    header = ["treatment", "jurisdiction", "status", "explanation", "checked_on"]
    rows = [
        [treatment, jurisdiction, "prohibited", "Banned.", "2026-12-01"]
        for treatment in ("placenta-shot", "other-shot")
        for jurisdiction in ("fda", "eu")
    ]
    client.force_login(editor)

    with CaptureQueriesContext(connection) as queries:
        response = preview(client, as_csv(header, rows), model="regulatorystatus")

    marks = {row.diff[0] for row in response.context["result"].rows}  # the review column
    assert marks == {"<span>changes published flags (pending review)</span>"}
    asked = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('SELECT 1 AS "a" FROM "claims_claim"')
    ]
    # Per treatment: whether public claims inherit its statuses, and whether the editor's
    # change waits for review (before: both for every row, and the second again on saving).
    assert len(asked) == 2 * 2


def test_it_refuses_more_pending_revisions_than_the_limit_and_writes_none(
    client, editor, world, settings
):
    settings.IMPORT_MAX_REVIEWED_ROWS = 2
    for n in range(3):
        make_claim(slug=f"c{n}", clinic=world["clinic"], treatment=world["treatment"])
    rows = [claim_row(f"c{n}", title=f"Corrected {n}") for n in range(3)]
    client.force_login(editor)

    response = preview(client, as_csv(CLAIM_COLUMNS, rows))

    assert "confirm_form" not in response.context
    assert row_errors(response) == {
        3: [
            "This file changes more than 2 published rows, each a pending revision for a "
            "Publisher: at most 2 such rows can be imported at once. Split it into smaller files."
        ]
    }
    assert not ClaimRevision.objects.exists()
