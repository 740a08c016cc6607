"""Member-facing points API under /api/v1/points/ (DRF). One view per operation; services write.

Members read their own balance and history; ``engagement.award_points`` lets staff award (by template
or a typed amount with a reason) and look members up; ``engagement.adjust_points`` lets admins remove.
"""

import re

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config import ratelimit
from config.errors import DomainError
from config.idempotency import idempotency_key
from config.negotiation import FastJSONNegotiation
from config.pagination import Pagination
from config.permissions import has_perm
from engagement import leaderboards, seasons, services
from engagement.models import Member
from engagement.services import member_for_user
from points_bridge import conf, point_system, selectors, tokens
from points_bridge import services as bridge
from points_bridge.models import ClaimTemplate

AWARD_PERM = "engagement.award_points"
ADJUST_PERM = "engagement.adjust_points"


def _activity(ref) -> object:
    if ref in (None, ""):
        return None
    activity = selectors.activity_for_ref(ref)
    if activity is None:
        raise DomainError("No such activity.", code="activity_not_found", status_code=404)
    return activity


def _member(user_id: int) -> Member:
    member = Member.objects.select_related("user").filter(user_id=user_id).first()
    if member is None:
        raise DomainError("No such member.", code="member_not_found", status_code=404)
    return member


def member_summary(member: Member) -> dict:
    user = member.user
    return {
        "user_id": user.pk,
        "name": user.get_full_name() or member.display_name,
        "username": member.display_name,
        "points": member.points,
        "level": member.level,
    }


class EntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField(source="member.user_id")
    points = serializers.IntegerField(help_text="Signed: removals and spending are negative.")
    xp = serializers.IntegerField()
    reason = serializers.CharField()
    type = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    activity = serializers.CharField(source="activity.slug", allow_null=True, default=None)
    created_at = serializers.DateTimeField(source="created")

    def get_type(self, entry) -> str:
        return point_system.transaction_type(entry)

    def get_description(self, entry) -> str:
        return (entry.meta or {}).get("description") or entry.reason


def _entry_body(entry, member: Member) -> dict:
    return {**EntryOut(entry).data, "balance": member.points, "replayed": entry.replayed}


def _created(entry) -> int:
    return status.HTTP_200_OK if entry.replayed else status.HTTP_201_CREATED


class BalanceView(APIView):
    @extend_schema(responses=dict, summary="My balance, XP, level and rank")
    def get(self, request):
        member = member_for_user(request.user)
        board = leaderboards.leaderboard(limit=1, viewer=member)
        return Response({
            **member_summary(member), "xp": member.xp, "level_title": member.level_title,
            "xp_into_level": member.xp_into_level, "xp_for_next_level": member.xp_for_next_level,
            "rank": board.me.rank if board.me else None,
        })


class ActivityBalanceView(APIView):
    @extend_schema(responses=dict, summary="My net points in one activity (slug or id)",
                   operation_id="points_activity_balance")
    def get(self, request, activity: str):
        scope = _activity(activity)
        member = member_for_user(request.user)
        points = leaderboards.activity_balance(member=member, activity=scope)
        return Response({"activity": scope.slug, "activity_name": scope.name, "points": points})


class TransactionsView(APIView):
    """History with filters. Without a permission you see your own entries; ``user_id`` of somebody
    else needs engagement.award_points or engagement.view_ledgerentry."""

    class QuerySerializer(serializers.Serializer):
        user_id = serializers.IntegerField(required=False, min_value=1, max_value=point_system.MAX_ID)
        activity = serializers.CharField(required=False, max_length=100)
        type = serializers.ChoiceField(choices=point_system.TYPES, required=False)
        reason = serializers.CharField(required=False, max_length=64)

    def _member(self, request, user_id: int | None) -> Member:
        if user_id is None or user_id == request.user.pk:
            return member_for_user(request.user)
        if not (request.user.has_perm(AWARD_PERM) or request.user.has_perm("engagement.view_ledgerentry")):
            raise DomainError("You may only see your own points.", code="permission_denied", status_code=403)
        return _member(user_id)

    @extend_schema(parameters=[QuerySerializer], responses=EntryOut(many=True))
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        member = self._member(request, data.get("user_id"))
        qs = selectors.entries(member=member, activity=_activity(data.get("activity")), kind=data.get("type"),
                               reason=data.get("reason"))
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(EntryOut(page, many=True).data)


