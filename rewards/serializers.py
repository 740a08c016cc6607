"""Output shapes of the rewards endpoints (the engagement contract's field names).

Stock is ``NULL`` (unlimited) in the database and ``-1`` in JSON, both ways; ``StockField`` is the only
place that translates.
"""

from rest_framework import serializers

from rewards.metadata import delivery
from rewards.models import WINDOW_OPEN, Redemption, Reward

MAX_INT = 2_147_483_647  # PositiveIntegerField's range on PostgreSQL


class StockField(serializers.IntegerField):
    """-1 = unlimited (NULL), 0 = out of stock, N = units left."""

    def __init__(self, **kwargs):
        super().__init__(min_value=-1, max_value=MAX_INT, **kwargs)

    def get_attribute(self, instance):
        # DRF would print None without calling to_representation; unlimited is -1 in the contract.
        value = super().get_attribute(instance)
        return -1 if value is None else value

    @staticmethod
    def to_model(value: int | None) -> int | None:
        """The database value for a validated JSON stock (after min/max validators ran on the integer)."""
        return None if value in (-1, None) else value


class RewardSerializer(serializers.ModelSerializer):
    stock = StockField()

    class Meta:
        model = Reward
        fields = ["id", "name", "type", "cost_points", "cost_type", "image_url", "stock", "active", "description"]


class StoreRewardSerializer(RewardSerializer):
    """The public list: the contract's fields plus the window and the member's limit (additive).

    Context: ``at`` (the one "now" of the request) and ``held`` ({reward id: the member's non-rejected
    redemptions}, only for rewards with a limit; empty for anonymous readers)."""

    available_now = serializers.SerializerMethodField()
    seconds_left = serializers.SerializerMethodField()
    starts_in = serializers.SerializerMethodField()
    remaining = serializers.SerializerMethodField()

    class Meta:
        model = Reward
        fields = [*RewardSerializer.Meta.fields, "available_from", "available_until", "available_now",
                  "seconds_left", "starts_in", "max_per_member", "remaining"]

    def get_available_now(self, reward: Reward) -> bool:
        return reward.window_state(self.context["at"]) == WINDOW_OPEN

    def get_seconds_left(self, reward: Reward) -> int | None:
        """Seconds until the offer ends (null: no end)."""
        return reward.seconds_left(self.context["at"])

    def get_starts_in(self, reward: Reward) -> int | None:
        """Seconds until an upcoming offer opens (null once open or without a start)."""
        at = self.context["at"]
        if reward.available_from is None or reward.available_from <= at:
            return None
        return int((reward.available_from - at).total_seconds())

    def get_remaining(self, reward: Reward) -> int | None:
        """Redemptions this member has left (null: no limit, or nobody signed in)."""
        held = self.context.get("held")
        if reward.max_per_member is None or held is None:
            return None
        return max(0, reward.max_per_member - held.get(reward.pk, 0))


class AdminRewardSerializer(RewardSerializer):
    class Meta:
        model = Reward
        fields = [*RewardSerializer.Meta.fields, "metadata", "available_from", "available_until", "max_per_member",
                  "created", "updated"]


class RewardBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reward
        fields = ["id", "name", "type", "image_url"]


class RedemptionSerializer(serializers.ModelSerializer):
    reward = RewardBriefSerializer()
    created_at = serializers.DateTimeField(source="created")
    delivery = serializers.SerializerMethodField()

    class Meta:
        model = Redemption
        fields = ["id", "status", "cost_points", "cost_type", "reward", "note", "created_at", "decided_at",
                  "fulfilled_at", "delivery"]

    def get_delivery(self, redemption: Redemption) -> dict:
        # Coupon codes and download links are shown only once an admin approved the redemption.
        if redemption.status not in (Redemption.Status.APPROVED, Redemption.Status.FULFILLED):
            return {}
        return delivery(redemption.reward_type, redemption.reward.metadata)


class MemberBriefSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="display_name")
    email = serializers.EmailField(source="user.email")
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")


class AdminRedemptionSerializer(RedemptionSerializer):
    member = MemberBriefSerializer()
    decided_by = serializers.CharField(source="decided_by.get_username", default=None)
    fulfilled_by = serializers.CharField(source="fulfilled_by.get_username", default=None)
    spend_entry_id = serializers.IntegerField(allow_null=True)
    refund_entry_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Redemption
        fields = [*RedemptionSerializer.Meta.fields, "member", "decided_by", "fulfilled_by", "spend_entry_id",
                  "refund_entry_id", "updated"]
