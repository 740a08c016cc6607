"""Moderation API: admins ban and unban members; a banned member asks to be unbanned."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from config.permissions import has_perm
from engagement import moderation, selectors
from engagement.models import Ban, UnbanRequest
from engagement.services import member_for_user
from engagement.throttles import EngagementRate


class BanSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="member.user_id")
    active = serializers.SerializerMethodField()

    class Meta:
        model = Ban
        fields = ["id", "user_id", "reason", "until", "created", "ended_at", "end", "active"]

    def get_active(self, ban: Ban) -> bool:
        return ban.ended_at is None


class UnbanRequestSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="member.user_id")

    class Meta:
        model = UnbanRequest
        fields = ["id", "user_id", "ban", "message", "status", "note", "created", "decided_at"]


def _member(user_id: int):
    member = selectors.member_by_user_id(user_id)
    if member is None:
        raise DomainError("No such member.", code="member_not_found", status_code=404)
    return member


class AdminBanView(APIView):
    permission_classes = [has_perm("engagement.ban_member")]
    throttle_classes = [EngagementRate]
    rate_scope = "admin"

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=moderation.MAX_REASON)
        until = serializers.DateTimeField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses={201: BanSerializer}, summary="Ban a member")
    def post(self, request, user_id: int):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ban = moderation.ban_member(member=_member(user_id), actor=request.user, **payload.validated_data)
        return Response(BanSerializer(ban).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: BanSerializer}, summary="Lift a member's ban")
    def delete(self, request, user_id: int):
        ban = moderation.unban_member(member=_member(user_id), actor=request.user)
        ban.refresh_from_db()
        return Response(BanSerializer(ban).data)


class UnbanRequestView(APIView):
    throttle_classes = [EngagementRate]
    rate_scope = "unban_request"

    class InputSerializer(serializers.Serializer):
        message = serializers.CharField(max_length=2000)

    @extend_schema(request=InputSerializer, responses={201: UnbanRequestSerializer},
                   summary="Ask for your ban to be lifted")
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        unban_request = moderation.request_unban(member=member_for_user(request.user),
                                                 message=payload.validated_data["message"])
        return Response(UnbanRequestSerializer(unban_request).data, status=status.HTTP_201_CREATED)
