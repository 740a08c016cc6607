"""The bridge's write paths stay a fixed, small number of statements (issue 15): a QR claim over token
auth and a Point System award. And what they no longer look up front is still answered: retries."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from engagement.models import LedgerEntry, Member
from points_bridge import point_system
from points_bridge import services as bridge
from points_bridge.models import Claim, ClaimTemplate

# Token auth, the member and the key lookup (one statement; a retry is not rate-limited), template lock,
# rule and campaign probe, member lock, INSERT entry + UPDATE balance (one statement on PostgreSQL),
# leaderboard totals, INSERT claim. Was 14 (with a savepoint) before issue 15. Since the merge of streaks
# also the streak row read, and the rank histogram rows (sent when a value changes bucket: always here;
# on PostgreSQL written by the totals statement itself since issue 15's ranks work, so one fewer there).
# One fewer again since the award reads its rule, campaign probe and streak row in one statement.
CLAIM_STATEMENTS = {"postgresql": 8, "sqlite": 10}
# Participant + earlier identical request (one statement), rule and campaign probe, member lock, INSERT
# entry + UPDATE balance, leaderboard totals. Was 9 (with a savepoint) before issue 15. Since the merge
# of streaks also the streak row read, and the rank histogram rows (a value changes bucket here; on
# PostgreSQL inside the totals statement). One fewer since the rule, campaign probe and streak row are
# one statement after the member lock.
ADD_STATEMENTS = {"postgresql": 5, "sqlite": 7}
MARKS = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")


def _send(call):
    with CaptureQueriesContext(connection) as queries:
        response = call()
    sent = [q["sql"] for q in queries.captured_queries]
    return response, [s for s in sent if not s.startswith(MARKS)], sum(s.startswith("SAVEPOINT") for s in sent)


@pytest.fixture
def claimer(member):
    return APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=member.user).key}")


@pytest.fixture
def booth(db):
    return ClaimTemplate.objects.create(name="Booth", points=5, claim_limit=None)


def claim(client, template, key):
    return client.post("/api/v1/points/claim", {"code": bridge.issue_claim_token(template=template)},
                       format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_claim_is_a_fixed_number_of_statements(claimer, booth):
    assert claim(claimer, booth, "warm-up").status_code == 201
    response, sent, savepoints = _send(lambda: claim(claimer, booth, "k-1"))
    assert response.status_code == 201, response.content
    assert len(sent) == CLAIM_STATEMENTS[connection.vendor], "\n".join(sent)
    assert savepoints == 1, "claim's own atomic block (inside the test's transaction); award takes none"
    stored = Claim.objects.get(pk=response.json()["claim_id"])
    assert stored.points == 5 and stored.entry.idempotency_key.endswith(":k-1") and stored.actor_id is not None


def test_a_member_without_a_profile_yet_gets_one_on_the_first_claim(make_user, booth):
    user = make_user("newcomer")
    Member.objects.filter(user=user).delete()  # as for an account made before the members app
    api = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert claim(api, booth, "k-1").status_code == 201
    assert Member.objects.get(user=user).points == 5


def test_a_retried_claim_is_answered_even_once_the_template_refuses_it(claimer, booth):
    ClaimTemplate.objects.filter(pk=booth.pk).update(claim_limit=1)
    first = claim(claimer, booth, "k-1")
    again = claim(claimer, booth, "k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["claim_id"] == first.json()["claim_id"]
    refused = claim(claimer, booth, "k-2")
    assert refused.status_code == 409 and refused.json()["code"] == "claim_limit_reached"
    assert LedgerEntry.objects.filter(reason="claim").count() == 1


def add(ps, user_id, description):
    return ps.post(f"/points/{user_id}/add?type=manual", json.dumps({"points": 3, "description": description}),
                   content_type="application/json")


def test_a_point_system_award_is_a_fixed_number_of_statements(ps, db):
    assert add(ps, 4242, "first: creates the participant").status_code == 201
    response, sent, savepoints = _send(lambda: add(ps, 4242, "second"))
    assert response.status_code == 201, response.content
    assert len(sent) == ADD_STATEMENTS[connection.vendor], "\n".join(sent)
    assert savepoints == 1, "add_points' own atomic block (inside the test's transaction); award takes none"
    assert response.json()["user_id"] == 4242 and response.json()["points"] == 3


def test_the_combined_lookup_finds_the_participant_and_an_identical_request_inside_the_window(ps, db):
    first = add(ps, 4242, "same")
    entry = LedgerEntry.objects.get(pk=first.json()["id"])
    member, earlier = point_system._participant_and_earlier(4242, entry.idempotency_key, entry.created)
    assert member.external_id == 4242 and member.points == 3 and earlier == entry.pk
    later = entry.created + timedelta(seconds=601)  # the default window is 600 s
    assert point_system._participant_and_earlier(4242, entry.idempotency_key, later)[1] is None
    assert point_system._participant_and_earlier(999, None, entry.created) == (None, None)


CODES = ["abc", "  padded  ", "", "   ", "x" * 2000, " " + "x" * 2000 + " ", "x" * 2001, "nul\x00inside",
         "lone \ud800 surrogate", "ünïcödé ✓", 12345, 1.5, True, None, ["a"], {"a": 1}]


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("shape", ["json", "missing", "form"])
def test_the_claim_views_quick_code_reading_is_the_serializers(code, shape):
    from django.http import QueryDict
    from rest_framework.exceptions import ValidationError

    from points_bridge.api import ClaimView

    data = {"code": code} if shape == "json" else {"other": code}
    if shape == "form":
        data = QueryDict(mutable=True)
        data["code"] = str(code)

    def read(reader):
        try:
            return ("ok", reader(data))
        except ValidationError as exc:
            return ("refused", exc.detail)

    def serializer(payload):
        checked = ClaimView.InputSerializer(data=payload)
        checked.is_valid(raise_exception=True)
        return checked.validated_data["code"]

    assert read(ClaimView.code) == read(serializer)
