"""Referral rewards: invite codes and links, joining with a code (API, link + login), crediting both sides
once on the invitee's first earning action (never for self-referral or a banned account), the admin, the
fan zone, and the races on PostgreSQL with negative controls."""

import threading

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings

from config.models import OutboxTask
from engagement import moderation, referrals, services
from engagement.errors import MemberBanned, ReferralError
from engagement.models import LedgerEntry, Member, Referral
from tests.concurrency import postgres_only, run_concurrently

REFERRAL = "/api/v1/engagement/referral"


@pytest.fixture
def inviter(make_user):
    return services.member_for_user(make_user("ines"))


@pytest.fixture
def code(inviter):
    return referrals.code_for(member=inviter).code


@pytest.fixture
def joined(member, code):
    return referrals.attach_referral(member=member, code=code)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what commits would run (the outbox relay, eager Celery) inside a non-transactional test."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def _earn(member, points=5, key=None):
    return services.award(member=member, reason="test_earn", points=points, xp=points, idempotency_key=key)


def _credits(member=None):
    qs = LedgerEntry.objects.filter(reason=referrals.REASON)
    return qs.filter(member=member) if member is not None else qs


# --- Codes and the API --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_has_one_stable_readable_code(inviter):
    first = referrals.code_for(member=inviter)
    assert referrals.code_for(member=inviter).pk == first.pk
    assert len(first.code) == referrals.CODE_LENGTH and set(first.code) <= set(referrals.CODE_ALPHABET)


@pytest.mark.django_db
@override_settings(SITE_URL="https://club.example.org/")
def test_get_referral_returns_the_code_an_absolute_link_and_counts(member_api, member):
    body = member_api.get(REFERRAL).json()
    assert body["link"] == f"https://club.example.org/join/{body['code']}/"
    assert (body["invited"], body["credited"], body["referred_by"]) == (0, 0, None)
    assert (body["inviter_points"], body["invitee_points"]) == (50, 25)


@pytest.mark.django_db
def test_the_referral_api_needs_a_member(api):
    assert api.get(REFERRAL).status_code in (401, 403)
    assert api.post(REFERRAL, {"code": "ABCDEFGH"}, format="json").json()["code"] in ("not_authenticated",
                                                                                      "permission_denied")


@pytest.mark.django_db
def test_joining_with_a_code_by_api_and_its_replay(member_api, member, inviter, code):
    first = member_api.post(REFERRAL, {"code": code.lower()}, format="json")
    again = member_api.post(REFERRAL, {"code": code}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == {"inviter": inviter.display_name, "status": "pending", "replayed": False}
    assert again.json()["replayed"] is True
    assert member_api.get(REFERRAL).json()["referred_by"] == inviter.display_name
    assert Referral.objects.get().invitee_id == member.pk


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "status", "error"), [
    ({"code": "no"}, 400, "referral_code_invalid"),
    ({"code": "ZZZZZZZZ"}, 404, "referral_code_unknown"),
    ({}, 400, "validation_error"),
    ({"code": ["x"]}, 400, "validation_error"),
])
def test_bad_codes_are_refused_with_stable_codes(member_api, member, body, status, error):
    response = member_api.post(REFERRAL, body, format="json")
    assert (response.status_code, response.json()["code"]) == (status, error)


@pytest.mark.django_db
def test_self_referral_is_refused_and_impossible_in_the_database(member_api, member):
    own = member_api.get(REFERRAL).json()["code"]
    response = member_api.post(REFERRAL, {"code": own}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "referral_self")
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.create(inviter=member, invitee=member, code=own)


@pytest.mark.django_db
def test_a_member_is_invited_once(member, joined, make_user):
    other = referrals.code_for(member=services.member_for_user(make_user("olga"))).code
    with pytest.raises(ReferralError) as info:
        referrals.attach_referral(member=member, code=other)
    assert info.value.code == "referral_already_recorded"


@pytest.mark.django_db
def test_an_invite_counts_only_before_the_first_earning(member, code):
    _earn(member)
    with pytest.raises(ReferralError) as info:
        referrals.attach_referral(member=member, code=code)
    assert (info.value.code, info.value.status_code) == ("referral_too_late", 409)


@pytest.mark.django_db
def test_two_members_cannot_invite_each_other(member, inviter, joined):
    with pytest.raises(ReferralError) as info:
        referrals.attach_referral(member=inviter, code=referrals.code_for(member=member).code)
    assert info.value.code == "referral_circular"


