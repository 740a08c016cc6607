"""The Point System protocol, at the root of the site (its clients drop any base path; see
config/urls.py, which includes it after the API and before the pages). Slashes are exactly the
contract's. The member API under /api/v1/points/ (points_bridge/api_urls.py) is included by
config/urls.py itself, first of the API."""

from django.urls import path, re_path

from points_bridge import protocol

urlpatterns = [
    # The awards first: the busiest of these paths (the patterns are tried in order; none overlaps another).
    path("points/<int:user_id>/add", protocol.add, name="point-system-add"),
    path("health", protocol.health, name="point-system-health"),
    path("leaderboard/", protocol.leaderboard, name="point-system-leaderboard"),
    path("leaderboard/<int:activity_id>/", protocol.activity_leaderboard, name="point-system-activity-leaderboard"),
    path("points/transactions", protocol.transactions, name="point-system-transactions"),
    path("points/<int:user_id>/history", protocol.history, name="point-system-history"),
    path("points/<int:user_id>/remove", protocol.remove, name="point-system-remove"),
    # Anything else under these prefixes (a missing or extra slash, a non-numeric id) is a JSON 404.
    re_path(r"^(?:health|leaderboard|points)(?:/.*)?$", protocol.not_found),
]
