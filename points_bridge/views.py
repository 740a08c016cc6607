"""Server-rendered pages: the participant claim scanner, staff attribution, the public leaderboard,
"my points", and QR images / the printable sheet of claim templates. The pages talk to the JSON API
(/api/v1/points/...) with fetch; nothing here writes except rotating one's own personal code."""

import re
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from config.errors import DomainError
from engagement import leaderboards
from engagement.models import Activity, Season
from engagement.services import member_for_user
from points_bridge import history as history_words
from points_bridge import qr, selectors, services, tokens
from points_bridge.models import ClaimTemplate

BOARD_DEFAULTS = {"limit": 10, "refresh": 30}
ASCII_DIGITS = re.compile(r"[0-9]{1,30}")
MAX_ID = 2**63 - 1  # primary keys are bigint
HISTORY_ROWS = 50


def staff_required(perm: str):
    """Anonymous → the login page; logged in without ``perm`` → 403."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


@login_required
def claim_page(request):
    return render(request, "points_bridge/claim.html", {"code": request.GET.get("code", "")[:500]})


@staff_required("engagement.award_points")
def staff_attribution(request):
    context = {
        "templates": selectors.usable_templates(),
        "activities": Activity.objects.filter(active=True),
        "member_code": request.GET.get("member", "")[:500],
    }
    return render(request, "points_bridge/staff_attribution.html", context)


class BadQuery(DomainError):
    """A malformed query parameter on a page: answered as JSON 400 by config/middleware.py."""

    default_code = "invalid_query"


def _digits(raw: str, name: str) -> str:
    # str.isdigit() accepts "²" and other digits int() refuses (a 500 before); only ASCII digits here.
    if not ASCII_DIGITS.fullmatch(raw):
        raise BadQuery(f"{name} must be a whole number.")
    return raw


def _int_param(request, name: str, default: int, low: int, high: int) -> int:
    """A missing value is the default; a number out of range is clamped (a bookmarked big-screen URL
    should keep working); anything that is not a number is refused."""
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    digits = _digits(raw, name)
    return min(max(int(digits), low), high) if len(digits) < 10 else high


def board_options(request) -> dict:
    """The big-screen options, all from the query string so a bookmarked URL is the whole setup."""
    window = request.GET.get("window", "all")
    activity = selectors.activity_for_ref(request.GET["activity"]) if request.GET.get("activity") else None
    return {
        "activity": activity,
        "window": window if window in leaderboards.WINDOWS else "all",
        "limit": _int_param(request, "limit", BOARD_DEFAULTS["limit"], 1, 100),
        "refresh": _int_param(request, "refresh", BOARD_DEFAULTS["refresh"], 0, 3600),
        "show_rank": request.GET.get("rank", "1") not in ("0", "false", "no"),
        "title": request.GET.get("title", "")[:80],
        "kiosk": request.GET.get("kiosk", "") in ("1", "true", "yes"),
        # A season board (?season=<slug>, no window) or its teams (&team=1); an unknown season is ignored.
        "season": Season.objects.filter(slug=request.GET.get("season", "")[:64]).first(),
        "team": request.GET.get("team", "") in ("1", "true", "yes"),
    }


def board(request):
    options = board_options(request)
    viewer = member_for_user(request.user) if request.user.is_authenticated else None
    season = options["season"]
    if season is not None and options["team"]:
        result = selectors.team_board_body(season=season, activity=options["activity"], limit=options["limit"],
                                           viewer=viewer)
    else:
        window = "all" if season is not None else options["window"]
        result = leaderboards.leaderboard(activity=options["activity"], window=window, limit=options["limit"],
                                          viewer=viewer, season=season)
    context = {**options, "board": result, "viewer": viewer, "activities": Activity.objects.filter(active=True),
               **_kiosk_links(request)}
    return render(request, "points_bridge/board.html", context)


def _kiosk_links(request) -> dict:
    """The same board with kiosk mode switched on or off: every other option is kept."""
    on, off = request.GET.copy(), request.GET.copy()
    on["kiosk"] = "1"
    off.pop("kiosk", None)
    return {"kiosk_on_query": on.urlencode(), "kiosk_off_query": off.urlencode()}


@login_required
def my_points(request):
    member = member_for_user(request.user)
    token = services.member_token_for(member=member)
    history = history_words.described(selectors.entries(member=member)[:HISTORY_ROWS])
    context = {
        "member": member,
        "rank": getattr(leaderboards.leaderboard(limit=1, viewer=member).me, "rank", None),
        "history": history,
        "balance_series": balance_series(member.points, [entry for entry, _ in history]),
        "level_percent": _level_percent(member),
        "member_qr": mark_safe(qr.svg_inline(tokens.member_url(token))),  # noqa: S308 - segno's own markup
    }
    return render(request, "points_bridge/my_points.html", context)


def balance_series(balance: int, newest_first: list) -> list[dict]:
    """The balance after each of the shown entries, oldest first, for the points-over-time chart. Walked
    back from today's balance, so it is right even when older entries are not shown."""
    points = []
    for entry in newest_first:
        points.append({"at": entry.created.isoformat(), "balance": balance})
        balance -= entry.points
    return points[::-1]


def _level_percent(member) -> int:
    into, remaining = member.xp_into_level, member.xp_for_next_level
    return 100 if remaining == 0 else int(100 * into / (into + remaining))


@login_required
@require_POST
def rotate_my_code(request):
    services.rotate_member_code(member=member_for_user(request.user))
    return redirect("bridge-my-points")


@staff_required("points_bridge.view_claimtemplate")
def template_qr(request, pk: int, fmt: str):
    template = get_object_or_404(ClaimTemplate.objects.alive(), pk=pk)
    url = tokens.claim_url(services.issue_claim_token(template=template))
    if fmt == "png":
        return HttpResponse(qr.png(url), content_type="image/png")
    return HttpResponse(qr.svg(url), content_type="image/svg+xml")


@staff_required("points_bridge.view_claimtemplate")
def claim_sheet(request):
    # Empty items (a trailing comma) are skipped; anything else must be an id.
    ids = [int(_digits(i, "ids")) for i in request.GET.get("ids", "").replace(" ", "").split(",") if i]
    ids = [i for i in ids if i <= MAX_ID]
    templates = ClaimTemplate.objects.alive().filter(pk__in=ids).select_related("activity")
    if not templates:
        raise Http404("No claim templates selected.")
    return render(request, "points_bridge/claim_sheet.html", {"cards": sheet_cards(templates)})


def sheet_cards(templates) -> list[dict]:
    """One printable card per template, each with a freshly issued code (also used by the command)."""
    cards = []
    for template in templates:
        url = tokens.claim_url(services.issue_claim_token(template=template))
        cards.append({"template": template, "svg": mark_safe(qr.svg_inline(url, scale=4))})  # noqa: S308
    return cards
