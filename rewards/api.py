"""Rewards JSON API (the engagement contract's paths). One view per operation; services do the writing."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from config import ratelimit
from config.errors import DomainError
from config.idempotency import idempotency_key
from config.negotiation import FastJSONNegotiation
from engagement.services import member_for_user
from engagement.throttles import EngagementRate
from rewards import conf, selectors, services
from rewards.images import ImageRefused, store_image, validate_image_url
from rewards.metadata import SCHEMAS
from rewards.models import CostType, Redemption, Reward
from rewards.serializers import (
    MAX_INT,
    AdminRedemptionSerializer,
    AdminRewardSerializer,
    RedemptionSerializer,
    StockField,
    StoreRewardSerializer,
)

MAX_ID = 2**63 - 1


def method_perms(**perms: str) -> type[BasePermission]:
    """A DRF permission class requiring, per HTTP method, one Django permission (superusers have all)."""

    class _MethodPerms(BasePermission):
        def has_permission(self, request, view) -> bool:
            perm = perms.get("GET" if request.method in ("HEAD", "OPTIONS") else request.method)
            return bool(perm and request.user and request.user.is_authenticated and request.user.has_perm(perm))

    return _MethodPerms


class PageSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_INT, default=0)


# --- Member endpoints ---------------------------------------------------------------------------------


class RewardsView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [EngagementRate]
    rate_scope = "rewards"

    class QuerySerializer(serializers.Serializer):
        upcoming = serializers.BooleanField(
            required=False, default=False,
            help_text="Also list rewards whose availability window has not opened yet (available_now false).")

    @extend_schema(parameters=[QuerySerializer], responses=StoreRewardSerializer(many=True),
                   summary="Rewards members can redeem now")
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        at = timezone.now()
        rewards = list(selectors.rewards_on_sale(at=at, upcoming=query.validated_data["upcoming"]))
        held = None
        if request.user.is_authenticated:
            held = selectors.redemptions_held(member=member_for_user(request.user), rewards=rewards)
        return Response(StoreRewardSerializer(rewards, many=True, context={"at": at, "held": held}).data)


class RedeemView(APIView):
    content_negotiation_class = FastJSONNegotiation

    class InputSerializer(serializers.Serializer):
        reward_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)

    class OutputSerializer(serializers.Serializer):
        ok = serializers.BooleanField(default=True)
        status = serializers.CharField()
        redemption_id = serializers.IntegerField(source="pk")
        replayed = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer, summary="Redeem a reward")
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        member = member_for_user(request.user)
        key = idempotency_key(request, scope="redeem")
        # A retry of a redemption we already made is answered, not counted against the member.
        if selectors.redemption_for_key(member=member, key=key) is None:
            ratelimit.hit("redeem", str(member.pk), conf.redeem_rate())
        redemption = services.redeem(member=member, reward_id=payload.validated_data["reward_id"],
                                     idempotency_key=key)
        return Response(self.OutputSerializer(redemption).data,
                        status=status.HTTP_200_OK if redemption.replayed else status.HTTP_201_CREATED)


class RedemptionsView(APIView):
    throttle_classes = [EngagementRate]
    rate_scope = "redemptions"

    @extend_schema(parameters=[PageSerializer], responses=RedemptionSerializer(many=True),
                   summary="The member's own redemptions, newest first")
    def get(self, request):
        page = PageSerializer(data=request.query_params)
        page.is_valid(raise_exception=True)
        start = page.validated_data["offset"]
        redemptions = selectors.redemptions_of(member=member_for_user(request.user))
        return Response(RedemptionSerializer(redemptions[start:start + page.validated_data["limit"]], many=True).data)


# --- Admin endpoints ----------------------------------------------------------------------------------


class RewardInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    type = serializers.ChoiceField(choices=Reward.Type.choices)
    cost_points = serializers.IntegerField(min_value=1, max_value=MAX_INT)
    cost_type = serializers.ChoiceField(choices=CostType.choices, required=False, default=CostType.POINTS)
    image_url = serializers.CharField(required=False, allow_blank=True, default="", max_length=500,
                                      validators=[validate_image_url])
    stock = StockField(required=False, default=-1)
    active = serializers.BooleanField(required=False, default=True)
    metadata = serializers.JSONField(required=False, default=dict)
    available_from = serializers.DateTimeField(required=False, allow_null=True, default=None)
    available_until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    max_per_member = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                              max_value=MAX_INT)

    def validate_stock(self, value):
        return StockField.to_model(value)

    def validate_metadata(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("metadata must be a JSON object.")
        return value

    def validate(self, data):
        # A PATCH may leave the type out: the reward's own type then judges the metadata (full_clean).
        if "type" in data and data["type"] != "custom" and data["type"] not in SCHEMAS:
            raise serializers.ValidationError({"type": "Unknown reward type."})
        return data


class AdminRewardsView(APIView):
    permission_classes = [method_perms(GET="rewards.view_reward", POST="rewards.add_reward")]
    throttle_classes = [EngagementRate]
    rate_scope = "admin"

    class QuerySerializer(serializers.Serializer):
        active = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(parameters=[QuerySerializer], responses=AdminRewardSerializer(many=True))
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rewards = selectors.rewards_for_admin(active=query.validated_data.get("active"))
        return Response(AdminRewardSerializer(rewards, many=True).data)

    @extend_schema(request=RewardInputSerializer, responses=AdminRewardSerializer)
    def post(self, request):
        payload = RewardInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reward = services.save_reward(**payload.validated_data)
        return Response(AdminRewardSerializer(reward).data, status=status.HTTP_201_CREATED)


class AdminRewardView(APIView):
    permission_classes = [method_perms(GET="rewards.view_reward", PUT="rewards.change_reward",
                                       PATCH="rewards.change_reward", DELETE="rewards.delete_reward")]
    throttle_classes = [EngagementRate]
    rate_scope = "admin"

    @extend_schema(responses=AdminRewardSerializer)
    def get(self, request, reward_id: int):
        return Response(AdminRewardSerializer(get_object_or_404(Reward, pk=reward_id)).data)

    @extend_schema(request=RewardInputSerializer, responses=AdminRewardSerializer)
    def put(self, request, reward_id: int):
        reward = get_object_or_404(Reward, pk=reward_id)
        payload = RewardInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reward = services.save_reward(reward=reward, **payload.validated_data)
        return Response(AdminRewardSerializer(reward).data)

    @extend_schema(request=RewardInputSerializer(partial=True), responses=AdminRewardSerializer)
    def patch(self, request, reward_id: int):
        """Edit only the fields given (PUT needs the whole reward)."""
        reward = get_object_or_404(Reward, pk=reward_id)
        payload = RewardInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        reward = services.save_reward(reward=reward, **payload.validated_data)
        return Response(AdminRewardSerializer(reward).data)

    @extend_schema(responses={200: AdminRewardSerializer, 204: None})
    def delete(self, request, reward_id: int):
        reward = get_object_or_404(Reward, pk=reward_id)
        if services.delete_reward(reward=reward):
            return Response(status=status.HTTP_204_NO_CONTENT)
        # Redemptions point at it: the contract asks us to deactivate instead, and we say so.
        return Response({"deleted": False, "deactivated": True, **AdminRewardSerializer(reward).data})


class AdminRewardImageView(APIView):
    """Upload a reward's picture: stored through the storage API, then ``image_url`` points at it."""

    permission_classes = [method_perms(POST="rewards.change_reward")]
    throttle_classes = [EngagementRate]
    rate_scope = "admin"
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        image = serializers.FileField()

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses=AdminRewardSerializer)
    def post(self, request, reward_id: int):
        reward = get_object_or_404(Reward, pk=reward_id)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            url = store_image(payload.validated_data["image"])  # storage I/O, outside any transaction
        except ImageRefused as exc:
            status_code = 413 if exc.code == "image_too_large" else 415 if exc.code == "image_bad_type" else 400
            raise DomainError(exc.messages[0], code=exc.code, status_code=status_code) from None
        reward = services.save_reward(reward=reward, image_url=url)
        return Response(AdminRewardSerializer(reward).data)


