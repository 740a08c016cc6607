"""Demo data of the bridge (run by ``manage.py seed_demo`` after engagement, rewards and checkin;
idempotent): claim templates on the demo activities and an attendance rule for the demo check-in list."""

from engagement.models import Activity
from points_bridge.models import AwardRule, ClaimTemplate

TEMPLATES = [
    # name, activity slug, points, mode, limit, limit mode, description
    ("Keynote attendance", "keynote", 20, "automatic", 1, "per_member", "You were at the opening keynote"),
    ("Sponsor booth quiz", "booths", 15, "automatic", 1, "per_member", "Answered the booth quiz"),
    ("First 10 at the workshop", "workshops", 30, "automatic", 10, "overall", "Early bird at the workshop"),
    ("Workshop helper", "workshops", 50, "manual", None, "per_member", "Staff award for helping out"),
]


def seed() -> dict:
    activities = Activity.objects.in_bulk([t[1] for t in TEMPLATES], field_name="slug")
    templates = []
    for name, slug, points, mode, limit, limit_mode, description in TEMPLATES:
        template, _ = ClaimTemplate.objects.get_or_create(name=name, defaults={
            "activity": activities.get(slug), "points": points, "points_mode": mode, "claim_limit": limit,
            "limit_mode": limit_mode, "description": description,
        })
        templates.append(template)
    rule = _attendance_rule()
    return {"claim_templates": templates, "award_rule": rule}


def _attendance_rule() -> AwardRule | None:
    from checkin.models import CheckinList

    clist = CheckinList.objects.filter(event__organizer__slug="demo", name="Main entrance").first()
    if clist is None:
        return None
    keynote = Activity.objects.filter(slug="keynote").first()
    rule, _ = AwardRule.objects.get_or_create(name="Demo attendance", checkin_list=clist,
                                              defaults={"activity": keynote})
    return rule
