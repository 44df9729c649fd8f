"""The review workflow: draft → in review → published → retracted, and back to draft from review.

Editors submit for review; publishers also publish, retract and send back; superusers do
everything. Each persona is held to that in the model, in the admin's actions, on the change
form's buttons and on direct POSTs."""

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from claims.history import workflow_log
from claims.models import Citation, Claim, Jurisdiction, Status
from tests.conftest import make_claim, make_override, make_status, make_treatment

pytestmark = pytest.mark.django_db

DRAFT, IN_REVIEW, PUBLISHED, RETRACTED = Claim.State


def changelist():
    return reverse("admin:claims_claim_changelist")


def change(claim):
    return reverse("admin:claims_claim_change", args=[claim.pk])


def texts(response):
    return [str(message) for message in response.context["messages"]]


def in_state(state, **fields):
    """A complete claim (evidence, citation, a status in every jurisdiction) in `state`."""
    claim = make_claim(published=False, treatment=assessed_treatment(), **fields)
    path = {
        DRAFT: [],
        IN_REVIEW: [IN_REVIEW],
        PUBLISHED: [PUBLISHED],
        RETRACTED: [PUBLISHED, RETRACTED],
    }[state]
    for step in path:
        claim.move_to(step)
    return claim


def assessed_treatment():
    treatment = make_treatment()
    for jurisdiction in Jurisdiction.objects.all():
        make_status(treatment, jurisdiction, Status.NOT_APPROVED)
    return treatment


def state_of(claim):
    return Claim.objects.get(pk=claim.pk).state


@pytest.fixture
def viewer(django_user_model):
    user = django_user_model.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_claim"))
    return user


@pytest.fixture
def persona(request, db):
    """(name, user) for the persona the test's parameter names; anonymous has no user. Only
    that persona's user is made: hashing passwords is what makes these tests slow."""
    name = request.param
    return name, None if name == "anonymous" else request.getfixturevalue(name)


# --- The model --------------------------------------------------------------------------------


ALLOWED = {
    (DRAFT, IN_REVIEW),
    (DRAFT, PUBLISHED),
    (IN_REVIEW, DRAFT),
    (IN_REVIEW, PUBLISHED),
    (PUBLISHED, RETRACTED),
}
MOVES = [(start, end) for start in Claim.State for end in Claim.State if start != end]


@pytest.mark.parametrize(("start", "end"), MOVES, ids=[f"{a}-to-{b}" for a, b in MOVES])
def test_it_allows_exactly_the_workflow_moves(jurisdictions, publisher, start, end):
    claim = in_state(start)

    if (start, end) in ALLOWED:
        claim.move_to(end, publisher)
        assert state_of(claim) == end
    else:
        with pytest.raises(ValidationError, match="cannot be"):
            claim.move_to(end, publisher)
        assert state_of(claim) == start


@pytest.mark.parametrize("state", list(Claim.State))
def test_it_refuses_a_move_to_the_same_state(jurisdictions, publisher, state):
    claim = in_state(state)
    with pytest.raises(ValidationError, match="already"):
        claim.move_to(state, publisher)


def test_it_has_a_method_for_each_move(jurisdictions, publisher):
    claim = in_state(DRAFT)

    claim.submit_for_review(publisher)
    assert state_of(claim) == IN_REVIEW
    claim.send_back(publisher, note="Needs a better source")
    assert state_of(claim) == DRAFT
    claim.submit_for_review(publisher)
    claim.publish(publisher)
    assert state_of(claim) == PUBLISHED
    claim.retract(publisher, note="The clinic withdrew it")
    assert state_of(claim) == RETRACTED


def test_it_lets_editors_submit_for_review_and_nothing_more(jurisdictions, editor):
    claim = in_state(DRAFT)
    claim.submit_for_review(editor)

    for move in [claim.publish, claim.send_back]:
        with pytest.raises(PermissionDenied):
            move(editor)
    assert state_of(claim) == IN_REVIEW

    published = in_state(PUBLISHED)
    with pytest.raises(PermissionDenied):
        published.retract(editor)
    assert state_of(published) == PUBLISHED


def test_it_moves_claims_for_code_acting_for_nobody(jurisdictions):
    claim = in_state(DRAFT)
    claim.publish()
    assert state_of(claim) == PUBLISHED
    assert claim.history.latest().history_user is None


def test_it_stamps_the_first_publication_and_keeps_it(jurisdictions, publisher):
    claim = in_state(IN_REVIEW)
    claim.publish(publisher)
    first = Claim.objects.get(pk=claim.pk).published_at

    claim.retract(publisher)

    assert first is not None
    assert Claim.objects.get(pk=claim.pk).published_at == first


