"""QR claim templates: tokens, every refusal code, limits, staff awards and personal member codes."""

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from engagement import services as ledger
from engagement.models import EarningRule, LedgerEntry
from points_bridge import services, tokens
from points_bridge.errors import ClaimError, MemberCodeError
from points_bridge.models import Claim, ClaimTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(activity):
    return ClaimTemplate.objects.create(name="Booth A", activity=activity, points=15, description="Visited booth A")


@pytest.fixture
def other(make_user):
    return ledger.member_for_user(make_user("bob"))


def claim_code(template, **kwargs):
    return services.issue_claim_token(template=template, **kwargs)


def refusal(member, code, **kwargs) -> ClaimError:
    with pytest.raises(ClaimError) as caught:
        services.claim(member=member, code=code, **kwargs)
    return caught.value


def test_a_claim_pays_the_template_through_the_ledger(member, template, activity):
    claim = services.claim(member=member, code=claim_code(template))
    entry = claim.entry
    assert (entry.points, entry.xp, entry.reason, entry.activity) == (15, 15, "claim", activity)
    assert entry.meta["template_id"] == template.pk and entry.meta["description"] == "Visited booth A"
    member.refresh_from_db()
    assert member.points == 15 and claim.via == "self"


def test_a_scanned_url_works_as_well_as_the_bare_token(member, template):
    url = tokens.claim_url(claim_code(template))
    assert url.endswith("/claim/?code=" + claim_code(template).replace(":", "%3A"))
    assert services.claim(member=member, code=url).points == 15


def test_per_member_limit(member, other, template):
    services.claim(member=member, code=claim_code(template))
    assert refusal(member, claim_code(template)).code == "claim_limit_reached"
    assert services.claim(member=other, code=claim_code(template)).points == 15
    assert Claim.objects.count() == 2 and LedgerEntry.objects.count() == 2


def test_overall_limit(member, other, template):
    template.limit_mode, template.claim_limit = ClaimTemplate.LimitMode.OVERALL, 1
    template.save()
    services.claim(member=member, code=claim_code(template))
    assert refusal(other, claim_code(template)).code == "claim_limit_reached"


def test_no_limit_pays_every_time(member, template):
    template.claim_limit = None
    template.save()
    for _ in range(3):
        services.claim(member=member, code=claim_code(template))
    member.refresh_from_db()
    assert member.points == 45


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: t.replace("c.", "c.9", 1),  # payload changed, old signature
        lambda t: "garbage",
        lambda t: "",
        lambda t: signing.Signer(salt="another").sign("c.1.1"),  # signed for something else
        lambda t: "x" * 5000,
    ],
)
def test_forged_or_tampered_codes_are_claim_invalid(member, template, tamper):
    error = refusal(member, tamper(claim_code(template)))
    assert error.code == "claim_invalid" and error.status_code == 400
    assert LedgerEntry.objects.count() == 0


def test_a_member_code_is_not_a_claim_code(member, template):
    assert refusal(member, services.member_token_for(member=member)).code == "claim_invalid"


def test_a_code_for_a_template_that_does_not_exist_is_invalid(member):
    code = tokens.claim_token(template_id=999999, version=1)
    assert refusal(member, code).code == "claim_invalid"


def test_expiring_codes(member, template):
    template.token_lifetime = timedelta(minutes=5)
    template.save()
    issued = timezone.now()
    code = claim_code(template, at=issued)
    assert refusal(member, code, at=issued + timedelta(minutes=5, seconds=1)).code == "claim_expired"
    assert services.claim(member=member, code=code, at=issued + timedelta(minutes=4)).points == 15


def test_rotation_makes_printed_codes_stop_working(member, template):
    printed = claim_code(template)
    assert services.rotate_templates(templates=ClaimTemplate.objects.filter(pk=template.pk)) == 1
    template.refresh_from_db()
    assert template.version == 2
    assert refusal(member, printed).code == "claim_rotated"
    assert services.claim(member=member, code=claim_code(template)).points == 15


