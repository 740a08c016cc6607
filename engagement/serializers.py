"""Output shapes shared by several endpoints (the engagement contract's field names)."""

from django.utils import timezone
from rest_framework import serializers

from engagement import levels
from engagement.models import LedgerEntry, Member
from engagement.selectors import unlocked_achievement_count


class NullIfBlank(serializers.CharField):
    """An optional URL the specification shows as ``null`` when unset (stored as "" in the column)."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, **kwargs)

    def to_representation(self, value):
        return value or None


class ProfileSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="user.pk")
    avatar_url = NullIfBlank()
    animated_avatar_url = NullIfBlank()
    achievements = serializers.SerializerMethodField()
    level_title = serializers.CharField()
    level_color = serializers.CharField()
    xp_into_level = serializers.IntegerField()
    xp_for_next_level = serializers.IntegerField()
    banned = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "user_id", "points", "level", "xp", "username", "avatar_url", "animated_avatar_url",
            "avatar_upload_unlocked", "achievements", "level_title", "level_color", "xp_into_level",
            "xp_for_next_level",
            "show_on_leaderboard", "banned", "banned_until",
        ]

    def get_banned(self, member: Member) -> bool:
        return member.ban_in_force(timezone.now())

    def get_achievements(self, member: Member) -> int:
        return unlocked_achievement_count(member=member)


class EntrySerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="member.user_id")
    delta = serializers.IntegerField(source="points")
    xp_delta = serializers.IntegerField(source="xp")
    created_at = serializers.DateTimeField(source="created")
    activity_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = LedgerEntry
        fields = ["id", "user_id", "delta", "xp_delta", "reason", "meta", "activity_id", "created_at"]

    # The fields above declare the shape (and the OpenAPI schema); ``to_representation`` builds the same
    # JSON without them: a ModelSerializer builds and deep-copies its fields for every instance, which
    # cost more CPU than the award an events call answers with it. Each value is what the field would
    # give: None for None, else int/str/the JSON as is, and DRF's own rendering of the datetime.
    def to_representation(self, entry) -> dict:
        pk, points, xp, reason = entry.id, entry.points, entry.xp, entry.reason
        user_id, activity_id = entry.member.user_id, entry.activity_id
        return {
            "id": None if pk is None else int(pk),
            "user_id": None if user_id is None else int(user_id),
            "delta": None if points is None else int(points),
            "xp_delta": None if xp is None else int(xp),
            "reason": None if reason is None else str(reason),
            "meta": entry.meta,
            "activity_id": None if activity_id is None else int(activity_id),
            "created_at": _CREATED_AT.to_representation(entry.created),
        }


_CREATED_AT = serializers.DateTimeField()


class LeaderboardRowSerializer(serializers.Serializer):
    """One board row (``engagement.leaderboards.Row``). The fields declare the shape (and the OpenAPI
    schema); ``to_representation`` builds the same JSON straight from the row's plain values, which is
    several times cheaper than DRF's per-field path on a 100-row page."""

    rank = serializers.IntegerField()
    user_id = serializers.IntegerField(source="member.user_id")
    first_name = serializers.CharField(source="member.first_name")
    last_name = serializers.CharField(source="member.last_name")
    username = serializers.CharField(source="member.display_name")
    role = serializers.SerializerMethodField()
    points = serializers.IntegerField()
    level = serializers.IntegerField()
    level_color = serializers.SerializerMethodField()
    xp = serializers.IntegerField()
    value = serializers.IntegerField()
    avatar_url = NullIfBlank(source="member.avatar_url")
    animated_avatar_url = NullIfBlank(source="member.animated_avatar_url")

    def get_level_color(self, row) -> str:
        return levels.color_for_level(row.level)

    def get_role(self, row) -> str:
        return row.member.role

    def to_representation(self, row) -> dict:
        member = row.member
        return {
            "rank": row.rank, "user_id": member.user_id, "first_name": member.first_name,
            "last_name": member.last_name, "username": member.display_name, "role": self.get_role(row),
            "points": row.points, "level": row.level, "level_color": self.get_level_color(row),
            "xp": row.xp, "value": row.value, "avatar_url": member.avatar_url or None,
            "animated_avatar_url": member.animated_avatar_url or None,
        }


class AdminLeaderboardRowSerializer(LeaderboardRowSerializer):
    email = serializers.EmailField(source="member.email")

    def to_representation(self, row) -> dict:
        return {**super().to_representation(row), "email": row.member.email}


class LeaderboardSerializer(serializers.Serializer):
    metric = serializers.CharField()
    window = serializers.CharField(help_text='"season" on a season board.')
    season = serializers.CharField(required=False, help_text="The season's slug, on a season board only.")
    activity = serializers.CharField(allow_null=True)
    items = LeaderboardRowSerializer(many=True)
    me = LeaderboardRowSerializer(allow_null=True)


class AdminLeaderboardSerializer(LeaderboardSerializer):
    items = AdminLeaderboardRowSerializer(many=True)
    me = AdminLeaderboardRowSerializer(allow_null=True)
