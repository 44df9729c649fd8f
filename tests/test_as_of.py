"""Claimwatch as it was at a moment (claims.as_of) and what changed since (claims.changes_since),
on a claim's page."""

from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.db.models import F
from django.utils import timezone
from simple_history.models import HistoricalChanges

from claims.as_of import (
    PINNED_MAX_AGE,
    Moment,
    claims_as_of,
    empty_view_notice,
    history_begins,
    parse_as_of,
    published_claims_as_of,
    published_ids_as_of,
)
from claims.changes_since import changes_since
from claims.models import Citation, Claim, Status
from tests.conftest import make_claim, make_evidence_level, make_status, make_treatment

# A pinned claim page: the live claim (its access check) and its indications, the moment's
# claim, indications, statuses (two), overrides (two), citations (two), jurisdictions, the live
# flag records and the change log, whatever the claim's history; and the data version, when this
# process has not read it within the second (claims.data_version).
PINNED_CLAIM_PAGE_QUERIES = 15

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def at(value):
    return parse_as_of(value, now=NOW)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z"),
        ("2026-12-01", "2026-12-01T00:00:00Z"),
        ("2026-12-01T10:00", "2026-12-01T10:00:00Z"),
        ("2026-12-01 10:00:00.999999", "2026-12-01T10:00:00Z"),
        ("2026-12-01T11:30:00+01:30", "2026-12-01T10:00:00Z"),
        ("2026-12-01T11:00:00 01:00", "2026-12-01T10:00:00Z"),  # "+01:00", unencoded in a URL
        ("2026-12-01T05:00:00-05:00", "2026-12-01T10:00:00Z"),
        ("0001-01-01", "0001-01-01T00:00:00Z"),
    ],
)
def test_it_reads_a_moment_in_utc_to_the_second(raw, canonical):
    moment = at(raw)
    assert moment.is_pinned
    assert moment.canonical == canonical
    assert moment.notices == ()


@pytest.mark.parametrize(
    "raw",
    [
        "garbage",
        "2026-02-30",
        "2026-12-01T25:00:00Z",
        "2026-12-01T10:00:00+24:00",
        "0001-01-01T00:00:00+01:00",  # before year 1 once in UTC
        "２０２６-12-01",
        "2026-12-01\x00",
        "2026-12-01T10:00:00Z\n",
        "1" * 10_000,
    ],
)
def test_it_gives_the_live_view_and_a_notice_for_a_value_that_is_no_moment(raw):
    moment = at(raw)
    assert not moment.is_pinned
    assert moment.canonical == ""
    assert "not a date and time" in moment.notices[0]


def test_it_treats_a_moment_in_the_future_as_now_with_a_notice():
    moment = at("2026-12-02T12:00:01Z")
    assert not moment.is_pinned
    assert "in the future" in moment.notices[0]
    assert at("2026-12-02T12:00:00Z").is_pinned


def test_it_reads_no_value_as_the_live_view_without_notice():
    assert at(None) == at("") == Moment()


def shift_history_back(days=1):
    """Make everything recorded so far a day old: a moment pinned an hour ago then sees it."""
    for model in apps.get_app_config("claims").get_models():
        fields = {column.name for column in model._meta.fields}
        if issubclass(model, HistoricalChanges) and "history_date" in fields:
            model.objects.update(history_date=F("history_date") - timedelta(days=days))
    Claim.history.filter(published_at__isnull=False).update(
        published_at=F("published_at") - timedelta(days=days)
    )
    Claim.objects.filter(published_at__isnull=False).update(
        published_at=F("published_at") - timedelta(days=days)
    )


@pytest.fixture
def pinned(fda, eu):
    """A claim page viewed pinned an hour ago; since then a publisher changed a flag,
    retracted one claim and published a new one."""
    treatment = make_treatment()
    make_status(treatment, fda, Status.UNKNOWN)
    make_status(treatment, eu, Status.NOT_APPROVED)
    flagged = make_claim(treatment=treatment, title="Flag changes")
    retracted = make_claim(title="Will be retracted")
    shift_history_back()
    moment = parse_as_of((timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))

    status = treatment.regulatory_statuses.get(jurisdiction=fda)
    status.status = Status.NOT_APPROVED
    status.save()
    Claim.objects.get(pk=retracted.pk).retract(note="The clinic withdrew it.")
    added = make_claim(title="Published since")
    return {"moment": moment, "flagged": flagged, "retracted": retracted, "added": added}