@pytest.mark.django_db
def test_a_banned_member_cannot_join_with_a_code(member, code, admin_user):
    moderation.ban_member(member=member, reason="spam", actor=admin_user)
    with pytest.raises(MemberBanned):
        referrals.attach_referral(member=member, code=code)


# --- Crediting ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_earning_action_credits_both_sides_once(member, inviter, joined, run_on_commit):
    run_on_commit(_earn, member)
    run_on_commit(_earn, member)
    referral = Referral.objects.get()
    assert referral.status == "credited" and referral.trigger_entry.reason == "test_earn"
    assert [e.points for e in _credits(inviter)] == [50] and [e.points for e in _credits(member)] == [25]
    assert (referral.inviter_entry.member_id, referral.invitee_entry.member_id) == (inviter.pk, member.pk)
    assert _credits(inviter).get().idempotency_key == f"referral:{referral.pk}:inviter"
    assert Member.objects.get(pk=member.pk).points == 5 + 5 + 25
    assert Member.objects.get(pk=inviter.pk).points == 50
    assert referrals.invitation_counts(member=inviter) == {"invited": 1, "credited": 1}


@pytest.mark.django_db
def test_the_credit_goes_through_the_outbox_in_the_first_actions_transaction(member, joined):
    _earn(member)  # on_commit never runs here: the credit is only recorded
    task = OutboxTask.objects.get(task="engagement.tasks.credit_referral")
    assert task.kwargs == {"referral_id": joined.pk} and task.done_at is None
    assert Referral.objects.get().status == "qualified" and not _credits().exists()


@pytest.mark.django_db
def test_spends_refunds_adjustments_and_points_only_awards_are_not_earning(member, joined, admin_user,
                                                                           run_on_commit):
    run_on_commit(services.award, member=member, reason="test_fund", points=100, xp=0)
    run_on_commit(services.adjust, member=member, delta=10, actor=admin_user)
    run_on_commit(services.spend, member=member, points=20)
    run_on_commit(services.refund, member=member, points=20)
    assert Referral.objects.get().status == "pending" and not _credits().exists()


@pytest.mark.django_db
def test_members_without_a_referral_pay_nothing_after_their_first_earning(member, django_assert_num_queries):
    _earn(member)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        _earn(member)
    assert not [q for q in queries.captured_queries if "engagement_referral" in q["sql"]]


@pytest.mark.django_db
@override_settings(ENGAGEMENT_REFERRAL_INVITER_POINTS=7, ENGAGEMENT_REFERRAL_INVITEE_POINTS=0)
def test_points_are_configurable_and_zero_turns_a_side_off(member, inviter, joined, run_on_commit):
    run_on_commit(_earn, member)
    assert [e.points for e in _credits(inviter)] == [7] and not _credits(member).exists()
    assert Referral.objects.get().invitee_entry is None


@pytest.mark.django_db
def test_a_banned_inviter_means_no_credit_for_anyone(member, inviter, joined, admin_user, run_on_commit):
    moderation.ban_member(member=inviter, reason="fraud", actor=admin_user)
    run_on_commit(_earn, member)
    referral = Referral.objects.get()
    assert (referral.status, referral.refusal) == ("refused", "inviter_banned")
    assert not _credits().exists()
    moderation.unban_member(member=inviter, actor=admin_user)
    run_on_commit(_earn, member)  # refused is final, and this is no longer a first action anyway
    assert not _credits().exists()


@pytest.mark.django_db
def test_an_invitee_banned_before_the_credit_runs_gets_nothing_either(member, joined, admin_user):
    _earn(member)  # qualified, credit not run yet
    moderation.ban_member(member=member, reason="multi-accounting", actor=admin_user)
    referrals.credit_referral(referral_id=joined.pk)
    assert Referral.objects.get().refusal == "invitee_banned" and not _credits().exists()


@pytest.mark.django_db
def test_running_the_credit_twice_credits_once(member, joined):
    _earn(member)
    assert referrals.credit_referral(referral_id=joined.pk).status == "credited"
    assert referrals.credit_referral(referral_id=joined.pk) is None
    assert _credits().count() == 2


@pytest.mark.django_db
def test_an_earning_rule_for_referral_caps_the_credit(member, inviter, joined, run_on_commit):
    from engagement.models import EarningRule

    EarningRule.objects.create(reason=referrals.REASON, points=1, xp=0, lifetime_cap=0)
    run_on_commit(_earn, member)
    assert Referral.objects.get().status == "credited" and not _credits().exists()


