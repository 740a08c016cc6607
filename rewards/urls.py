from django.urls import path

from rewards import api

# Paths exactly as the engagement contract spells them (no trailing slash, never redirected).
urlpatterns = [
    path("engagement/rewards", api.RewardsView.as_view(), name="engagement-rewards"),
    path("engagement/redeem", api.RedeemView.as_view(), name="engagement-redeem"),
    path("engagement/redemptions", api.RedemptionsView.as_view(), name="engagement-redemptions"),
    path("admin/engagement/rewards", api.AdminRewardsView.as_view(), name="admin-engagement-rewards"),
    path("admin/engagement/rewards/<int:reward_id>", api.AdminRewardView.as_view(), name="admin-engagement-reward"),
    path("admin/engagement/rewards/<int:reward_id>/image", api.AdminRewardImageView.as_view(),
         name="admin-engagement-reward-image"),
    path("admin/engagement/redemptions", api.AdminRedemptionsView.as_view(), name="admin-engagement-redemptions"),
    path("admin/engagement/redemptions/<int:redemption_id>", api.AdminRedemptionView.as_view(),
         name="admin-engagement-redemption"),
]