def test_it_rebuilds_the_claims_published_at_the_moment(pinned):
    then = published_claims_as_of(pinned["moment"])
    assert [entry.claim.slug for entry in then] == sorted(
        [pinned["flagged"].slug, pinned["retracted"].slug],
        key=lambda slug: Claim.objects.get(slug=slug).published_at,
        reverse=True,
    )
    flagged = next(entry for entry in then if entry.claim.pk == pinned["flagged"].pk)
    assert [flag.status for flag in flagged.flags] == [Status.UNKNOWN, Status.NOT_APPROVED]
    assert [citation.url for citation in flagged.citations] == list(
        pinned["flagged"].citations.values_list("url", flat=True)
    )
    assert all(entry.claim.state == Claim.State.PUBLISHED for entry in then)


def test_it_lists_exactly_the_three_changes_since_the_moment(pinned):
    then = published_claims_as_of(pinned["moment"])
    changes = changes_since(then, Claim.objects.published())
    assert [(c.kind, c.slug, c.text) for c in changes.all()] == [
        ("added", pinned["added"].slug, "Added"),
        ("retracted", pinned["retracted"].slug, "Retracted"),
        ("flag", pinned["flagged"].slug, "FDA flag changed from not assessed to not approved"),
    ]
    assert changes.all()[0].url == pinned["added"].get_absolute_url()


def test_it_reports_corrections_and_evidence_levels(pinned):
    claim = Claim.objects.get(pk=pinned["flagged"].pk)
    claim.statement = "A corrected statement."
    claim.evidence_level = make_evidence_level(name="Stronger")
    claim.save()
    claim.citations.first().delete()
    then = published_claims_as_of(pinned["moment"], ids=[claim.pk])
    changes = changes_since(then, Claim.objects.filter(pk=claim.pk))
    assert [c.text for c in changes.corrections] == ["Corrected: statement, citations"]
    assert [c.text for c in changes.evidence] == [
        f"Evidence level changed from {pinned['flagged'].evidence_level.name} to Stronger"
    ]


def test_it_keeps_what_was_deleted_since_and_leaves_out_what_was_added(pinned):
    claim = pinned["flagged"]
    old_urls = list(claim.citations.values_list("url", flat=True))
    claim.citations.all().delete()
    Citation.objects.create(
        claim=claim, kind=Citation.Kind.PAPER, title="New", url="https://example.org/new",
        accessed_on=NOW.date(),
    )  # fmt: skip
    then = claims_as_of(pinned["moment"], ids=[claim.pk])[claim.pk]
    assert [citation.url for citation in then.citations] == old_urls


def test_it_costs_the_same_queries_for_one_claim_or_many(pinned, django_assert_num_queries):
    with django_assert_num_queries(10):
        published_claims_as_of(pinned["moment"], ids=[pinned["flagged"].pk])
    for _ in range(5):
        make_claim()
    shift_history_back()
    with django_assert_num_queries(10):
        assert len(published_claims_as_of(pinned["moment"])) == 7


def test_it_says_why_a_view_before_the_first_record_is_empty(pinned):
    year_one = at("0001-01-01")
    assert published_claims_as_of(year_one) == []
    assert "published nothing yet" in empty_view_notice(year_one, history_begins())
    assert empty_view_notice(pinned["moment"], history_begins()) is None


# --- The claim page -----------------------------------------------------------------------------


def pinned_url(claim, moment):
    return f"{claim.get_absolute_url()}?as_of={moment.canonical}"


def test_it_shows_the_claim_as_it_was_under_a_banner(client, pinned):
    claim, moment = pinned["flagged"], pinned["moment"]
    response = client.get(pinned_url(claim, moment))
    assert response.status_code == 200
    html = response.content.decode()
    assert "You are looking at Claimwatch as it was on" in html
    assert f'href="{claim.get_absolute_url()}?since={moment.canonical}"' in html
    fda_flag = response.context["flags"][0]
    assert (fda_flag.jurisdiction.code, fda_flag.status) == ("fda", Status.UNKNOWN)
    assert response["Cache-Control"] == f"public, max-age={PINNED_MAX_AGE}, immutable"

    live = client.get(claim.get_absolute_url())
    assert live.context["flags"][0].status == Status.NOT_APPROVED
    assert "immutable" not in live["Cache-Control"]
    assert "You are looking at Claimwatch as it was" not in live.content.decode()