# --- The invite link ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_link_waits_in_the_session_until_login(client, member, user, code):
    response = client.get(f"/join/{code}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.post("/accounts/login/", {"username": user.username, "password": "pw-for-tests"})
    assert Referral.objects.get().invitee_id == member.pk
    assert "referral_code" not in client.session


@pytest.mark.django_db
def test_a_logged_in_member_following_a_link_joins_at_once(client, member, user, code):
    client.force_login(user)
    response = client.get(f"/join/{code}/", follow=True)
    assert response.redirect_chain[-1][0] == "/me/"
    assert Referral.objects.filter(invitee=member).exists()
    assert "friend who invited you" in response.content.decode()


@pytest.mark.django_db
def test_following_ones_own_link_says_so_and_records_nothing(client, member, user):
    client.force_login(user)
    own = referrals.code_for(member=member).code
    response = client.get(f"/join/{own}/", follow=True)
    assert "your own invite link" in response.content.decode() and not Referral.objects.exists()


@pytest.mark.django_db
def test_a_garbage_link_records_nothing_and_never_fails(client, user):
    client.force_login(user)
    assert client.get("/join/%00%27--/", follow=True).status_code in (200, 400, 404)
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_the_fan_zone_shows_the_invite_link_with_a_copy_button(client, member, user):
    client.force_login(user)
    html = client.get("/me/").content.decode()
    assert referrals.invite_link(referrals.code_for(member=member).code) in html
    assert 'id="copy-invite"' in html and "onclick" not in html


@pytest.mark.django_db
def test_the_admin_lists_referrals_read_only(admin_user, joined):
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/engagement/referral/", {"status__exact": "pending"})
    assert page.status_code == 200 and list(page.context["cl"].queryset) == [joined]
    assert client.get("/admin/engagement/referral/add/").status_code == 403


# --- Races (PostgreSQL, real threads, committed transactions) -----------------------------------------

THREADS = 8


def _earn_racing(member_id):
    return run_concurrently(lambda i: _earn(Member.objects.get(pk=member_id)), threads=THREADS)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_first_actions_credit_once(member, joined, inviter):
    results, errors = _earn_racing(member.pk)
    assert errors == [] and len(results) == THREADS
    assert [e.points for e in _credits(inviter)] == [50] and [e.points for e in _credits(member)] == [25]
    assert Referral.objects.get().status == "credited"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_negative_control_racing_first_actions_without_the_guards_credit_many_times(member, joined, inviter,
                                                                                   monkeypatch):
    # Without the member lock every racing action reads XP 0 and believes it is the first; without the
    # conditional claims and the idempotency keys nothing stops each of them from paying.
    from tests.engagement.test_concurrency import _unlocked_read_then_wait

    monkeypatch.setattr(services, "lock_member", _unlocked_read_then_wait(threading.Barrier(THREADS)))
    monkeypatch.setattr(referrals, "_claim_pending", lambda *, member_id, entry: Referral.objects.filter(
        invitee_id=member_id).update(status="qualified", trigger_entry=entry))
    monkeypatch.setattr(referrals, "_claim_qualified", lambda *, referral_id, at: True)
    monkeypatch.setattr(referrals, "_credit_key", lambda referral_id, role: None)
    results, errors = _earn_racing(member.pk)
    assert errors == []
    assert _credits(inviter).count() > 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_credit_runs_of_one_referral_pay_once(member, joined):
    services.award(member=member, reason="test_fund", points=1, xp=0)
    Referral.objects.filter(pk=joined.pk).update(status="qualified")
    results, errors = run_concurrently(lambda i: referrals.credit_referral(referral_id=joined.pk), threads=THREADS)
    assert errors == [] and sum(r is not None for r in results) == 1
    assert _credits().count() == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_negative_control_credit_runs_without_lock_claim_and_keys_pay_many_times(member, joined, monkeypatch):
    Referral.objects.filter(pk=joined.pk).update(status="qualified")
    barrier = threading.Barrier(THREADS)

    def claim_then_wait(*, referral_id, at):
        barrier.wait(timeout=30)  # everyone has "claimed" before anyone pays
        return True

    monkeypatch.setattr(services, "lock_member", lambda member_id: Member.objects.get(pk=member_id))
    monkeypatch.setattr(referrals, "_claim_qualified", claim_then_wait)
    monkeypatch.setattr(referrals, "_credit_key", lambda referral_id, role: None)
    results, errors = run_concurrently(lambda i: referrals.credit_referral(referral_id=joined.pk), threads=THREADS)
    assert errors == []
    assert _credits().count() == 2 * THREADS
