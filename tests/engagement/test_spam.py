"""Spam screening of actions with text reported through /engagement/events: duplicates, link floods and
bursts answer ``spam_suspected`` (nothing awarded) and land in the admin review list."""

import pytest
from django.test import Client

from engagement.models import EarningRule, LedgerEntry, SpamReport

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/engagement/events"


@pytest.fixture(autouse=True)
def _uncapped_comments(db):
    EarningRule.objects.filter(reason="comment_create").update(daily_cap=None)


def comment(client, member, text, **extra):
    body = {"user_id": member.user_id, "reason": "comment_create", "meta": {"text": text, **extra.pop("meta", {})},
            **extra}
    return client.post(EVENTS, body, format="json")


def assert_spam(response, rule):
    assert response.status_code == 200, response.json()
    assert response.json()["awarded"] is False
    assert (response.json()["code"], response.json()["rule"]) == ("spam_suspected", rule)


def test_a_duplicate_of_a_recent_text_is_refused_and_kept_for_review(admin_api, admin_user, member):
    assert comment(admin_api, member, "Great match today!").status_code == 201
    assert_spam(comment(admin_api, member, "  great MATCH   today! "), "duplicate")
    assert LedgerEntry.objects.filter(member=member).count() == 1
    report = SpamReport.objects.get()
    assert (report.member, report.rule, report.reason, report.actor) == (member, "duplicate", "comment_create",
                                                                         admin_user)
    assert report.text == "  great MATCH   today! "


def test_the_duplicate_window_is_a_setting(admin_api, member, settings):
    settings.ENGAGEMENT_SPAM_DUPLICATE_WINDOW = 0
    comment(admin_api, member, "Same again")
    assert comment(admin_api, member, "Same again").status_code == 201


def test_another_members_text_is_no_duplicate(admin_api, member, make_user):
    from engagement.services import member_for_user

    other = member_for_user(make_user("bob"))
    comment(admin_api, member, "Come on, you reds!")
    assert comment(admin_api, other, "Come on, you reds!").status_code == 201


def test_a_link_flood_is_refused(admin_api, member, settings):
    text = "see https://a.example www.b.example and http://c.example"
    assert_spam(comment(admin_api, member, text), "links")
    settings.ENGAGEMENT_SPAM_MAX_LINKS = 3
    assert comment(admin_api, member, text).status_code == 201


def test_a_burst_of_texts_is_refused(admin_api, member, settings):
    settings.ENGAGEMENT_SPAM_BURST = 3
    codes = [comment(admin_api, member, f"Comment number {i}").status_code for i in range(3)]
    assert codes == [201, 201, 201]
    assert_spam(comment(admin_api, member, "Comment number 3"), "burst")


def test_actions_without_text_and_replays_are_not_screened(admin_api, member):
    body = {"user_id": member.user_id, "reason": "poll_vote", "meta": {"poll": 7}}
    assert admin_api.post(EVENTS, body, format="json").status_code == 201
    first = comment(admin_api, member, "Once", idempotency_key="c-1")
    again = comment(admin_api, member, "Once", idempotency_key="c-1")
    assert (first.status_code, again.status_code, again.json()["replayed"]) == (201, 200, True)
    assert not SpamReport.objects.exists()


def test_the_admin_review_list_marks_reports_reviewed(admin_api, admin_user, member):
    comment(admin_api, member, "Buy now")
    comment(admin_api, member, "Buy now")
    client = Client()
    client.force_login(admin_user)
    unreviewed = client.get("/admin/engagement/spamreport/", {"reviewed_at__isempty": "1"})
    assert unreviewed.status_code == 200 and unreviewed.context["cl"].result_count == 1
    report = SpamReport.objects.get()
    response = client.post("/admin/engagement/spamreport/", {"action": "mark_reviewed",
                                                             "_selected_action": [report.pk]}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Marked 1 report(s) reviewed."]
    report.refresh_from_db()
    assert report.reviewed_by == admin_user