def test_disabled_deleted_and_window(member, template):
    code = claim_code(template)
    template.enabled = False
    template.save()
    assert refusal(member, code).code == "claim_disabled"
    template.enabled = True
    now = timezone.now()
    template.valid_from, template.valid_until = now + timedelta(hours=1), now + timedelta(hours=2)
    template.save()
    assert refusal(member, code, at=now).code == "claim_not_started"
    assert refusal(member, code, at=now + timedelta(hours=2)).code == "claim_ended"
    assert services.claim(member=member, code=code, at=now + timedelta(hours=1, minutes=1)).points == 15
    services.soft_delete_templates(templates=ClaimTemplate.objects.filter(pk=template.pk))
    assert refusal(member, code).code == "claim_deleted"
    assert ClaimTemplate.objects.alive().count() == 0 and Claim.objects.count() == 1


def test_manual_templates_need_staff_and_a_typed_amount(member, template, admin_user):
    template.points_mode, template.points, template.claim_limit = ClaimTemplate.PointsMode.MANUAL, 50, None
    template.save()
    assert refusal(member, claim_code(template)).code == "claim_needs_staff"
    for points in (None, 0, 51, True):
        with pytest.raises(ClaimError) as caught:
            services.award_by_template(member=member, template=template, actor=admin_user, points=points)
        assert caught.value.code == "claim_points_invalid"
    claim = services.award_by_template(member=member, template=template, actor=admin_user, points=30)
    assert claim.points == 30 and claim.via == "staff" and claim.entry.actor == admin_user


def test_staff_awards_by_template_respect_its_limit(member, template, admin_user):
    services.award_by_template(member=member, template=template, actor=admin_user)
    with pytest.raises(ClaimError) as caught:
        services.award_by_template(member=member, template=template, actor=admin_user)
    assert caught.value.code == "claim_limit_reached"


def test_earning_rule_caps_apply_to_claims(member, template):
    EarningRule.objects.create(reason="claim", points=1, xp=1, daily_cap=1)
    template.claim_limit = None
    template.save()
    services.claim(member=member, code=claim_code(template))
    assert refusal(member, claim_code(template)).code == "daily_cap_reached"


def test_a_retried_claim_with_the_same_key_returns_the_same_claim(member, template):
    first = services.claim(member=member, code=claim_code(template), idempotency_key="claim:1:k")
    again = services.claim(member=member, code=claim_code(template), idempotency_key="claim:1:k")
    assert again.pk == first.pk and Claim.objects.count() == 1


def test_staff_manual_award_needs_a_reason(member, admin_user):
    with pytest.raises(Exception) as caught:
        services.award_manual(member=member, points=5, description="  ", actor=admin_user)
    assert caught.value.code == "description_required"
    entry = services.award_manual(member=member, points=5, description="Helped at the desk", actor=admin_user)
    assert entry.meta["description"] == "Helped at the desk" and entry.points == 5


# --- personal member codes --------------------------------------------------------------------------


def test_personal_codes_identify_the_member_until_rotated(member, other):
    code = services.member_token_for(member=member)
    assert services.member_for_code(code) == member
    assert services.member_for_code(tokens.member_url(code)) == member
    services.rotate_member_code(member=member)
    with pytest.raises(MemberCodeError) as caught:
        services.member_for_code(code)
    assert caught.value.code == "member_code_rotated"
    assert services.member_for_code(services.member_token_for(member=member)) == member


@pytest.mark.parametrize("text", ["", "m.1.abc", "nonsense:xyz"])
def test_forged_personal_codes_are_refused(member, text):
    with pytest.raises(MemberCodeError) as caught:
        services.member_for_code(text)
    assert caught.value.code == "member_code_invalid"


def test_a_claim_code_is_not_a_member_code(member, template):
    with pytest.raises(MemberCodeError):
        services.member_for_code(claim_code(template))