def test_it_shows_a_claim_retracted_since_as_it_was_published(client, pinned):
    response = client.get(pinned_url(pinned["retracted"], pinned["moment"]))
    assert response.status_code == 200
    assert response.context["claim"].state == Claim.State.PUBLISHED
    assert "Retracted." not in response.content.decode()


def test_it_says_a_claim_was_not_published_yet_at_the_moment(client, pinned):
    response = client.get(pinned_url(pinned["added"], pinned["moment"]))
    assert response.status_code == 200
    assert "was not yet published on Claimwatch" in response.content.decode()
    assert "immutable" in response["Cache-Control"]


def test_it_shows_what_changed_since_on_todays_page(client, pinned):
    claim, moment = pinned["flagged"], pinned["moment"]
    response = client.get(f"{claim.get_absolute_url()}?since={moment.canonical}")
    assert response.status_code == 200
    assert [c.text for c in response.context["changes_since"].all()] == [
        "FDA flag changed from not assessed to not approved"
    ]
    assert "immutable" not in response["Cache-Control"]
    untouched = client.get(
        f"{pinned['retracted'].get_absolute_url()}?since={moment.canonical}"
    ).content.decode()
    assert "Retracted" in untouched


def test_it_redirects_another_spelling_of_the_moment_to_the_canonical_one(client, pinned):
    claim = pinned["flagged"]
    response = client.get(f"{claim.get_absolute_url()}?as_of=2026-11-30&since=x")
    assert response.status_code == 302
    assert response["Location"] == f"{claim.get_absolute_url()}?as_of=2026-11-30T00:00:00Z"


def test_a_pinned_page_costs_a_fixed_number_of_queries(
    client, pinned, django_assert_max_num_queries
):
    for _ in range(3):
        make_claim(treatment=pinned["flagged"].treatment)
    url = pinned_url(pinned["flagged"], pinned["moment"])
    with django_assert_max_num_queries(PINNED_CLAIM_PAGE_QUERIES):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        "garbage",
        "9999-12-31T23:59:59Z",
        "0001-01-01",
        "0001-01-01T00:00:00Z",
        "1" * 1_000,
        "1" * 10_000,
        "2026-12-01%00",
        "2026-12-01%0A%0D",
        "%FF%FE",
        "2026-12-01T10:00:00%2B99:99",
    ],
)
@pytest.mark.parametrize("parameter", ["as_of", "since"])
def test_it_answers_hostile_moments_with_a_notice_never_a_500(client, pinned, parameter, raw):
    response = client.get(f"{pinned['flagged'].get_absolute_url()}?{parameter}={raw}", follow=True)
    if len(raw) > 2000:  # claims.middleware refuses any query string that long, before views
        assert response.status_code == 414
        return
    assert response.status_code == 200
    html = response.content.decode()
    said = [
        "not a date and time",
        "in the future",
        "was not yet published",  # a pinned page, before the claim was
        "What changed since",  # today's page, with what changed since before the claim was
    ]
    assert any(words in html for words in said)


def test_it_answers_404_for_a_claim_that_is_not_public(client, pinned):
    draft = make_claim(published=False)
    assert client.get(pinned_url(draft, pinned["moment"])).status_code == 404
    assert client.get("/claims/no-such-claim/?as_of=garbage").status_code == 404


def test_changes_since_costs_the_same_queries_for_one_claim_or_many(
    pinned, django_assert_num_queries
):
    then = published_claims_as_of(pinned["moment"])
    with django_assert_num_queries(7):  # the retracted claim left the view: what became of it
        changes_since(then, Claim.objects.published().filter(pk__in=[e.claim.pk for e in then]))
    for _ in range(5):
        make_claim()
    with django_assert_num_queries(7):
        assert len(changes_since(then, Claim.objects.published()).added) == 6


def test_the_ids_published_at_a_moment_agree_with_the_claims_rebuilt(pinned):
    moment = pinned["moment"]
    rebuilt = {entry.claim.pk for entry in published_claims_as_of(moment)}
    assert (
        set(Claim.objects.filter(pk__in=published_ids_as_of(moment)).values_list("pk", flat=True))
        == rebuilt
    )
    assert pinned["added"].pk not in rebuilt
    assert pinned["retracted"].pk in rebuilt


def test_it_keeps_an_editors_pinned_page_private(client, pinned, editor):
    client.force_login(editor)
    response = client.get(pinned_url(pinned["flagged"], pinned["moment"]))
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "max-age=31536000" not in response["Cache-Control"]