def test_it_records_who_moved_a_claim_when_and_why(jurisdictions, editor, publisher):
    claim = in_state(DRAFT)
    claim.submit_for_review(editor)
    claim.send_back(publisher, note="Cite the paper, not the press release")
    claim.submit_for_review(editor)
    claim.title = "A clearer title"
    claim.save()  # an edit: no move
    claim.publish(publisher)

    log = workflow_log(claim)

    assert [(m.from_state, m.to_state, m.by) for m in log] == [
        (None, DRAFT, ""),
        (DRAFT, IN_REVIEW, "editor"),
        (IN_REVIEW, DRAFT, "publisher"),
        (DRAFT, IN_REVIEW, "editor"),
        (IN_REVIEW, PUBLISHED, "publisher"),
    ]
    assert log[2].note == "Cite the paper, not the press release"
    assert [m.at for m in log] == sorted(m.at for m in log)


# --- What publishing needs ------------------------------------------------------------------------


def test_it_refuses_to_publish_without_a_status_in_every_jurisdiction(fda, eu, publisher):
    treatment = make_treatment()
    make_status(treatment, fda, Status.NOT_APPROVED)
    claim = make_claim(published=False, treatment=treatment, title="Half assessed")

    with pytest.raises(ValidationError) as refusal:
        claim.publish(publisher)

    assert refusal.value.messages == [
        "“Half assessed” cannot be published: it needs a status in EU "
        "(record “Not assessed” where no source says)."
    ]
    assert state_of(claim) == DRAFT


def test_it_publishes_with_an_explicit_not_assessed(fda, eu, publisher):
    treatment = make_treatment()
    make_status(treatment, fda, Status.NOT_APPROVED)
    make_status(treatment, eu, Status.UNKNOWN)
    claim = make_claim(published=False, treatment=treatment)

    claim.publish(publisher)

    assert state_of(claim) == PUBLISHED


def test_it_counts_the_claims_own_override_as_a_status(fda, eu, publisher):
    treatment = make_treatment()
    make_status(treatment, fda, Status.COSMETIC)
    claim = make_claim(published=False, treatment=treatment)
    make_override(claim, eu, Status.NOT_APPROVED)

    claim.publish(publisher)

    assert state_of(claim) == PUBLISHED


def test_it_lists_every_problem_of_a_claim_it_refuses(fda, eu, publisher):
    claim = make_claim(published=False, citations=0, evidence_level=None, title="Bare")

    with pytest.raises(ValidationError) as refusal:
        claim.publish(publisher)

    assert refusal.value.messages == [
        "“Bare” cannot be published: it needs an evidence level; it needs at least one "
        "citation; it needs a status in FDA, EU (record “Not assessed” where no source says)."
    ]


def test_it_asks_for_a_status_in_a_jurisdiction_added_later(jurisdictions, publisher):
    claim = in_state(IN_REVIEW)
    Jurisdiction.objects.create(
        code="mhra", name="United Kingdom", regulator="MHRA", short_label="MHRA", position=3
    )

    with pytest.raises(ValidationError, match="it needs a status in MHRA"):
        claim.publish(publisher)


# --- Admin actions, per persona -------------------------------------------------------------------

# (action, the state it starts from, the state it leads to)
ACTIONS = [
    ("submit_for_review", DRAFT, IN_REVIEW),
    ("send_back", IN_REVIEW, DRAFT),
    ("publish", IN_REVIEW, PUBLISHED),
    ("publish", DRAFT, PUBLISHED),
    ("retract", PUBLISHED, RETRACTED),
]
MAY = {
    "anonymous": set(),
    "viewer": set(),
    "editor": {"submit_for_review"},
    "publisher": {"submit_for_review", "send_back", "publish", "retract"},
    "superuser": {"submit_for_review", "send_back", "publish", "retract"},
}
PERSONAS = list(MAY)


def run_action(client, action, *claims):
    return client.post(
        changelist(), {"action": action, helpers.ACTION_CHECKBOX_NAME: [c.pk for c in claims]}
    )


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
@pytest.mark.parametrize(("action", "start", "end"), ACTIONS)
def test_it_runs_an_action_only_for_those_allowed(
    client, jurisdictions, persona, action, start, end
):
    name, user = persona
    claim = in_state(start)
    if user:
        client.force_login(user)

    response = run_action(client, action, claim)

    allowed = action in MAY[name]
    assert state_of(claim) == (end if allowed else start)
    if name == "anonymous":
        assert response.url.startswith(reverse("admin:login"))
    if allowed:
        assert claim.history.latest().history_user == user


@pytest.mark.parametrize("persona", ["editor", "publisher", "superuser"], indirect=True)
def test_it_offers_each_persona_only_its_actions(client, jurisdictions, persona):
    name, user = persona
    in_state(DRAFT)
    client.force_login(user)

    response = client.get(changelist())

    offered = {action for action, _ in response.context["action_form"].fields["action"].choices}
    assert offered - {"", "delete_selected"} == MAY[name]


