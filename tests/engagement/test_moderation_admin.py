"""The admin side of moderation: adding a ban bans, the lift action unbans, the unban queue decides."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone

from engagement import moderation
from engagement.models import Ban, UnbanRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_adding_a_ban_in_the_admin_bans_the_member(admin_client_, member, mailoutbox,
                                                  django_capture_on_commit_callbacks):
    until = (timezone.localtime() + timedelta(days=2)).replace(microsecond=0, second=0)
    form = {"member": member.pk, "reason": "Abuse", "until_0": until.strftime("%Y-%m-%d"),
            "until_1": until.strftime("%H:%M:%S")}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post("/admin/engagement/ban/add/", form)
    assert response.status_code == 302, response.content
    member.refresh_from_db()
    assert member.banned and member.banned_until == until
    assert LogEntry.objects.filter(object_id=str(member.pk), change_message__startswith="Banned").count() == 1
    assert len(mailoutbox) == 1


def test_a_ban_in_the_past_is_refused_by_the_form(admin_client_, member):
    response = admin_client_.post("/admin/engagement/ban/add/", {"member": member.pk, "reason": "Abuse",
                                                                  "until_0": "2001-01-01", "until_1": "10:00:00"})
    assert response.status_code == 200 and "must end in the future" in response.content.decode()
    assert not Ban.objects.exists()


def test_the_lift_action_unbans(admin_client_, admin_user, member):
    ban = moderation.ban_member(member=member, reason="Abuse", actor=admin_user)
    response = admin_client_.post("/admin/engagement/ban/", {"action": "lift_selected", "_selected_action": [ban.pk]},
                                  follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Lifted 1 ban(s)."]
    member.refresh_from_db()
    assert not member.banned


def test_the_unban_queue_approves_and_reports_what_was_already_decided(admin_client_, admin_user, member,
                                                                     make_user):
    moderation.ban_member(member=member, reason="Abuse", actor=admin_user)
    first = moderation.request_unban(member=member, message="Sorry")
    moderation.reject_unban_request(request_id=first.pk, actor=admin_user)
    second = moderation.request_unban(member=member, message="Sorry again")
    page = admin_client_.get("/admin/engagement/unbanrequest/", {"status__exact": "pending"})
    assert page.context["cl"].result_count == 1
    response = admin_client_.post("/admin/engagement/unbanrequest/", {
        "action": "approve_selected", "_selected_action": [first.pk, second.pk]}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Approved 1 unban request(s). Left 1 unchanged (already decided)."]
    member.refresh_from_db()
    assert not member.banned
    assert UnbanRequest.objects.get(pk=second.pk).decided_by == admin_user