class AdminRedemptionsView(APIView):
    permission_classes = [method_perms(GET="rewards.view_redemption")]
    throttle_classes = [EngagementRate]
    rate_scope = "admin"

    class QuerySerializer(PageSerializer):
        status = serializers.ChoiceField(choices=Redemption.Status.choices, required=False)

    @extend_schema(parameters=[QuerySerializer], responses=AdminRedemptionSerializer(many=True))
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        redemptions = selectors.redemptions_for_admin(status=data.get("status"))
        page = redemptions[data["offset"]:data["offset"] + data["limit"]]
        return Response(AdminRedemptionSerializer(page, many=True).data)


class AdminRedemptionView(APIView):
    permission_classes = [method_perms(GET="rewards.view_redemption", PATCH="rewards.change_redemption")]
    throttle_classes = [EngagementRate]
    rate_scope = "admin"

    class InputSerializer(serializers.Serializer):
        # The contract spells it "fulfill"; "fulfil" is accepted too.
        action = serializers.ChoiceField(choices=["approve", "reject", "fulfill", "fulfil"])
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    @extend_schema(responses=AdminRedemptionSerializer)
    def get(self, request, redemption_id: int):
        redemption = get_object_or_404(selectors.redemptions_for_admin(), pk=redemption_id)
        return Response(AdminRedemptionSerializer(redemption).data)

    @extend_schema(request=InputSerializer, responses=AdminRedemptionSerializer)
    def patch(self, request, redemption_id: int):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        action = "fulfil" if payload.validated_data["action"] == "fulfill" else payload.validated_data["action"]
        services.ACTIONS[action](redemption_id=redemption_id, actor=request.user,
                                 note=payload.validated_data["note"])
        redemption = selectors.redemptions_for_admin().get(pk=redemption_id)
        return Response(AdminRedemptionSerializer(redemption).data)