def test_it_offers_no_action_to_a_viewer(client, jurisdictions, viewer):
    in_state(DRAFT)
    client.force_login(viewer)

    response = client.get(changelist())

    assert response.status_code == 200
    assert "action_form" not in response.context or response.context["action_form"] is None


def test_it_publishes_the_complete_claims_and_explains_the_refusals(
    client, jurisdictions, publisher
):
    ready = in_state(IN_REVIEW)
    uncited = make_claim(
        published=False, citations=0, treatment=assessed_treatment(), title="Exosomes cure acne"
    )
    client.force_login(publisher)

    response = client.post(
        changelist(),
        {"action": "publish", helpers.ACTION_CHECKBOX_NAME: [ready.pk, uncited.pk]},
        follow=True,
    )

    assert state_of(ready) == PUBLISHED
    assert state_of(uncited) == DRAFT
    messages = texts(response)
    assert "“Exosomes cure acne” cannot be published: it needs at least one citation." in messages
    assert "Published 1 claim." in messages


def test_it_retracts_published_claims_and_leaves_drafts_alone(client, jurisdictions, publisher):
    published = in_state(PUBLISHED)
    draft = in_state(DRAFT, title="Exosomes erase wrinkles")
    client.force_login(publisher)

    response = client.post(
        changelist(),
        {"action": "retract", helpers.ACTION_CHECKBOX_NAME: [published.pk, draft.pk]},
        follow=True,
    )

    assert state_of(published) == RETRACTED
    assert state_of(draft) == DRAFT
    assert texts(response) == [
        "“Exosomes erase wrinkles” is not published, so it cannot be retracted.",
        "Retracted 1 claim.",
    ]


# --- The change form's workflow buttons, per persona ----------------------------------------------

BUTTONS = [
    ("_submit_for_review", DRAFT, IN_REVIEW),
    ("_send_back", IN_REVIEW, DRAFT),
    ("_publish", IN_REVIEW, PUBLISHED),
    ("_retract", PUBLISHED, RETRACTED),
]


def claim_form(claim, **changes):
    """What the change form posts for `claim` and its citations, with `changes`."""
    data = {
        "title": claim.title,
        "slug": claim.slug,
        "statement": claim.statement,
        "clinic": claim.clinic_id,
        "treatment": claim.treatment_id,
        "evidence_level": claim.evidence_level_id or "",
        "status_overrides-TOTAL_FORMS": 0,
        "status_overrides-INITIAL_FORMS": 0,
    }
    citations = list(claim.citations.all())
    data["citations-TOTAL_FORMS"] = len(citations)
    data["citations-INITIAL_FORMS"] = len(citations)
    for i, citation in enumerate(citations):
        for field in ["id", "kind", "title", "url", "position"]:
            data[f"citations-{i}-{field}"] = getattr(citation, field)
        data[f"citations-{i}-accessed_on"] = citation.accessed_on.isoformat()
        data[f"citations-{i}-claim"] = claim.pk
    data.update(changes)
    return data


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
@pytest.mark.parametrize(("button", "start", "end"), BUTTONS)
def test_it_takes_a_workflow_button_only_from_those_allowed(
    client, jurisdictions, persona, button, start, end
):
    name, user = persona
    claim = in_state(start, title="Before")
    if user:
        client.force_login(user)

    response = client.post(change(claim), claim_form(claim, title="After", **{button: "x"}))

    allowed = button.lstrip("_") in MAY[name]
    after = Claim.objects.get(pk=claim.pk)
    if allowed:
        assert response.status_code == 302
        assert response.url == change(claim)
        assert (after.state, after.title) == (end, "After")
    else:
        assert response.status_code in (302, 403)
        assert (after.state, after.title) == (start, "Before")  # nothing was saved


@pytest.mark.parametrize(
    ("persona", "state", "labels"),
    [
        ("editor", DRAFT, ["Save and submit for review"]),
        ("editor", IN_REVIEW, []),
        ("editor", PUBLISHED, []),
        ("publisher", DRAFT, ["Save and submit for review", "Save and publish"]),
        ("publisher", IN_REVIEW, ["Save and send back to draft", "Save and publish"]),
        ("publisher", PUBLISHED, ["Save and retract"]),
        ("publisher", RETRACTED, []),
    ],
    indirect=["persona"],
)
def test_it_shows_the_buttons_the_state_and_the_persona_allow(
    client, jurisdictions, persona, state, labels
):
    claim = in_state(state)
    client.force_login(persona[1])

    response = client.get(change(claim))

    assert [label for _, label in response.context["workflow_buttons"]] == labels
    for label in labels:
        assert f'value="{label}"' in response.text


