"""Engagement JSON API (the engagement contract). One view per operation; services do the writing."""

import re

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from config import lockout, ratelimit
from config.idempotency import idempotency_key
from config.parsers import FormParser, MultiPartParser
from config.permissions import has_perm
from engagement import api_seasons, handles, leaderboards, profiles, selectors, services, spam
from engagement.errors import CapReached, DomainError
from engagement.leaderboards import index as leaderboard_index
from engagement.models import Member
from engagement.serializers import (
    AdminLeaderboardRowSerializer,
    AdminLeaderboardSerializer,
    EntrySerializer,
    LeaderboardRowSerializer,
    LeaderboardSerializer,
    ProfileSerializer,
)
from engagement.services import member_for_user
from engagement.throttles import EngagementRate


class MetaField(serializers.JSONField):
    """Free-form details kept on a ledger entry: a JSON object, never a list or a scalar."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            raise serializers.ValidationError("meta must be an object.")
        return value



class AuthThrottle(ratelimit.CacheSafeThrottle, AnonRateThrottle):
    scope = "auth"


class TokenView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={200: dict}, summary="Exchange username and password for a token")
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        # With the request, axes counts this failure per account and address like a login form's.
        user = authenticate(request=request, **payload.validated_data)
        if getattr(request, "axes_locked_out", False):
            raise lockout.locked(request)
        if user is None or not user.is_active:
            raise DomainError("Wrong username or password.", code="invalid_credentials", status_code=401)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class ProfileView(APIView):
    throttle_classes = [EngagementRate]
    rate_scopes = {"GET": "profile_read", "PATCH": "profile_write"}

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(required=False, allow_blank=True, max_length=200)
        show_on_leaderboard = serializers.BooleanField(required=False)

    @extend_schema(responses=ProfileSerializer)
    def get(self, request):
        return Response(ProfileSerializer(member_for_user(request.user)).data)

    @extend_schema(request=InputSerializer, responses=ProfileSerializer)
    def patch(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        member = member_for_user(request.user)
        services.refuse_if_banned(member)  # leaderboard visibility is a profile edit too
        with transaction.atomic():
            if "username" in payload.validated_data:
                profiles.set_username(member=member, username=payload.validated_data["username"])
            if "show_on_leaderboard" in payload.validated_data:
                leaderboard_index.set_visibility(member=member,
                                                 visible=payload.validated_data["show_on_leaderboard"])
        member.refresh_from_db()
        return Response(ProfileSerializer(member).data)


class UsernameSuggestionsView(APIView):
    throttle_classes = [EngagementRate]
    rate_scope = "username_suggestions"

    class QuerySerializer(serializers.Serializer):
        first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
        last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)

    @extend_schema(parameters=[QuerySerializer], responses=dict,
                   summary="Free usernames from a first and last name (default: the account's)")
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        user = request.user
        names = {"first_name": query.validated_data.get("first_name", user.first_name),
                 "last_name": query.validated_data.get("last_name", user.last_name)}
        return Response({"suggestions": handles.suggest(member=member_for_user(user), **names)})


class AvatarView(APIView):
    throttle_classes = [EngagementRate]
    rate_scope = "profile_write"

    class InputSerializer(serializers.Serializer):
        avatar_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
        animated_avatar_url = serializers.CharField(required=False, allow_blank=True, max_length=500)

    @extend_schema(request=InputSerializer, responses=ProfileSerializer)
    def patch(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        member = member_for_user(request.user)
        profiles.set_avatars(member=member, **payload.validated_data)
        return Response(ProfileSerializer(member).data)


class AvatarUploadView(APIView):
    throttle_classes = [EngagementRate]
    rate_scope = "avatar_upload"
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        image = serializers.FileField()

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses=ProfileSerializer)
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        member = profiles.upload_avatar(member=member_for_user(request.user), upload=payload.validated_data["image"])
        return Response(ProfileSerializer(member).data)


class TransactionsView(APIView):
    throttle_classes = [EngagementRate]
    rate_scope = "transactions"
    max_limit = 200

    class QuerySerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, default=50)
        reason = serializers.CharField(required=False, max_length=64)
        user_id = serializers.IntegerField(required=False, min_value=1)

    def member(self, request, query) -> Member:
        return member_for_user(request.user)

    @extend_schema(parameters=[QuerySerializer], responses=EntrySerializer(many=True))
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        if limit > self.max_limit:
            raise DomainError(f"limit must be between 1 and {self.max_limit}.", code="validation_error")
        entries = selectors.entries_for(member=self.member(request, query.validated_data),
                                        reason=query.validated_data.get("reason"))[:limit]
        return Response({"items": EntrySerializer(entries, many=True).data})


# A SlugField's pattern, anchored at both ends (DRF's ``$`` would also let a trailing newline through,
# which its whitespace trimming removes first; such a body takes the serializer's path).
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def _plain_event(body) -> dict | None:
    """The events body's validated data when it is one the InputSerializer would accept unchanged: a
    JSON object with an int ``user_id`` >= 1, a slug ``reason`` of at most 64 characters, an object
    ``meta`` (default {}) and a string ``idempotency_key`` of at most 120 characters with nothing to
    trim. None for anything else, which then goes through the serializer (and gets its errors). This
    spares building the serializer's fields on every call (a DRF serializer deep-copies them each time).
    The parser has already refused NUL characters and lone surrogates (config.parsers)."""
    if type(body) is not dict:
        return None
    user_id, reason = body.get("user_id"), body.get("reason")
    if type(user_id) is not int or user_id < 1:
        return None
    if type(reason) is not str or len(reason) > 64 or not _SLUG.fullmatch(reason):
        return None
    meta = body.get("meta", {})
    if type(meta) is not dict:
        return None
    data = {"user_id": user_id, "reason": reason, "meta": meta}
    if "idempotency_key" in body:
        key = body["idempotency_key"]
        if type(key) is not str or len(key) > 120 or key != key.strip():
            return None
        data["idempotency_key"] = key
    return data


class EventsView(APIView):
    """Record a member's action through the earning rules (trusted frontends and services only)."""

    permission_classes = [has_perm("engagement.record_action")]
    throttle_classes = [EngagementRate]
    # Per caller (the website's service account); each member's own actions have their per-reason limits.
    rate_scope = "events"

    class InputSerializer(serializers.Serializer):
        user_id = serializers.IntegerField(min_value=1)
        reason = serializers.SlugField(max_length=64)
        meta = MetaField(required=False, default=dict)
        idempotency_key = serializers.CharField(required=False, allow_blank=True, max_length=120)

    @extend_schema(request=InputSerializer, responses=EntrySerializer)
    def post(self, request):
        data = _plain_event(request.data)
        if data is None:
            payload = self.InputSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = payload.validated_data
        if data["user_id"] == request.user.pk:
            raise DomainError("You cannot award yourself.", code="self_award_forbidden", status_code=403)
        try:
            key, bad_key = idempotency_key(request, scope="events", body_key=data.get("idempotency_key")), None
        except DomainError as exc:  # answered after member_not_found, as before the lookups were one
            key, bad_key = None, exc
        member, recorded = selectors.member_and_recorded(data["user_id"], key)
        if member is None:
            raise DomainError("No such member.", code="member_not_found", status_code=404)
        if bad_key:
            raise bad_key
        # A retry of an action already recorded is answered: neither counted nor judged again (its
        # text would be its own duplicate).
        if not recorded:
            if rate := settings.ENGAGEMENT_ACTION_RATES.get(data["reason"]):
                ratelimit.hit(f"action:{data['reason']}", str(member.pk), rate)
            if report := spam.screen(member=member, reason=data["reason"], meta=data["meta"], actor=request.user):
                return Response({"awarded": False, "code": "spam_suspected", "rule": report.rule,
                                 "detail": "This looks like spam; it was not awarded and waits for a review."})
        try:
            entry = services.award(member=member, reason=data["reason"], actor=request.user,
                                   meta=data["meta"], idempotency_key=key)
        except CapReached as exc:
            return Response({"awarded": False, "code": exc.code, "detail": exc.message})
        body = {"awarded": True, **EntrySerializer(entry).data, "replayed": entry.replayed}
        return Response(body, status=status.HTTP_200_OK if entry.replayed else status.HTTP_201_CREATED)


