"""Server-rendered member pages: the fan zone at /me/."""

import secrets

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from engagement import achievements, challenges, leaderboards, levels, referrals, seasons, streaks
from engagement.services import member_for_user

AVATAR_STYLE_URL = "https://api.dicebear.com/9.x/thumbs/svg?seed={seed}"


def _level_progress(member) -> dict:
    floor = levels.xp_for_level(member.level)
    at_cap = member.level >= levels.level_cap()
    span = 0 if at_cap else levels.xp_for_level(member.level + 1) - floor
    return {
        "percent": 100 if at_cap or span <= 0 else min(100, (member.xp - floor) * 100 // span),
        "into": member.xp - floor,
        "span": span,
        "next_title": levels.title_for_level(member.level + 1) if not at_cap else "",
        "at_cap": at_cap,
    }


def _page_data(member) -> dict:
    """What the page's script needs: the balance, the XP (for XP-only rewards) and the avatar URL pattern
    (its messages come from the JavaScript catalogue)."""
    return {"points": member.points, "xp": member.xp, "random_avatar_template": AVATAR_STYLE_URL}


def _board_query(request) -> dict:
    metric = request.GET.get("metric", "points")
    window = request.GET.get("window", "all")
    return {
        "metric": metric if metric in leaderboards.METRICS else "points",
        "window": window if window in leaderboards.WINDOWS else "all",
    }


def _invite(member) -> dict:
    code = referrals.code_for(member=member).code
    return {"code": code, "link": referrals.invite_link(code), **referrals.invitation_counts(member=member),
            "inviter_points": referrals.inviter_points(), "invitee_points": referrals.invitee_points()}


@require_GET
@login_required
def fan_zone(request):
    member = member_for_user(request.user)
    query = _board_query(request)
    board = leaderboards.leaderboard(**query, limit=10, viewer=member)
    return render(request, "engagement/fanzone.html", {
        "member": member,
        "level": _level_progress(member),
        "achievement_groups": achievements.grouped(achievements.statuses(member=member)),
        "streak": streaks.status(member=member),
        "challenges": challenges.statuses(member=member),
        "board": board,
        "me_listed": board.me is not None and any(row.member.pk == member.pk for row in board.items),
        "query": query,
        "metrics": leaderboards.METRICS,
        "windows": leaderboards.WINDOWS,
        "avatar_hosts": settings.ENGAGEMENT_AVATAR_HOSTS,
        "random_avatar": AVATAR_STYLE_URL.format(seed=secrets.token_hex(6)),
        "page_data": _page_data(member),
        "invite": _invite(member),
        "season": season_summary(member),
    })


def season_summary(member) -> dict | None:
    """The running season on /me/: its name and last day, the member's rank and points in it, their team."""
    season = seasons.current_season()
    if season is None:
        return None
    board = leaderboards.leaderboard(season=season, limit=1, viewer=member)
    current = seasons.membership(season=season, member=member)
    teams = seasons.team_board(season=season)
    team_row = None
    if current is not None:
        team_row = next((r for r in teams if r.team.pk == current.team_id), None)
    # Joining and leaving are open until the season's last day (the API refuses later with season_closed).
    return {"season": season, "me": board.me, "team": team_row, "teams": teams,
            "can_change_team": seasons.state(season) in ("upcoming", "active")}
