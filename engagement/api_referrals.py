"""GET/POST /api/v1/engagement/referral: the member's invite link, and joining with someone's code."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from engagement import referrals
from engagement.services import member_for_user
from engagement.throttles import EngagementRate


class ReferralView(APIView):
    throttle_classes = [EngagementRate]
    rate_scopes = {"GET": "profile_read", "POST": "profile_write"}

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        link = serializers.CharField(help_text="Absolute invite link (/join/<code>/ on SITE_URL).")
        invited = serializers.IntegerField(help_text="Members who joined with this code.")
        credited = serializers.IntegerField(help_text="Of those, how many have been credited.")
        inviter_points = serializers.IntegerField(help_text="What the member gets per credited invite.")
        invitee_points = serializers.IntegerField(help_text="What each invited friend gets.")
        referred_by = serializers.CharField(allow_null=True, help_text="Who invited this member, if anyone.")

    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=32)

    class JoinedSerializer(serializers.Serializer):
        inviter = serializers.CharField(source="inviter.display_name")
        status = serializers.CharField()
        replayed = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer, summary="The member's invite code, link and invitation counts")
    def get(self, request):
        member = member_for_user(request.user)
        code = referrals.code_for(member=member).code
        inviter = referrals.referred_by(member=member)
        body = {"code": code, "link": referrals.invite_link(code), **referrals.invitation_counts(member=member),
                "inviter_points": referrals.inviter_points(), "invitee_points": referrals.invitee_points(),
                "referred_by": inviter.display_name if inviter else None}
        return Response(self.OutputSerializer(body).data)

    @extend_schema(request=InputSerializer, responses={201: JoinedSerializer, 200: JoinedSerializer},
                   summary="Join with someone's invite code (before the member's first points)")
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        referral = referrals.attach_referral(member=member_for_user(request.user), code=payload.validated_data["code"])
        return Response(self.JoinedSerializer(referral).data,
                        status=status.HTTP_200_OK if referral.replayed else status.HTTP_201_CREATED)