class LeaderboardView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [EngagementRate]
    rate_scope = "leaderboard"
    max_limit = 100
    row_serializer = LeaderboardRowSerializer

    class QuerySerializer(serializers.Serializer):
        metric = serializers.ChoiceField(choices=leaderboards.METRICS, default="points")
        limit = serializers.IntegerField(min_value=1, default=20)
        activity = serializers.CharField(required=False, max_length=100)
        window = serializers.ChoiceField(choices=leaderboards.WINDOWS, default="all")
        season = serializers.SlugField(required=False, max_length=64)
        team = serializers.BooleanField(required=False, default=False)

    @extend_schema(parameters=[QuerySerializer], responses=PolymorphicProxySerializer(
        component_name="LeaderboardOrTeams", serializers=[LeaderboardSerializer, api_seasons.TeamLeaderboardSerializer],
        resource_type_field_name=None))
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if data["limit"] > self.max_limit:
            raise DomainError(f"limit must be between 1 and {self.max_limit}.", code="validation_error")
        activity = None
        if data.get("activity"):
            activity = selectors.activity_by_ref(data["activity"])
            if activity is None:
                raise DomainError("No such activity.", code="activity_not_found", status_code=404)
        viewer = member_for_user(request.user) if request.user.is_authenticated else None
        if data.get("season") or data["team"]:
            return api_seasons.season_leaderboard(self, request, data, activity, viewer)
        board = leaderboards.leaderboard(metric=data["metric"], activity=activity, window=data["window"],
                                         limit=data["limit"], viewer=viewer)
        return Response({
            "metric": board.metric,
            "window": board.window,
            "activity": activity.slug if activity else None,
            "items": self.row_serializer(board.items, many=True).data,
            "me": self.row_serializer(board.me).data if board.me else None,
        })


