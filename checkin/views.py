"""Server-rendered door pages. They only render the choices; every scan goes through the JSON API
(session auth + CSRF header), so the pages and the scanner apps share one code path."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from checkin import selectors
from checkin.models import CheckinList


def _door_config(request) -> dict:
    events = [
        {"org": e.organizer.slug, "slug": e.slug, "name": f"{e.name} ({e.organizer.name})",
         "lists": [{"id": c.id, "name": c.name} for c in e.checkin_lists.all()]}
        for e in selectors.events_for_user(request.user)
    ]
    return {"events": events, "apiBase": "/api/v1/organizers/", "arrivalsBase": "/door/stats/arrivals/"}


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


@require_GET
@login_required
def door_arrivals(request, list_id: int):
    """The chart's data: entries per 10 minutes on one list the user may scan on."""
    events = selectors.events_for_user(request.user)
    clist = CheckinList.objects.filter(pk=list_id, event__in=events).first()
    if clist is None:
        return JsonResponse({"code": "not_found", "detail": "Unknown check-in list."}, status=404)
    return JsonResponse({"minutes": 10, "slots": selectors.arrivals_per_slot(clist=clist, at=timezone.now())})
