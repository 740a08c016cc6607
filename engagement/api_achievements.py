"""GET /api/v1/engagement/achievements: the member's achievements with progress, and their counters."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from engagement import achievements
from engagement.services import member_for_user
from engagement.throttles import EngagementRate


class AchievementCategorySerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField(source="display_title")
    icon = serializers.CharField()
    position = serializers.IntegerField()


class AchievementsView(APIView):
    throttle_classes = [EngagementRate]
    rate_scope = "achievements"

    class ProgressSerializer(serializers.Serializer):
        current = serializers.IntegerField()
        target = serializers.IntegerField()

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="achievement.pk")
        code = serializers.CharField(source="achievement.code")
        title = serializers.CharField(source="achievement.display_title")
        description = serializers.CharField(source="achievement.display_description")
        points = serializers.IntegerField(source="achievement.points")
        xp = serializers.IntegerField(source="achievement.xp")
        icon = serializers.CharField(source="achievement.icon")
        achieved = serializers.SerializerMethodField()
        achieved_at = serializers.DateTimeField(source="unlocked.unlocked_at", default=None)
        progress = serializers.SerializerMethodField()
        # Added after the contract (additive: clients that do not know it ignore it); null when uncategorised.
        category = AchievementCategorySerializer(source="achievement.category", allow_null=True)

        def get_achieved(self, status) -> bool:
            return status.unlocked is not None

        def get_progress(self, status) -> dict:
            return status.progress.as_dict()

    @extend_schema(responses={200: dict}, summary="The member's achievements, progress and counters")
    def get(self, request):
        member = member_for_user(request.user)
        return Response({
            "achievements": self.OutputSerializer(achievements.statuses(member=member), many=True).data,
            "counters": achievements.counters(member=member),
        })