# --- Admin endpoints ---------------------------------------------------------------------------------


class AdminLeaderboardView(LeaderboardView):
    permission_classes = [has_perm("engagement.view_member")]
    rate_scope = "admin"
    max_limit = 1000
    row_serializer = AdminLeaderboardRowSerializer

    @extend_schema(responses=AdminLeaderboardSerializer)
    def get(self, request):
        return super().get(request)


class AdminTransactionsView(TransactionsView):
    permission_classes = [has_perm("engagement.view_ledgerentry")]
    rate_scope = "admin"
    max_limit = 1000

    def member(self, request, query) -> Member | None:
        if "user_id" not in query:
            return None
        return get_object_or_404(Member, user_id=query["user_id"])


class AdminAdjustView(APIView):
    permission_classes = [has_perm("engagement.adjust_points")]
    throttle_classes = [EngagementRate]
    rate_scope = "admin"

    class InputSerializer(serializers.Serializer):
        user_id = serializers.IntegerField(min_value=1)
        delta = serializers.IntegerField(min_value=-services.MAX_ADJUST, max_value=services.MAX_ADJUST)
        reason = serializers.ChoiceField(choices=["admin_adjust"], default="admin_adjust")
        meta = MetaField(required=False, default=dict)

    @extend_schema(request=InputSerializer, responses=EntrySerializer)
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        member = selectors.member_by_user_id(data["user_id"])
        if member is None:
            raise DomainError("No such member.", code="member_not_found", status_code=404)
        entry = services.adjust(member=member, delta=data["delta"], actor=request.user, reason=data["reason"],
                                meta=data["meta"], idempotency_key=idempotency_key(request, scope="adjust"))
        body = {**EntrySerializer(entry).data, "balance": member.points, "replayed": entry.replayed}
        return Response(body, status=status.HTTP_200_OK if entry.replayed else status.HTTP_201_CREATED)


class AdminProfileView(APIView):
    permission_classes = [has_perm("engagement.view_member")]
    throttle_classes = [EngagementRate]
    rate_scope = "admin"

    @extend_schema(responses=ProfileSerializer)
    def get(self, request, user_id: int):
        member = selectors.member_by_user_id(user_id)
        if member is None:
            raise DomainError("No such member.", code="member_not_found", status_code=404)
        return Response(ProfileSerializer(member).data)
