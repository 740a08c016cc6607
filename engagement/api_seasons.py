"""Seasons and teams API: the season list, the teams of a season (join, leave), and the season and
team variants of the leaderboard (``GET leaderboard?season=<slug>[&team=1]``, answered here for
engagement.api.LeaderboardView)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from engagement import leaderboards, seasons
from engagement.errors import DomainError
from engagement.services import member_for_user
from engagement.throttles import EngagementRate


class SeasonSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    starts = serializers.DateField()
    ends = serializers.DateField()
    state = serializers.SerializerMethodField()
    frozen_at = serializers.DateTimeField(allow_null=True)
    prizes = serializers.ListField(child=serializers.DictField(child=serializers.IntegerField()))

    def get_state(self, season) -> str:
        return seasons.state(season)


class TeamSerializer(serializers.Serializer):
    slug = serializers.CharField(source="team.slug")
    name = serializers.CharField(source="team.name")
    needs_code = serializers.SerializerMethodField()
    members = serializers.IntegerField()
    rank = serializers.IntegerField()
    value = serializers.IntegerField()

    def get_needs_code(self, row) -> bool:
        return bool(row.team.join_code)


class TeamLeaderboardSerializer(serializers.Serializer):
    metric = serializers.CharField()
    season = serializers.CharField()
    activity = serializers.CharField(allow_null=True)
    team = serializers.BooleanField()
    items = TeamSerializer(many=True)
    me = TeamSerializer(allow_null=True, help_text="The viewer's team, or null.")


def _season_or_current(slug: str | None):
    if slug:
        return seasons.season_by_slug(slug)
    season = seasons.current_season()
    if season is None:
        raise DomainError("No season is running; name one with ?season=.", code="no_active_season", status_code=404)
    return season


class SeasonsView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [EngagementRate]
    rate_scope = "seasons"

    class OutputSerializer(serializers.Serializer):
        items = SeasonSerializer(many=True)

    @extend_schema(responses=OutputSerializer, summary="Seasons, newest first, with their state")
    def get(self, request):
        items = seasons.Season.objects.order_by("-starts")
        return Response({"items": SeasonSerializer(items, many=True).data})


class TeamsView(APIView):
    """GET: the season's teams (``season``, default the running one) and yours. POST: join a team.
    DELETE: leave your team of the season (while the season is upcoming or active)."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [EngagementRate]

    class QuerySerializer(serializers.Serializer):
        season = serializers.SlugField(required=False, max_length=64)

    class JoinSerializer(serializers.Serializer):
        season = serializers.SlugField(required=False, max_length=64)
        team = serializers.SlugField(max_length=64)
        code = serializers.CharField(required=False, default="", allow_blank=True, max_length=64)

    class OutputSerializer(serializers.Serializer):
        season = SeasonSerializer()
        items = TeamSerializer(many=True)
        mine = serializers.CharField(allow_null=True, help_text="Slug of your team this season, or null.")

    def get_throttles(self):
        self.rate_scope = "seasons" if self.request.method == "GET" else "teams_write"
        return super().get_throttles()

    def _answer(self, request, season, code=status.HTTP_200_OK) -> Response:
        current = seasons.membership(season=season, member=member_for_user(request.user))
        rows = seasons.team_board(season=season)
        return Response({"season": SeasonSerializer(season).data, "items": TeamSerializer(rows, many=True).data,
                         "mine": current.team.slug if current else None}, status=code)

    @extend_schema(parameters=[QuerySerializer], responses=OutputSerializer, summary="The teams of a season")
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self._answer(request, _season_or_current(query.validated_data.get("season")))

    @extend_schema(request=JoinSerializer, responses={201: OutputSerializer}, summary="Join a team")
    def post(self, request):
        payload = self.JoinSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        season = _season_or_current(data.get("season"))
        team = seasons.team_by_slug(season=season, slug=data["team"])
        seasons.join_team(member=member_for_user(request.user), team=team, code=data["code"])
        return self._answer(request, season, status.HTTP_201_CREATED)

    @extend_schema(parameters=[QuerySerializer], responses=OutputSerializer, summary="Leave your team")
    def delete(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        season = _season_or_current(query.validated_data.get("season"))
        seasons.leave_team(member=member_for_user(request.user), season=season)
        return self._answer(request, season)


SEASON_PARAMETERS = [
    OpenApiParameter("season", str, description="A season's slug: rank what was earned in it (not with window)."),
    OpenApiParameter("team", bool, description="With season: the team standings instead of members."),
]


def season_leaderboard(view, request, data: dict, activity, viewer) -> Response:
    """The answer of LeaderboardView for ``season`` (and ``team``)."""
    if "window" in request.query_params:
        raise DomainError("A season board has no window; drop window or season.", code="season_with_window")
    if not data.get("season"):
        raise DomainError("team=1 needs a season.", code="team_needs_season")
    season = seasons.season_by_slug(data["season"])
    if data.get("team"):
        return _team_answer(data, season, activity, viewer)
    board = leaderboards.leaderboard(metric=data["metric"], activity=activity, limit=data["limit"],
                                     viewer=viewer, season=season)
    return Response({
        "metric": board.metric, "window": "season", "season": season.slug,
        "activity": activity.slug if activity else None,
        "items": view.row_serializer(board.items, many=True).data,
        "me": view.row_serializer(board.me).data if board.me else None,
    })


def _team_answer(data: dict, season, activity, viewer) -> Response:
    if data["metric"] == "level":
        raise DomainError("Team boards rank points or xp.", code="team_metric_unsupported")
    rows = seasons.team_board(season=season, activity=activity, metric=data["metric"])
    mine = seasons.membership(season=season, member=viewer) if viewer is not None else None
    me = next((row for row in rows if mine and row.team.pk == mine.team_id), None)
    return Response({
        "metric": data["metric"], "season": season.slug, "activity": activity.slug if activity else None,
        "team": True, "items": TeamSerializer(rows[: data["limit"]], many=True).data,
        "me": TeamSerializer(me).data if me else None,
    })