class LeaderboardView(APIView):
    """Public board used by /board/: ranks shared on ties, viewer flagged, ``updated_at`` for the page.
    ``season`` ranks a season (no window); with ``team`` its teams (rows keyed ``team:<slug>``)."""

    permission_classes = [AllowAny]

    class QuerySerializer(serializers.Serializer):
        activity = serializers.CharField(required=False, max_length=100)
        window = serializers.ChoiceField(choices=leaderboards.WINDOWS, default="all")
        metric = serializers.ChoiceField(choices=leaderboards.METRICS, default="points")
        limit = serializers.IntegerField(min_value=1, max_value=100, default=10)
        season = serializers.SlugField(required=False, max_length=64)
        team = serializers.BooleanField(required=False, default=False)

    @extend_schema(parameters=[QuerySerializer], responses=dict)
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        viewer = member_for_user(request.user) if request.user.is_authenticated else None
        season = board_season(data, window_given="window" in request.query_params)
        activity = _activity(data.get("activity"))
        if season is not None and data["team"]:
            body = selectors.team_board_body(season=season, activity=activity, limit=data["limit"], viewer=viewer)
            return Response(body)
        board = leaderboards.leaderboard(metric=data["metric"], activity=activity, window=data["window"],
                                         limit=data["limit"], viewer=viewer, season=season)

        def row(r) -> dict:
            return {"rank": r.rank, "user_id": r.member.user_id, "name": r.member.display_name, "value": r.value,
                    "points": r.points, "level": r.level, "me": viewer is not None and r.member.pk == viewer.pk}

        return Response({
            "metric": board.metric, "window": board.window, "season": season.slug if season else None,
            "activity": board.activity.slug if board.activity else None,
            "items": [row(r) for r in board.items], "me": row(board.me) if board.me else None,
            "updated_at": timezone.now().isoformat(),
        })


def board_season(data: dict, *, window_given: bool):
    """The season a board asks for (None without one); refuses a window with it, or team without it."""
    if not data.get("season"):
        if data.get("team"):
            raise DomainError("team=1 needs a season.", code="team_needs_season")
        return None
    if window_given and data.get("window", "all") != "all":
        raise DomainError("A season board has no window; drop window or season.", code="season_with_window")
    return seasons.season_by_slug(data["season"])


MAX_CODE = 2000
_NOT_STORABLE = re.compile("[\x00\ud800-\udfff]")


class ClaimView(APIView):
    content_negotiation_class = FastJSONNegotiation

    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=MAX_CODE)

    @classmethod
    def code(cls, data) -> str:
        """``InputSerializer``'s validated ``code``. A JSON body whose code is plain, storable text of
        the right length is read here: exactly what the serializer would give (CharField strips it), for
        a fraction of its cost (it deep-copies its fields for every instance). Anything else goes
        through the serializer, so every refusal keeps DRF's exact errors."""
        if type(data) is dict and type(code := data.get("code")) is str:
            code = code.strip()
            if code and len(code) <= MAX_CODE and not _NOT_STORABLE.search(code):
                return code
        payload = cls.InputSerializer(data=data)
        payload.is_valid(raise_exception=True)
        return payload.validated_data["code"]

    @extend_schema(request=InputSerializer, responses=dict, summary="Claim a scanned QR code")
    def post(self, request):
        code = self.code(request.data)
        key = idempotency_key(request, scope="claim")
        member, retry = selectors.claimer(user=request.user, key=key)
        member = member or member_for_user(request.user)
        # Counted before the code is even read, so guessing or replaying codes in bulk is slowed too.
        if not retry:
            ratelimit.hit("claim", str(member.pk), conf.claim_rate())
        claim = bridge.claim(member=member, code=code, actor=request.user, idempotency_key=key)
        return Response({
            "claim_id": claim.pk, "points": claim.points, "balance": member.points,
            "template": claim.template.name, "description": claim.template.description or claim.template.name,
        }, status=status.HTTP_200_OK if claim.replayed else status.HTTP_201_CREATED)


