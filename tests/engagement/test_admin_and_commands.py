import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.urls import reverse

from engagement import services
from engagement.models import LedgerEntry, Member

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client, admin_user):
    client.force_login(admin_user)
    return client


def test_admin_adjust_page_writes_through_the_service(admin_client_logged_in, member, admin_user):
    url = reverse("admin:engagement_member_adjust", args=[member.pk])
    assert admin_client_logged_in.get(url).status_code == 200
    response = admin_client_logged_in.post(url, {"delta": 15, "note": "quiz winner"})
    assert response.status_code == 302
    entry = LedgerEntry.objects.get()
    assert (entry.points, entry.xp, entry.reason, entry.actor) == (15, 0, "admin_adjust", admin_user)
    assert entry.meta == {"note": "quiz winner", "via": "admin"}


def test_admin_adjust_page_shows_the_refusal_and_writes_nothing(admin_client_logged_in, member):
    url = reverse("admin:engagement_member_adjust", args=[member.pk])
    response = admin_client_logged_in.post(url, {"delta": -15, "note": "oops"})
    assert response.status_code == 200
    assert b"Not enough points" in response.content
    assert LedgerEntry.objects.count() == 0


def _member_log():
    """(object id, flag, message, user id) of the members' LogEntries, oldest first."""
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Member)).order_by("pk")
    return [(int(e.object_id), e.action_flag, e.change_message, e.user_id) for e in entries]


def test_admin_adjust_logs_a_change_on_the_member(admin_client_logged_in, member, admin_user):
    url = reverse("admin:engagement_member_adjust", args=[member.pk])
    admin_client_logged_in.post(url, {"delta": 50, "note": "quiz winner"})
    admin_client_logged_in.post(url, {"delta": -20, "note": "double award"})
    added, removed = LedgerEntry.objects.order_by("pk")
    assert _member_log() == [
        (member.pk, CHANGE, f"Adjusted points by +50: quiz winner (ledger entry #{added.pk})", admin_user.pk),
        (member.pk, CHANGE, f"Adjusted points by -20: double award (ledger entry #{removed.pk})", admin_user.pk),
    ]
    history = admin_client_logged_in.get(reverse("admin:engagement_member_history", args=[member.pk]))
    assert f"Adjusted points by -20: double award (ledger entry #{removed.pk})".encode() in history.content


def test_a_refused_adjustment_logs_nothing(admin_client_logged_in, member):
    url = reverse("admin:engagement_member_adjust", args=[member.pk])
    admin_client_logged_in.post(url, {"delta": -15, "note": "oops"})  # not enough points
    admin_client_logged_in.post(url, {"delta": 0, "note": "nothing"})  # invalid_amount
    assert _member_log() == [] and LedgerEntry.objects.count() == 0


def test_a_failing_log_entry_rolls_the_adjustment_back(admin_client_logged_in, member, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("log table unavailable")

    monkeypatch.setattr(LogEntry.objects, "log_actions", broken)
    with pytest.raises(RuntimeError):
        admin_client_logged_in.post(reverse("admin:engagement_member_adjust", args=[member.pk]),
                                    {"delta": 15, "note": "quiz winner"})
    member.refresh_from_db()
    assert (member.points, LedgerEntry.objects.count()) == (0, 0)


def test_member_change_page_links_to_the_adjust_page(admin_client_logged_in, member):
    response = admin_client_logged_in.get(reverse("admin:engagement_member_change", args=[member.pk]))
    assert reverse("admin:engagement_member_adjust", args=[member.pk]).encode() in response.content


def test_hiding_a_member_in_the_admin_goes_through_the_leaderboard_service(admin_client_logged_in, member,
                                                                           monkeypatch):
    import engagement.admin

    calls = []
    monkeypatch.setattr(engagement.admin, "set_visibility", lambda **kw: calls.append(kw))
    url = reverse("admin:engagement_member_change", args=[member.pk])
    form = {"user": member.user_id, "username": "", "avatar_url": "", "animated_avatar_url": "",
            "external_id": "", "show_on_leaderboard": ""}
    response = admin_client_logged_in.post(url, form)
    assert response.status_code == 302
    assert calls == [{"member": member, "visible": False}]


def test_ledger_is_read_only_in_the_admin(admin_client_logged_in, member):
    entry = services.award(member=member, reason="manual", points=3)
    assert admin_client_logged_in.get(reverse("admin:engagement_ledgerentry_changelist")).status_code == 200
    assert admin_client_logged_in.get(reverse("admin:engagement_ledgerentry_add")).status_code == 403
    delete = admin_client_logged_in.post(reverse("admin:engagement_ledgerentry_delete", args=[entry.pk]),
                                         {"post": "yes"})
    assert delete.status_code == 403
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_award_command_awards_and_reports(member, capsys):
    call_command("award", member.user.username, "20", "--xp", "5", "--reason", "quiz")
    assert "Awarded 20 points and 5 XP to alice" in capsys.readouterr().out
    member.refresh_from_db()
    assert (member.points, member.xp) == (20, 5)


def test_award_command_with_a_key_is_safe_to_rerun(member):
    for _ in range(2):
        call_command("award", member.user.username, "20", "--idempotency-key", "prize-1")
    member.refresh_from_db()
    assert member.points == 20


@pytest.mark.parametrize(("args", "message"), [
    (["ghost", "5"], "No user called 'ghost'"),
    (["alice", "5", "--activity", "nope"], "No activity with slug 'nope'"),
    (["alice", "-5"], "invalid_amount"),
])
def test_award_command_refuses_bad_input(member, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("award", *args)


def test_seed_demo_is_idempotent_and_creates_the_demo_logins(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    from django.contrib.auth import authenticate

    for username in ("admin", "staff", "alice", "bob"):
        assert authenticate(username=username, password="demo") is not None
    assert authenticate(username="admin", password="demo").is_superuser
    assert LedgerEntry.objects.filter(idempotency_key="demo:welcome:alice").count() == 1
    call_command("verify_ledger", "--no-progress")


def test_saving_a_member_in_the_admin_keeps_an_award_that_landed_meanwhile(admin_client_logged_in, member,
                                                                          monkeypatch):
    # The admin reads the member, then an award commits, then the admin saves: only the handle it changed
    # is written, never the balance it read before the award.
    from engagement.admin import MemberAdmin

    original = MemberAdmin.save_form

    def award_in_between(self, request, form, change):
        services.award(member=Member.objects.get(pk=member.pk), reason="manual", points=7)
        return original(self, request, form, change)

    monkeypatch.setattr(MemberAdmin, "save_form", award_in_between)
    url = reverse("admin:engagement_member_change", args=[member.pk])
    form = {"user": member.user_id, "username": "renamed", "avatar_url": "", "animated_avatar_url": "",
            "external_id": "", "show_on_leaderboard": "on"}
    response = admin_client_logged_in.post(url, form)
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.username, member.points) == ("renamed", 7)
