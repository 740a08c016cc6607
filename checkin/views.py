"""Server-rendered door pages. They only render the choices; every scan goes through the JSON API
(session auth + CSRF header), so the pages and the scanner apps share one code path."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from checkin import selectors


def _door_config(request) -> dict:
    events = [
        {"org": e.organizer.slug, "slug": e.slug, "name": f"{e.name} ({e.organizer.name})",
         "lists": [{"id": c.id, "name": c.name} for c in e.checkin_lists.all()]}
        for e in selectors.events_for_user(request.user)
    ]
    return {"events": events, "apiBase": "/api/v1/organizers/"}


def _page(request, template: str):
    config = _door_config(request)
    status = 200 if config["events"] else 403
    return render(request, template, {"door_config": config}, status=status)


@login_required
def door(request):
    return _page(request, "checkin/door.html")


@login_required
def door_stats(request):
    return _page(request, "checkin/stats.html")
