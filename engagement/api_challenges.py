"""GET /api/v1/engagement/challenges: the member's challenges with progress, time left and completion."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from engagement import challenges
from engagement.services import member_for_user
from engagement.throttles import EngagementRate


class ProgressSerializer(serializers.Serializer):
    current = serializers.IntegerField()
    target = serializers.IntegerField()


# Module level rather than nested in the view: the output nests them, and the schema names them.
class GoalSerializer(serializers.Serializer):
    type = serializers.CharField(source="rule.type")
    reason = serializers.CharField(source="rule.reason", default=None, allow_null=True)
    label = serializers.CharField()
    progress = ProgressSerializer(source="progress.as_dict")


class ChallengeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="challenge.pk")
    code = serializers.CharField(source="challenge.code")
    title = serializers.CharField(source="challenge.display_title")
    description = serializers.CharField(source="challenge.display_description")
    icon = serializers.CharField(source="challenge.icon")
    points = serializers.IntegerField(source="challenge.points")
    xp = serializers.IntegerField(source="challenge.xp")
    activity = serializers.CharField(source="challenge.activity.slug", default=None, allow_null=True)
    starts_at = serializers.DateTimeField(source="challenge.starts_at")
    ends_at = serializers.DateTimeField(source="challenge.ends_at")
    seconds_left = serializers.IntegerField(help_text="Until ends_at; 0 once it has ended.")
    completed = serializers.BooleanField()
    completed_at = serializers.DateTimeField(source="completion.completed_at", default=None, allow_null=True)
    # Overall: a single goal's own count, else goals met of all goals (like achievements).
    progress = ProgressSerializer(source="progress.as_dict")
    goals = GoalSerializer(many=True)


class OutputSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=challenges.STATES)
    challenges = ChallengeSerializer(many=True)


class ChallengesView(APIView):
    throttle_classes = [EngagementRate]
    rate_scope = "challenges"

    class QuerySerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=challenges.STATES, default="open",
                                        help_text="open: running now; completed: the member's; all: every "
                                                  "started challenge and the member's completed ones")

    @extend_schema(parameters=[QuerySerializer], responses={200: OutputSerializer},
                   summary="The member's challenges with progress, time left and completion")
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        state = query.validated_data["state"]
        member = member_for_user(request.user)
        items = challenges.statuses(member=member, state=state)
        return Response({"state": state, "challenges": ChallengeSerializer(items, many=True).data})