def test_it_saves_the_edits_and_explains_a_refused_publication(client, fda, eu, publisher):
    treatment = make_treatment()
    make_status(treatment, fda, Status.NOT_APPROVED)
    claim = make_claim(published=False, treatment=treatment, title="Before")
    client.force_login(publisher)

    response = client.post(
        change(claim), claim_form(claim, title="After", _publish="x"), follow=True
    )

    after = Claim.objects.get(pk=claim.pk)
    assert (after.state, after.title) == (DRAFT, "After")
    assert texts(response) == [
        "Your changes were saved, but “After” cannot be published: it needs a status in EU "
        "(record “Not assessed” where no source says)."
    ]


def test_it_publishes_with_a_citation_and_an_override_added_in_the_same_form(
    client, fda, eu, publisher
):
    treatment = make_treatment()
    make_status(treatment, fda, Status.COSMETIC)
    claim = make_claim(published=False, citations=0, treatment=treatment)
    client.force_login(publisher)
    data = claim_form(
        claim,
        _publish="x",
        **{
            "citations-TOTAL_FORMS": 1,
            "citations-0-kind": Citation.Kind.PAPER,
            "citations-0-title": "A case series",
            "citations-0-url": "https://example.org/case-series",
            "citations-0-accessed_on": "2026-11-01",
            "citations-0-position": 0,
            "status_overrides-TOTAL_FORMS": 1,
            "status_overrides-0-jurisdiction": eu.pk,
            "status_overrides-0-status": Status.NOT_APPROVED,
            "status_overrides-0-reason": "Sold to treat a disease.",
            "status_overrides-0-explanation": "A medicinal claim.",
            "status_overrides-0-source_url": "https://example.org/eu",
            "status_overrides-0-checked_on": "2026-11-01",
        },
    )

    response = client.post(change(claim), data, follow=True)

    assert texts(response) == ["Published 1 claim."]
    assert state_of(claim) == PUBLISHED


def test_it_keeps_a_retraction_note_in_history(client, jurisdictions, publisher):
    claim = in_state(PUBLISHED)
    client.force_login(publisher)

    client.post(change(claim), claim_form(claim, _retract="x", note="The clinic withdrew it"))

    record = claim.history.latest()
    assert record.state == RETRACTED
    assert record.history_change_reason == "The clinic withdrew it"
    assert record.history_user == publisher


def test_it_shows_the_workflow_log_on_the_change_form(client, jurisdictions, editor, publisher):
    claim = in_state(DRAFT)
    claim.submit_for_review(editor)
    claim.send_back(publisher, note="Find the paper")
    client.force_login(editor)

    response = client.get(change(claim))

    assert "Created as a draft" in response.text
    assert "editor · Draft → In review" in response.text
    assert "publisher · In review → Draft: Find the paper" in response.text


def test_it_refuses_a_workflow_button_on_a_new_claim(client, jurisdictions, publisher):
    client.force_login(publisher)

    response = client.post(reverse("admin:claims_claim_add"), {"_publish": "x"})

    assert response.status_code == 403


def test_it_refuses_a_workflow_button_on_the_revert_form(client, jurisdictions, publisher):
    claim = in_state(DRAFT)
    version = claim.history.latest()
    client.force_login(publisher)
    url = reverse("admin:claims_claim_simple_history", args=[claim.pk, version.history_id])

    response = client.post(url, claim_form(claim, _publish="x"))

    assert response.status_code == 403
    assert state_of(claim) == DRAFT


def test_it_refuses_two_workflow_buttons_at_once(client, jurisdictions, publisher):
    claim = in_state(IN_REVIEW)
    client.force_login(publisher)

    response = client.post(change(claim), claim_form(claim, _publish="x", _send_back="x"))

    assert response.status_code == 403
    assert state_of(claim) == IN_REVIEW


# --- Previewing drafts on the public page ---------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
@pytest.mark.parametrize("state", list(Claim.State))
def test_it_shows_drafts_only_to_editors(client, jurisdictions, persona, state):
    name, user = persona
    claim = in_state(state, title="A claim in some state")
    if user:
        client.force_login(user)

    response = client.get(claim.get_absolute_url())

    public = state in (PUBLISHED, RETRACTED)
    may_preview = user is not None  # every signed-in persona here may view claims
    assert response.status_code == (200 if public or may_preview else 404)
    if response.status_code == 200:
        assert ("Only editors can see this page." in response.text) == (not public)


def test_it_hides_drafts_from_a_signed_in_reader_without_the_permission(
    client, jurisdictions, django_user_model
):
    claim = in_state(DRAFT)
    client.force_login(django_user_model.objects.create_user("reader"))

    assert client.get(claim.get_absolute_url()).status_code == 404
