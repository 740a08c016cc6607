"""Output shapes of the rewards endpoints (the engagement contract's field names).

Stock is ``NULL`` (unlimited) in the database and ``-1`` in JSON, both ways; ``StockField`` is the only
place that translates.
"""

from rest_framework import serializers

from rewards.metadata import delivery
from rewards.models import Redemption, Reward

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


class AdminRewardSerializer(RewardSerializer):
    class Meta:
        model = Reward
        fields = [*RewardSerializer.Meta.fields, "metadata", "available_from", "available_until", "created",
                  "updated"]


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
