"""Streak API: a member reads their own streak; an admin grants a member streak freezes."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import DomainError
from config.idempotency import idempotency_key
from config.permissions import has_perm
from engagement import selectors, streaks
from engagement.services import member_for_user
from engagement.throttles import EngagementRate


class StreakSerializer(serializers.Serializer):
    current = serializers.IntegerField(help_text="Consecutive active days up to today or yesterday; 0 once broken.")
    best = serializers.IntegerField(help_text="The longest streak so far.")
    freezes = serializers.IntegerField(help_text="Freezes left; each bridges one missed day.")
    freezes_used = serializers.IntegerField()
    active_today = serializers.BooleanField()
    last_active_day = serializers.DateField(allow_null=True, help_text="In the project time zone.")


class StreakView(APIView):
    throttle_classes = [EngagementRate]
    rate_scope = "streak"

    @extend_schema(responses={200: StreakSerializer}, summary="The member's streak of consecutive active days")
    def get(self, request):
        return Response(StreakSerializer(streaks.status(member=member_for_user(request.user))).data)


class AdminStreakOutputSerializer(StreakSerializer):
    user_id = serializers.IntegerField()
    replayed = serializers.BooleanField(help_text="True when this was a retry (same Idempotency-Key) of a grant "
                                                  "already made: nothing was granted again.")


class AdminStreakFreezesView(APIView):
    permission_classes = [has_perm("engagement.grant_streak_freezes")]
    throttle_classes = [EngagementRate]
    rate_scope = "admin"

    class InputSerializer(serializers.Serializer):
        count = serializers.IntegerField(min_value=1, max_value=streaks.MAX_FREEZE_GRANT)

    @extend_schema(request=InputSerializer, responses={200: AdminStreakOutputSerializer},
                   summary="Grant a member streak freezes")
    def post(self, request, user_id: int):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        member = selectors.member_by_user_id(user_id)
        if member is None:
            raise DomainError("No such member.", code="member_not_found", status_code=404)
        _, created = streaks.grant_freezes(member=member, count=payload.validated_data["count"], actor=request.user,
                                           idempotency_key=idempotency_key(request, scope="freezes"))
        status = streaks.status(member=member)
        return Response(AdminStreakOutputSerializer({**vars(status), "user_id": member.user_id,
                                                     "replayed": not created}).data)
