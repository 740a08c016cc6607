import pytest
from django.test import override_settings

from rewards import services
from rewards.emails import admin_recipients

pytestmark = pytest.mark.django_db


@override_settings(SITE_URL="https://club.example", ADMINS_NOTIFY_EMAILS=["shop@club.example"])
def test_a_pending_redemption_emails_the_member_and_the_admins(
        rich_member, tshirt, admin_user, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        redemption = services.redeem(member=rich_member, reward_id=tshirt.pk)
    member_mail, admin_mail = mailoutbox
    assert member_mail.to == ["alice@example.org"]
    assert member_mail.subject == "We received your order: Club T-shirt"
    assert "https://club.example/me/" in member_mail.body
    html, mimetype = member_mail.alternatives[0]
    assert mimetype == "text/html" and "<strong>Club T-shirt</strong>" in html
    assert admin_mail.to == ["shop@club.example", admin_user.email]
    assert f"https://club.example/admin/rewards/redemption/{redemption.pk}/change/" in admin_mail.body
    assert "https://club.example/admin/rewards/redemption/?status__exact=pending" in admin_mail.body


def test_an_avatar_emails_only_the_member(rich_member, make_reward, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        services.redeem(member=rich_member, reward_id=make_reward("avatar_static").pk)
    assert [m.subject for m in mailoutbox] == ["Enjoy your reward: Robot avatar"]


def test_no_email_leaves_before_commit(rich_member, tshirt, admin_user, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.redeem(member=rich_member, reward_id=tshirt.pk)
    assert mailoutbox == [] and callbacks
    for callback in callbacks:
        callback()
    assert len(mailoutbox) == 2


def test_a_refused_redemption_sends_nothing(member, tshirt, django_capture_on_commit_callbacks, mailoutbox):
    from engagement.errors import InsufficientPoints

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InsufficientPoints):
        services.redeem(member=member, reward_id=tshirt.pk)
    assert mailoutbox == []


def test_approval_sends_the_coupon_code(rich_member, make_reward, admin_user, django_capture_on_commit_callbacks,
                                        mailoutbox):
    redemption = services.redeem(member=rich_member, reward_id=make_reward("merch_coupon").pk)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(redemption_id=redemption.pk, actor=admin_user, note="Enjoy & thanks")
    (mail,) = mailoutbox
    assert mail.subject == "Approved: 10 % off in the club shop"
    assert "Your coupon code: CLUB10 (valid until 2027-12-31)" in mail.body
    assert "Enjoy & thanks" in mail.body and "Enjoy &amp; thanks" in mail.alternatives[0][0]


def test_pending_emails_never_contain_the_coupon_code(rich_member, make_reward, django_capture_on_commit_callbacks,
                                                      mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        services.redeem(member=rich_member, reward_id=make_reward("merch_coupon").pk)
    assert mailoutbox and all("CLUB10" not in m.body + m.alternatives[0][0] for m in mailoutbox)


def test_rejection_and_fulfilment_email_the_member(rich_member, tshirt, make_reward, admin_user,
                                                   django_capture_on_commit_callbacks, mailoutbox):
    rejected = services.redeem(member=rich_member, reward_id=tshirt.pk)
    shipped = services.redeem(member=rich_member, reward_id=tshirt.pk)
    services.approve(redemption_id=shipped.pk, actor=admin_user)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.reject(redemption_id=rejected.pk, actor=admin_user, note="Out of size M")
        services.fulfil(redemption_id=shipped.pk, actor=admin_user)
    assert [m.subject for m in mailoutbox] == ["Not approved: Club T-shirt (points refunded)",
                                               "On its way: Club T-shirt"]
    assert "The 60 points are back" in mailoutbox[0].body and "Reason: Out of size M" in mailoutbox[0].body
    assert "on its way to you" in mailoutbox[1].body


def test_members_without_email_are_skipped(rich_member, tshirt, django_capture_on_commit_callbacks, mailoutbox):
    type(rich_member.user).objects.filter(pk=rich_member.user_id).update(email="")
    with django_capture_on_commit_callbacks(execute=True):
        services.redeem(member=rich_member, reward_id=tshirt.pk)
    assert all("alice" not in ",".join(m.to) for m in mailoutbox)


@override_settings(ADMINS_NOTIFY_EMAILS=["Ops@Club.example", "ops@club.example"])
def test_admin_recipients_are_deduplicated_and_skip_inactive_superusers(make_user):
    make_user("boss", is_superuser=True)
    make_user("gone", is_superuser=True, is_active=False)
    make_user("plain")
    assert admin_recipients() == ["ops@club.example", "boss@example.org"]
