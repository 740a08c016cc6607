import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from engagement.models import LedgerEntry, Member
from rewards import services
from rewards.models import Redemption, Reward

pytestmark = pytest.mark.django_db
QUEUE = "/admin/rewards/redemption/"


@pytest.fixture
def admin_client_(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def three(rich_member, make_reward):
    reward = make_reward("merch_coupon", stock=10)
    return [services.redeem(member=rich_member, reward_id=reward.pk) for _ in range(3)]


def _act(client, action, redemptions):
    return client.post(QUEUE, {"action": action, "_selected_action": [r.pk for r in redemptions]}, follow=True)


def test_queue_lists_filters_and_searches(admin_client_, three, make_user, fund, tshirt):
    other = fund(Member.objects.get(user=make_user("bob")), 500)
    services.redeem(member=other, reward_id=tshirt.pk)
    page = admin_client_.get(QUEUE, {"status__exact": "pending", "reward_type__exact": "merch_physical"})
    assert page.status_code == 200 and page.context["cl"].result_count == 1
    assert admin_client_.get(QUEUE, {"q": "bob"}).context["cl"].result_count == 1
    year = three[0].created.year
    assert admin_client_.get(QUEUE, {"created__year": year}).context["cl"].result_count == 4


def test_bulk_approve_reports_changed_and_unchanged(admin_client_, admin_user, three):
    services.reject(redemption_id=three[0].pk, actor=admin_user)
    response = _act(admin_client_, "approve_selected", three)
    text = [str(m) for m in response.context["messages"]]
    assert text == ["Approved 2 redemption(s). Left 1 unchanged: 1 already rejected."]
    assert list(Redemption.objects.order_by("pk").values_list("status", "decided_by")) == [
        ("rejected", admin_user.pk), ("approved", admin_user.pk), ("approved", admin_user.pk)]


def test_bulk_reject_refunds_each_once(admin_client_, three, rich_member):
    response = _act(admin_client_, "reject_selected", three)
    assert [str(m) for m in response.context["messages"]] == ["Rejected 3 redemption(s)."]
    _act(admin_client_, "reject_selected", three)
    assert LedgerEntry.objects.filter(reason="redeem_refund").count() == 3
    assert Member.objects.get(pk=rich_member.pk).points == 1000


def test_bulk_fulfil_only_moves_approved(admin_client_, admin_user, three):
    services.approve(redemption_id=three[0].pk, actor=admin_user)
    response = _act(admin_client_, "fulfil_selected", three)
    assert [str(m) for m in response.context["messages"]] == [
        "Fulfilled 1 redemption(s). Left 2 unchanged: 2 already pending."]
    assert Redemption.objects.get(pk=three[0].pk).fulfilled_by == admin_user


def test_change_page_shows_the_audit_and_decides_with_a_note(admin_client_, admin_user, three):
    url = reverse("admin:rewards_redemption_change", args=[three[0].pk])
    page = admin_client_.get(url)
    assert page.status_code == 200 and b"_decide_approve" in page.content and b"_decide_fulfil" not in page.content
    admin_client_.post(url, {"note": "Out of stock at the printer", "_decide_reject": "Reject"})
    rejected = Redemption.objects.get(pk=three[0].pk)
    assert (rejected.status, rejected.note, rejected.decided_by) == ("rejected", "Out of stock at the printer",
                                                                      admin_user)
    page = admin_client_.get(url)
    assert admin_user.username.encode() in page.content and b"_decide_" not in page.content


def test_saving_a_note_never_rolls_back_a_decision_made_meanwhile(admin_client_, admin_user, three):
    url = reverse("admin:rewards_redemption_change", args=[three[0].pk])
    admin_client_.get(url)  # the form is loaded while the redemption is pending...
    services.approve(redemption_id=three[0].pk, actor=admin_user)  # ...another admin approves it...
    admin_client_.post(url, {"note": "called the member"})  # ...and the first one saves a note
    redemption = Redemption.objects.get(pk=three[0].pk)
    assert (redemption.status, redemption.note) == ("approved", "called the member")


def test_a_refused_decision_button_shows_why(admin_client_, admin_user, three):
    url = reverse("admin:rewards_redemption_change", args=[three[0].pk])
    services.approve(redemption_id=three[0].pk, actor=admin_user)
    response = admin_client_.post(url, {"note": "", "_decide_reject": "Reject"}, follow=True)
    assert any("cannot be rejected" in str(m) for m in response.context["messages"])
    assert Redemption.objects.get(pk=three[0].pk).status == "approved"


def test_queue_is_read_only_without_change_permission(make_user, three):
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_redemption"))
    client = Client()
    client.force_login(viewer)
    page = client.get(QUEUE, follow=True)  # the queue opens on Pending
    assert page.status_code == 200 and "approve_selected" not in page.context["cl"].model_admin.get_actions(
        page.wsgi_request)
    client.post(QUEUE, {"action": "approve_selected", "_selected_action": [three[0].pk]})
    assert Redemption.objects.get(pk=three[0].pk).status == "pending"


def test_reward_presets_prefill_the_add_form(admin_client_):
    page = admin_client_.get("/admin/rewards/reward/add/?preset=merch_coupon")
    assert page.context["adminform"].form.initial["metadata"] == {"coupon_code": "CLUB10", "expires_at": "2027-12-31",
                                                                   "discount": "10 %"}
    assert b"?preset=avatar_static" in admin_client_.get("/admin/rewards/reward/").content


def test_reward_form_validates_metadata(admin_client_):
    response = admin_client_.post("/admin/rewards/reward/add/", {
        "name": "Mug", "type": "merch_physical", "cost_points": "10", "cost_type": "points",
        "metadata": '{"sku": "MUG", "colour_": "red"}', "description": "", "image_url": "", "stock": ""})
    assert response.status_code == 200 and b"Unknown key" in response.content
    assert not Reward.objects.exists()


def test_list_editable_saves_only_what_changed(admin_client_, tshirt):
    page = admin_client_.get("/admin/rewards/reward/")
    Reward.objects.filter(pk=tshirt.pk).update(stock=2)  # three units sold after the page was loaded
    data = {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-0-id": str(tshirt.pk),
            "form-0-stock": "5", "initial-form-0-stock": "5", "_save": "Save"}  # stock as loaded; "active" unticked
    assert page.status_code == 200
    admin_client_.post("/admin/rewards/reward/", data)
    tshirt.refresh_from_db()
    assert (tshirt.stock, tshirt.active) == (2, False)
    data.update({"form-0-stock": "9", "initial-form-0-stock": "2"})  # a real edit is written as typed
    admin_client_.post("/admin/rewards/reward/", data)
    assert Reward.objects.get(pk=tshirt.pk).stock == 9


def test_batch_page_creates_numbered_rewards(admin_client_):
    response = admin_client_.post("/admin/rewards/reward/batch/", {
        "type": "avatar_static", "name_template": "Bot {i}", "url_template": "https://robohash.org/{i}.png",
        "count": "4", "start": "10", "cost_points": "25", "stock": "", "active": "on"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Created 4 reward(s)."]
    assert list(Reward.objects.order_by("pk").values_list("name", flat=True)) == [f"Bot {i}" for i in range(10, 14)]
    assert Reward.objects.get(name="Bot 13").metadata == {"avatar_url": "https://robohash.org/13.png"}


@pytest.mark.parametrize(("change", "error"), [
    ({"url_template": "https://robohash.org/x.png"}, b"{i} placeholder"),
    ({"url_template": "https://evil.example/{i}.png"}, b"must be on one of"),
    ({"count": "0"}, b"greater than or equal to 1"),
])
def test_batch_page_refuses_bad_input(admin_client_, change, error):
    data = {"type": "avatar_static", "name_template": "Bot {i}", "url_template": "https://robohash.org/{i}.png",
            "count": "2", "start": "1", "cost_points": "25", **change}
    response = admin_client_.post("/admin/rewards/reward/batch/", data)
    assert response.status_code == 200 and error in response.content and not Reward.objects.exists()


def test_batch_page_needs_add_permission(make_user):
    clerk = make_user("clerk", is_staff=True)
    client = Client()
    client.force_login(clerk)
    response = client.post("/admin/rewards/reward/batch/", {"count": "3"})
    assert response.status_code == 302 and not Reward.objects.exists()


# --- The admin audit trail (LogEntry: Recent actions, History) -----------------------------------------


def _log(model=Redemption):
    """(object id, flag, message, user id) of the model's LogEntries, oldest first."""
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model)).order_by("pk")
    return [(int(e.object_id), e.action_flag, e.change_message, e.user_id) for e in entries]


def test_bulk_approve_logs_each_redemption_it_moved(admin_client_, admin_user, three):
    services.approve(redemption_id=three[0].pk, actor=admin_user)  # already approved: skipped, not logged
    _act(admin_client_, "approve_selected", three)
    assert _log() == [(three[1].pk, CHANGE, "Approved", admin_user.pk),
                      (three[2].pk, CHANGE, "Approved", admin_user.pk)]
    assert LogEntry.objects.get(object_id=str(three[1].pk)).object_repr.endswith("(approved)")


def test_bulk_reject_logs_the_refund_once(admin_client_, admin_user, three):
    _act(admin_client_, "reject_selected", three[:2])
    _act(admin_client_, "reject_selected", three[:2])  # lost "race": already rejected, no second entry
    message = "Rejected (refunded 120 points, 1 unit back in stock)"
    assert _log() == [(three[0].pk, CHANGE, message, admin_user.pk), (three[1].pk, CHANGE, message, admin_user.pk)]


def test_bulk_fulfil_logs_only_the_fulfilled(admin_client_, admin_user, three):
    services.approve(redemption_id=three[1].pk, actor=admin_user)
    _act(admin_client_, "fulfil_selected", three)
    assert _log() == [(three[1].pk, CHANGE, "Fulfilled", admin_user.pk)]


def test_decision_button_logs_the_decision_with_its_reason(admin_client_, admin_user, three):
    url = reverse("admin:rewards_redemption_change", args=[three[0].pk])
    admin_client_.post(url, {"note": "Out of stock at the printer", "_decide_reject": "Reject"})
    assert _log() == [(three[0].pk, CHANGE, "Rejected: Out of stock at the printer (refunded 120 points, "
                                            "1 unit back in stock)", admin_user.pk)]
    assert LogEntry.objects.get().object_repr.endswith("(rejected)")  # the row as decided, not the stale form
    url = reverse("admin:rewards_redemption_change", args=[three[1].pk])
    admin_client_.post(url, {"note": "", "_decide_approve": "Approve"})
    admin_client_.post(url, {"note": "Posted on Monday", "_decide_fulfil": "Mark fulfilled"})
    assert [m for _, _, m, _ in _log()[1:]] == ["Approved", "Fulfilled: Posted on Monday"]


def test_refused_decision_button_logs_nothing_and_a_note_still_logs(admin_client_, admin_user, three):
    url = reverse("admin:rewards_redemption_change", args=[three[0].pk])
    services.approve(redemption_id=three[0].pk, actor=admin_user)
    admin_client_.post(url, {"note": "too late", "_decide_reject": "Reject"})
    assert _log() == []
    admin_client_.post(url, {"note": "called the member"})
    assert [flag for _, flag, _, _ in _log()] == [CHANGE]  # a plain save is logged as before


def test_history_page_shows_the_decisions(admin_client_, admin_user, three):
    url = reverse("admin:rewards_redemption_change", args=[three[0].pk])
    admin_client_.post(url, {"note": "Duplicate order", "_decide_reject": "Reject"})
    page = admin_client_.get(f"/admin/rewards/redemption/{three[0].pk}/history/")
    assert page.status_code == 200
    assert b"Rejected: Duplicate order (refunded 120 points, 1 unit back in stock)" in page.content
    assert admin_user.username.encode() in page.content
    recent = admin_client_.get("/admin/").content  # "Recent actions" lists the object, not the message
    assert str(Redemption.objects.get(pk=three[0].pk)).encode() in recent


def test_a_failing_log_entry_rolls_the_decision_back(admin_client_, three, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("log table unavailable")

    monkeypatch.setattr(LogEntry.objects, "log_actions", broken)
    with pytest.raises(RuntimeError):
        _act(admin_client_, "reject_selected", three[:1])
    redemption = Redemption.objects.get(pk=three[0].pk)
    assert (redemption.status, redemption.refund_entry) == ("pending", None)
    assert not LedgerEntry.objects.filter(reason="redeem_refund").exists()


def test_deactivate_logs_only_rewards_it_switched_off(admin_client_, admin_user, make_reward):
    on, off = make_reward("merch_digital"), make_reward("custom", active=False)
    admin_client_.post("/admin/rewards/reward/", {"action": "deactivate_selected",
                                                  "_selected_action": [on.pk, off.pk]})
    assert _log(Reward) == [(on.pk, CHANGE, "Deactivated.", admin_user.pk)]
    assert not Reward.objects.get(pk=on.pk).active


def test_batch_creation_logs_each_reward_added(admin_client_, admin_user):
    admin_client_.post("/admin/rewards/reward/batch/", {
        "type": "avatar_static", "name_template": "Bot {i}", "url_template": "https://robohash.org/{i}.png",
        "count": "3", "start": "1", "cost_points": "25", "stock": "", "active": "on"})
    ids = list(Reward.objects.order_by("pk").values_list("pk", flat=True))
    assert _log(Reward) == [(pk, ADDITION, "Added in a batch.", admin_user.pk) for pk in ids] and len(ids) == 3
