import pytest
from django.core.management import call_command

from points_bridge.models import AwardRule, ClaimTemplate

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_templates_and_the_attendance_rule_and_is_idempotent(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    templates = ClaimTemplate.objects.select_related("activity")
    assert templates.count() == 4
    assert {t.activity.external_id for t in templates} == {101, 102, 103}
    assert ClaimTemplate.objects.filter(points_mode="manual").count() == 1
    rule = AwardRule.objects.get()
    assert rule.checkin_list.name == "Main entrance" and rule.points is None


def test_claim_sheet_command_writes_every_enabled_template(tmp_path):
    call_command("seed_demo")
    ClaimTemplate.objects.filter(name="Workshop helper").update(enabled=False)
    out = tmp_path / "sheet.html"
    call_command("claim_sheet", str(out))
    html = out.read_text()
    assert html.count("<svg") == 3 and "Keynote attendance" in html and "Workshop helper" not in html