class AddView(APIView):
    """Staff award: by ``template`` (its points, or a typed amount for manual templates) or a typed
    amount with a required ``description``, optionally in an ``activity``."""

    permission_classes = [has_perm(AWARD_PERM)]
    content_negotiation_class = FastJSONNegotiation

    class InputSerializer(serializers.Serializer):
        user_id = serializers.IntegerField(min_value=1, max_value=point_system.MAX_ID)
        template = serializers.IntegerField(required=False, min_value=1, max_value=point_system.MAX_ID)
        points = serializers.IntegerField(required=False, min_value=1, max_value=bridge.MAX_STAFF_POINTS)
        description = serializers.CharField(required=False, allow_blank=True, max_length=200)
        activity = serializers.CharField(required=False, allow_blank=True, max_length=100)

    @extend_schema(request=InputSerializer, responses=dict, summary="Award points (staff)")
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        member = _member(data["user_id"])
        key = idempotency_key(request, scope="bridge-add")
        if data.get("template"):
            template = ClaimTemplate.objects.alive().filter(pk=data["template"]).first()
            if template is None:
                raise DomainError("No such claim template.", code="template_not_found", status_code=404)
            claim = bridge.award_by_template(member=member, template=template, actor=request.user,
                                             points=data.get("points"), idempotency_key=key)
            entry = claim.entry
            entry.replayed = claim.replayed
        else:
            if "points" not in data:
                raise DomainError("points: This field is required.", code="validation_error")
            entry = bridge.award_manual(member=member, points=data["points"], description=data.get("description", ""),
                                        actor=request.user, activity=_activity(data.get("activity")),
                                        idempotency_key=key)
        member.refresh_from_db(fields=["points", "xp", "level"])
        return Response(_entry_body(entry, member), status=_created(entry))


class RemoveView(APIView):
    permission_classes = [has_perm(ADJUST_PERM)]

    class InputSerializer(serializers.Serializer):
        user_id = serializers.IntegerField(min_value=1, max_value=point_system.MAX_ID)
        points = serializers.IntegerField(min_value=1, max_value=point_system.MAX_POINTS)
        description = serializers.CharField(max_length=200)
        activity = serializers.CharField(required=False, allow_blank=True, max_length=100)

    @extend_schema(request=InputSerializer, responses=dict, summary="Remove points (admins); 409 if too few")
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        member = _member(data["user_id"])
        entry = services.adjust(member=member, delta=-data["points"], actor=request.user,
                                activity=_activity(data.get("activity")),
                                meta={"description": data["description"], "via": "points_api"},
                                idempotency_key=idempotency_key(request, scope="bridge-remove"))
        return Response(_entry_body(entry, member), status=_created(entry))


class MemberSearchView(APIView):
    permission_classes = [has_perm(AWARD_PERM)]

    class QuerySerializer(serializers.Serializer):
        q = serializers.CharField(min_length=2, max_length=100)

    @extend_schema(parameters=[QuerySerializer], responses=dict, summary="Find members by name (staff)")
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = selectors.search_members(query=query.validated_data["q"])
        return Response({"items": [member_summary(m) for m in found]})


class MemberResolveView(APIView):
    """Staff scanned a member's personal QR: who is it?"""

    permission_classes = [has_perm(AWARD_PERM)]

    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses=dict, summary="Identify a member by personal QR (staff)")
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return Response(member_summary(bridge.member_for_code(payload.validated_data["code"])))


class MyCodeView(APIView):
    @extend_schema(responses=dict, summary="My personal QR code (staff scan it to award me)")
    def get(self, request):
        token = bridge.member_token_for(member=member_for_user(request.user))
        return Response({"code": token, "url": tokens.member_url(token)})


class MyCodeRotateView(APIView):
    @extend_schema(request=None, responses=dict, summary="Replace my personal QR code")
    def post(self, request):
        member = member_for_user(request.user)
        bridge.rotate_member_code(member=member)
        token = bridge.member_token_for(member=member)
        return Response({"code": token, "url": tokens.member_url(token)})
